// /proc/pid/maps for an emulated mm, read from shared memory (fs/proc/task_mmu.c show_map_vma, 2.6.3x
// format): "start-end perms offset dev inode", then the path padded to column 73 (64-bit) when the
// vma has a name: a file's, or [heap] for the vma around the program break.
import type { CoreExports } from "../core/abi.js";
import { constant } from "../core/abi.js";

/** One vma as the core keeps it (mm/mm_types.ts vm_area_struct). */
export interface VmaInfo {
  /** Address of the struct in shared memory. */
  addr: number;
  start: bigint;
  end: bigint;
  flags: number;
  pgoff: number;
  pageProt: bigint;
  /** address_space of a file mapping, 0 for anonymous. */
  file: number;
  anonVma: number;
}

export interface MapsSource {
  readonly memory: WebAssembly.Memory;
  readonly exports: CoreExports;
}

/** Options for formatting: names for files (by address_space address); default `/mmemu/file<ino>`. */
export interface MapsOptions {
  fileNames?: ReadonlyMap<number, string>;
}

function off(s: MapsSource, name: keyof CoreExports): number {
  return constant(s.exports, name);
}

/** The vmas of mm in address order (the vm_next list), read without locks: call it while no CPU runs MM code. */
export function readVmas(s: MapsSource, mm: number): VmaInfo[] {
  const dv = new DataView(s.memory.buffer);
  const out: VmaInfo[] = [];
  const limit = dv.getUint32(mm + off(s, "MM_MAP_COUNT"), true) + 1;
  for (let v = dv.getUint32(mm + off(s, "MM_MMAP"), true); v !== 0; v = dv.getUint32(v + off(s, "VMA_NEXT"), true)) {
    if (out.length > limit) throw new Error(`readVmas: the vma list of mm 0x${mm.toString(16)} is longer than map_count`);
    out.push({
      addr: v,
      start: dv.getBigUint64(v + off(s, "VMA_START"), true),
      end: dv.getBigUint64(v + off(s, "VMA_END"), true),
      flags: dv.getUint32(v + off(s, "VMA_FLAGS"), true),
      pgoff: dv.getUint32(v + off(s, "VMA_PGOFF"), true),
      pageProt: dv.getBigUint64(v + off(s, "VMA_PAGE_PROT"), true),
      file: dv.getUint32(v + off(s, "VMA_FILE"), true),
      anonVma: dv.getUint32(v + off(s, "VMA_ANON_VMA"), true),
    });
  }
  return out;
}

const hex = (x: bigint | number, w: number): string => x.toString(16).padStart(w, "0");

/** The text of /proc/pid/maps for mm. */
export function formatMaps(s: MapsSource, mm: number, opts: MapsOptions = {}): string {
  const dv = new DataView(s.memory.buffer);
  const startBrk = dv.getBigUint64(mm + off(s, "MM_START_BRK"), true);
  const brk = dv.getBigUint64(mm + off(s, "MM_BRK"), true);
  const VM_READ = off(s, "VM_READ"), VM_WRITE = off(s, "VM_WRITE"), VM_EXEC = off(s, "VM_EXEC"), VM_MAYSHARE = off(s, "VM_MAYSHARE");
  let text = "";
  for (const v of readVmas(s, mm)) {
    const perms = (v.flags & VM_READ ? "r" : "-") + (v.flags & VM_WRITE ? "w" : "-") + (v.flags & VM_EXEC ? "x" : "-") +
      (v.flags & VM_MAYSHARE ? "s" : "p");
    let ino = 0, dev = "00:00", name = "";
    if (v.file !== 0) {
      ino = dv.getUint32(v.file + off(s, "AS_INO"), true);
      dev = "00:01";
      name = opts.fileNames?.get(v.file) ?? `/mmemu/file${ino}`;
    } else if (startBrk !== 0n && v.start <= brk && v.end >= startBrk) {
      name = "[heap]";
    }
    const offset = v.file !== 0 ? BigInt(v.pgoff) << 12n : 0n;
    let line = `${hex(v.start, 8)}-${hex(v.end, 8)} ${perms} ${hex(offset, 8)} ${dev} ${ino} `;
    if (name) line += " ".repeat(Math.max(1, 73 - line.length)) + name;
    text += line + "\n";
  }
  return text;
}
