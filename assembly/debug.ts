// Debug-only invariant checks, after include/linux/mmdebug.h.
//
// In the debug build a failed invariant calls the host's `env.abort` with its message, which the
// host turns into an InvariantError naming the function and the invariant: never a bare trap.
// In the release build DEBUG is false and the check and its message compile to nothing.
import { DEBUG } from "./config";

/** VM_BUG_ON(cond, "function: invariant"): the invariant is the negation of cond. */
// @ts-ignore: decorator
@inline export function VM_BUG_ON(cond: bool, msg: string): void {
  if (DEBUG) {
    if (cond) abort(msg);
  }
}
