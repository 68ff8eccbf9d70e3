// Text formatting for terminal reports.
import { PF } from "../arch/x86.js";
import type { Translation } from "../mmu.js";

export function hex(v: bigint | number, width = 0): string {
  return "0x" + v.toString(16).padStart(width, "0");
}

/** The #PF error code spelled out, e.g. "prot write user". */
export function pfErrorCode(ec: number): string {
  const bits: [number, string, string][] = [[PF.PROT, "prot", "not-present"], [PF.WRITE, "write", "read"],
    [PF.USER, "user", "supervisor"], [PF.RSVD, "rsvd", ""], [PF.INSTR, "fetch", ""]];
  return bits.map(([b, on, off]) => (ec & b ? on : off)).filter(Boolean).join(" ");
}

export function describeTranslation(t: Translation): string {
  if (t.ok) {
    const size = t.pageSize >= 1 << 30 ? "1G" : t.pageSize >= 1 << 21 ? "2M" : "4K";
    return `${hex(t.pa, 12)}  (${size} page)`;
  }
  if (t.fault === "#PF") return `#PF error code ${hex(t.errorCode)} [${pfErrorCode(t.errorCode)}]`;
  if (t.fault === "#GP") return "#GP(0): non-canonical address";
  return `bus fault at physical ${hex(t.pa ?? 0n)}`;
}

/** A plain text table with a header row, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
