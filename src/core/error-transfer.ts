// comlink's "throw" transfer handler, replaced so that the host's typed errors (CpuStuckError with the
// CPU's state, InvariantError, LockdepError, ...) cross from a CPU worker to the host intact.
// Both sides install it before the first call.
import { transferHandlers, type TransferHandler } from "comlink";
import { MmemuError, deserializeError, serializeError, type SerializedError } from "./errors.js";

type Thrown = { value: unknown };
type Wire = { typed: true; error: SerializedError } | { typed: false; message: string; name: string; stack?: string } | { typed: false; raw: unknown };

const handler: TransferHandler<Thrown, Wire> = {
  canHandle: (v: unknown): v is Thrown => typeof v === "object" && v !== null && "value" in v && (v as { value?: unknown }).value !== undefined,
  serialize({ value }) {
    if (value instanceof MmemuError) return [{ typed: true, error: serializeError(value) }, []];
    if (value instanceof Error) return [{ typed: false, message: value.message, name: value.name, stack: value.stack }, []];
    return [{ typed: false, raw: value }, []];
  },
  deserialize(w) {
    if (w.typed) throw deserializeError(w.error);
    if ("raw" in w) throw w.raw;
    throw Object.assign(new Error(w.message), { name: w.name, stack: w.stack });
  },
};

let installed = false;

export function installErrorTransfer(): void {
  if (installed) return;
  const original = transferHandlers.get("throw");
  // Keep comlink's own detection of thrown values: it marks them with a symbol we cannot see, so
  // delegate canHandle to it and replace how they are encoded.
  if (original) handler.canHandle = original.canHandle as typeof handler.canHandle;
  transferHandlers.set("throw", handler as TransferHandler<unknown, unknown>);
  installed = true;
}
