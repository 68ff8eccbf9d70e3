// mmemu's public API.
export { Mmu, type Address, type AccessKind, type Translation, type Registers, type FrameOptions } from "./mmu.js";
export { Machine, type MachineCreateOptions, type CpuJob } from "./machine.js";
export { PageTableBuilder, TABLE_FLAGS, type PageSize } from "./pagetable.js";
export type { MachineOptions } from "./options.js";
export * from "./arch/x86.js";
export {
  MmemuError, ConfigError, ErrnoError, InvariantError, LockdepError, CpuStuckError, CpuDiedError, MachineDestroyedError,
  type CpuActivity,
} from "./core/errors.js";
export type { CpuStats } from "./core/cpu-state.js";
export type { CoreExports, CoreFunction } from "./core/abi.js";
