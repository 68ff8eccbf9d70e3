// An independent reference model of IA-32e 4-level linear-address translation, written from the
// Intel SDM Vol. 3A, chapter 4 (not from the core):
//   4.5   4-level paging: CR3 -> PML4E -> PDPTE (PS = 1: 1 GiB page) -> PDE (PS = 1: 2 MiB page) -> PTE;
//         canonical addresses (bits 63..47 equal; otherwise #GP, CR2 untouched); reserved bits
//         (Tables 4-14..4-20): bits MAXPHYADDR..51 of every present entry, bit 63 (XD) when
//         IA32_EFER.NXE = 0, bit 7 (PS) of a PML4E, bits 29..13 of a 1 GiB leaf, bits 20..13 of a
//         2 MiB leaf (bit 12 of a large leaf is PAT, bit 7 of a PTE is PAT). Reserved bits of an entry
//         with P = 0 are not checked.
//   4.6   access rights: a "user-mode address" has U/S = 1 in every entry, a writable one R/W = 1 in
//         every entry, an execute-disabled one XD = 1 in some entry; 4.6.1 lists what supervisor-mode
//         and user-mode accesses may do under CR0.WP, CR4.SMEP, CR4.SMAP, RFLAGS.AC, EFER.NXE.
//         Every access at CPL 3 is a user-mode access except implicit supervisor-mode accesses.
//   4.7   #PF error code: P (bit 0) = 0 not present / 1 protection or reserved bit; W/R (bit 1);
//         U/S (bit 2) for a user-mode access; RSVD (bit 3); I/D (bit 4) for an instruction fetch when
//         CR4.SMEP = 1 or (CR4.PAE = 1 and EFER.NXE = 1). CR2 = the linear address.
//   4.8   accessed and dirty flags.
// Modelled choices shared with the emulator (not architectural): a physical address of a paging
// structure at or above the RAM that carries contents ("backed"), or a final physical address at or
// above the RAM size, is a bus fault (vector 18) with cr2 = the linear address and pa = that physical
// address. A is set on each non-leaf entry as the walk uses it (after its P and reserved-bit checks);
// on the leaf A (and D for a write) is set only when the translation succeeds. With CR0.PG = 0 the
// linear address is the physical address (pageSize 4096).
// Memory is only read through read64(pa) (pa < backedBytes, 8-byte aligned); the entry updates the walk
// would make are returned in `writes` and seen by the walk's own later reads (a recursive mapping).

export interface RefAccess { write?: boolean; user?: boolean; fetch?: boolean; implicit?: boolean }

export interface RefRegs { cr0: bigint; cr3: bigint; cr4: bigint; efer: bigint; rflags: bigint; cpl: number }

export interface RefPlatform {
  maxPhysAddr: number;
  /** Bytes of RAM: physical addresses from here up are outside memory. */
  ramBytes: bigint;
  /** Bytes of RAM with contents: paging structures must lie below this. */
  backedBytes: bigint;
  read64(pa: bigint): bigint;
}

export type RefOutcome =
  | { ok: true; pa: bigint; pageSize: number }
  | { ok: false; fault: "#GP"; errorCode: 0 }
  | { ok: false; fault: "#PF"; errorCode: number; cr2: bigint }
  | { ok: false; fault: "bus"; errorCode: 0; cr2: bigint; pa: bigint };

export interface RefWrite { pa: bigint; old: bigint; value: bigint }

export interface RefResult {
  outcome: RefOutcome;
  /** Physical addresses of the entries read, in walk order. */
  reads: bigint[];
  /** Entry updates (A/D), in order; a later write to the same entry supersedes an earlier one. */
  writes: RefWrite[];
  /** Level (4..1) at which the walk stopped, 0 if it did not walk. */
  level: number;
}

// Bit positions, from the SDM's figures (not imported from the code under test).
const bit = (n: number): bigint => 1n << BigInt(n);
const ENTRY_P = bit(0), ENTRY_RW = bit(1), ENTRY_US = bit(2), ENTRY_A = bit(5), ENTRY_D = bit(6), ENTRY_PS = bit(7), ENTRY_XD = bit(63);
const CR0_WP = bit(16), CR0_PG = bit(31);
const CR4_SMEP = bit(20), CR4_SMAP = bit(21);
const EFER_NXE = bit(11);
const RFLAGS_AC = bit(18);
const ERR_P = 1, ERR_WR = 2, ERR_US = 4, ERR_RSVD = 8, ERR_ID = 16;

/** Mask of bits lo..hi inclusive. */
export function bitRange(lo: number, hi: number): bigint {
  return hi < lo ? 0n : ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);
}

const U64 = (1n << 64n) - 1n;

/** Is va canonical for 48-bit linear addresses: bits 63..47 all 0 or all 1 (SDM 3.3.7.1, 4.5)? */
export function isCanonical48(va: bigint): boolean {
  const top = (va & U64) >> 47n;
  return top === 0n || top === (1n << 17n) - 1n;
}

/**
 * The access-rights decision of SDM 4.6.1 for a translation whose entries give userAddr (U/S = 1 at
 * every level), writable (R/W = 1 at every level) and xd (XD = 1 at some level).
 */
export function accessAllowed(
  kind: { write: boolean; fetch: boolean; user: boolean; implicit: boolean },
  t: { userAddr: boolean; writable: boolean; xd: boolean },
  r: { wp: boolean; smep: boolean; smap: boolean; nxe: boolean; ac: boolean },
): boolean {
  if (kind.user) {
    // User-mode accesses: only user-mode addresses.
    if (!t.userAddr) return false;
    // Instruction fetches: XD = 0 needed when NXE = 1.
    if (kind.fetch) return !(r.nxe && t.xd);
    // Data writes: R/W = 1 in every entry, whatever CR0.WP.
    if (kind.write) return t.writable;
    return true; // data reads
  }
  // Supervisor-mode accesses.
  if (kind.fetch) {
    // Fetches from user-mode addresses are refused with SMEP; otherwise as from supervisor addresses.
    if (t.userAddr && r.smep) return false;
    return !(r.nxe && t.xd);
  }
  // Data accesses to user-mode addresses with SMAP: only explicit ones with RFLAGS.AC = 1.
  if (t.userAddr && r.smap && (kind.implicit || !r.ac)) return false;
  // Data writes: with CR0.WP = 1 only through R/W = 1 at every level; with WP = 0 any.
  if (kind.write) return t.writable || !r.wp;
  return true;
}

/** Translate va for access under registers regs on platform plat, as SDM 4.5-4.8 describe. */
export function refWalk(plat: RefPlatform, regs: RefRegs, vaIn: bigint, access: RefAccess = {}): RefResult {
  const va = vaIn & U64;
  const reads: bigint[] = [];
  const writes: RefWrite[] = [];
  const overlay = new Map<bigint, bigint>();
  const read = (pa: bigint): bigint => {
    reads.push(pa);
    return overlay.has(pa) ? overlay.get(pa)! : plat.read64(pa) & U64;
  };
  const write = (pa: bigint, old: bigint, value: bigint): void => {
    overlay.set(pa, value);
    writes.push({ pa, old, value });
  };
  const done = (outcome: RefOutcome, level: number): RefResult => ({ outcome, reads, writes, level });

  if ((regs.cr0 & CR0_PG) === 0n) {
    if (va >= plat.ramBytes) return done({ ok: false, fault: "bus", errorCode: 0, cr2: va, pa: va }, 0);
    return done({ ok: true, pa: va, pageSize: 4096 }, 0);
  }
  if (!isCanonical48(va)) return done({ ok: false, fault: "#GP", errorCode: 0 }, 0);

  const write_ = access.write === true;
  const fetch = access.fetch === true;
  const implicit = access.implicit === true;
  // At CPL 3 every access is a user-mode access except implicit supervisor-mode ones.
  const user = access.user === true || (regs.cpl === 3 && !implicit);
  const r = {
    wp: (regs.cr0 & CR0_WP) !== 0n,
    smep: (regs.cr4 & CR4_SMEP) !== 0n,
    smap: (regs.cr4 & CR4_SMAP) !== 0n,
    nxe: (regs.efer & EFER_NXE) !== 0n,
    ac: (regs.rflags & RFLAGS_AC) !== 0n,
  };
  const M = plat.maxPhysAddr;
  // Error-code bits that describe the access (4.7); I/D only when SMEP or NXE (CR4.PAE is 1 here).
  const accessBits = (write_ ? ERR_WR : 0) | (user ? ERR_US : 0) | (fetch && (r.smep || r.nxe) ? ERR_ID : 0);
  const pf = (bits: number, level: number) =>
    done({ ok: false, fault: "#PF", errorCode: bits | accessBits, cr2: va }, level);

  const reservedAlways = bitRange(M, 51) | (r.nxe ? 0n : ENTRY_XD);
  const addrField = (lowBit: number) => bitRange(lowBit, M - 1);
  let table = regs.cr3 & addrField(12); // CR3 bits M-1..12: the PML4 table
  let writable = true, userAddr = true, xd = false;

  for (let level = 4; level >= 1; level--) {
    const shift = 12 + 9 * (level - 1);
    const index = (va >> BigInt(shift)) & 511n;
    const entryPa = table + index * 8n;
    if (entryPa >= plat.backedBytes) return done({ ok: false, fault: "bus", errorCode: 0, cr2: va, pa: entryPa }, level);
    const e = read(entryPa);
    if ((e & ENTRY_P) === 0n) return pf(0, level);
    const ps = (e & ENTRY_PS) !== 0n;
    const leaf = level === 1 || ((level === 2 || level === 3) && ps);
    let reserved = e & reservedAlways;
    if (level === 4) reserved |= e & ENTRY_PS;           // PML4E bit 7: reserved (must be 0)
    if (level === 3 && leaf) reserved |= e & bitRange(13, 29); // 1 GiB page: address bits 29:13 reserved
    if (level === 2 && leaf) reserved |= e & bitRange(13, 20); // 2 MiB page: bits 20:13 reserved
    if (reserved !== 0n) return pf(ERR_P | ERR_RSVD, level);
    writable = writable && (e & ENTRY_RW) !== 0n;
    userAddr = userAddr && (e & ENTRY_US) !== 0n;
    xd = xd || (e & ENTRY_XD) !== 0n;
    if (!leaf) {
      if ((e & ENTRY_A) === 0n) write(entryPa, e, e | ENTRY_A);
      table = e & addrField(12);
      continue;
    }
    if (!accessAllowed({ write: write_, fetch, user, implicit }, { userAddr, writable, xd }, r)) return pf(ERR_P, level);
    const frame = e & addrField(shift);
    const pa = frame | (va & bitRange(0, shift - 1));
    if (pa >= plat.ramBytes) return done({ ok: false, fault: "bus", errorCode: 0, cr2: va, pa }, level);
    const updated = e | ENTRY_A | (write_ ? ENTRY_D : 0n);
    if (updated !== e) write(entryPa, e, updated);
    return done({ ok: true, pa, pageSize: 2 ** shift }, level);
  }
  throw new Error("unreachable: level 1 is always a leaf");
}

/** The final value of every entry the walk updated. */
export function finalWrites(res: RefResult): Map<bigint, bigint> {
  const m = new Map<bigint, bigint>();
  for (const w of res.writes) m.set(w.pa, w.value);
  return m;
}
