// Which build this is. MMEMU_VIRTUAL is introduced by the virtual builds (asconfig.json targets
// "virtual" and "virtual-debug"), which Binaryen's Asyncify pass turns into coroutines: one instance
// runs every CPU, switched by the host's scheduler. The other builds run one CPU per instance.

// @ts-ignore: decorator
@inline export const VIRTUAL: bool = isDefined(MMEMU_VIRTUAL);
