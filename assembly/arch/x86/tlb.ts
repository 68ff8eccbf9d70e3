// The per-CPU TLB (SDM Vol. 3A, 4.10), after arch/x86/mm/tlb.c's view of it.
//
// Three set-associative arrays in struct percpu, one per page size (4 KiB: TLB_4K_SETS x TLB_WAYS,
// 2 MiB: TLB_2M_SETS x TLB_WAYS, 1 GiB: TLB_1G_SETS x TLB_WAYS), replaced round robin per set.
// Each entry caches one translation with the rights of the whole walk, tagged by PCID:
//
//  tag (u64)
//   63 ........................ 16 15 14  13  12 ........... 1  0
//  +------------------------------+-----+---+-----------------+---+
//  | VPN = (va & 2^48-1) >> shift | 0 0 | G |      PCID       | V |
//  +------------------------------+-----+---+-----------------+---+
//  data (u64)
//   63  62  61 ..... 52 51 ................. 12 11 10 9  8  7  6  5 .. 3  2   1   0
//  +---+---+-----------+------------------------+-----+----+--+--+------+---+---+---+
//  |XD | T |    GEN    | frame physical address  | 0 |SIZE|0 | D|   0  | U | W | 0 |
//  +---+---+-----------+------------------------+-----+----+--+--+------+---+---+---+
//  W, U: R/W and U/S ANDed over all levels; XD: ORed (kept as read even when EFER.NXE = 0; the check
//  consults NXE). D: the leaf's dirty flag when cached: a write through an entry with D = 0 walks again
//  so the walker sets D in memory. SIZE: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB.
//  T, GEN: debug builds only (0 in the release build), for the stale-TLB detector (tlb_check.ts):
//  T = the frame (the head frame of a large page) was allocated when the entry was filled, GEN = the
//  low 10 bits of its allocation generation then (struct page's PAGE_GEN, mm/mm_types.ts).
//
// Rights are checked at every use against the current CR0.WP, CR4.SMEP/SMAP, RFLAGS.AC and CPL.
// Only the owning CPU touches its TLB, except while it is not running (arch/x86/smp.ts).
// Not modelled: paging-structure caches (PML4/PDPT/PD entry caches), separate instruction TLBs.
import {
  PC_STATS, PC_TLB_CURSOR, TLB_WAYS, TLB_4K_SETS, TLB_2M_SETS, TLB_1G_SETS, TLB_ENTRY_SIZE,
  TLB_4K_OFF, TLB_2M_OFF, TLB_1G_OFF, TLB_END,
} from "../../layout";
import { STAT_FLUSH_ONE, STAT_FLUSH_PCID, STAT_FLUSH_ALL, STAT_TLB_FILL } from "../../percpu";

export const TLB_V: u64 = 1;
export const TLB_PCID_SHIFT: u64 = 1;
export const TLB_PCID_MASK: u64 = 0xfff << TLB_PCID_SHIFT;
export const TLB_G: u64 = 1 << 13;
export const TLB_VPN_SHIFT: u64 = 16;
export const TLB_D_W: u64 = 1 << 1;
export const TLB_D_U: u64 = 1 << 2;
export const TLB_D_DIRTY: u64 = 1 << 6;
export const TLB_D_SIZE_SHIFT: u64 = 9;
export const TLB_D_XD: u64 = <u64>1 << 63;
export const TLB_D_ADDR: u64 = 0x000f_ffff_ffff_f000;
export const TLB_D_GEN_SHIFT: u64 = 52;
export const TLB_D_GEN_BITS: u32 = 10;
export const TLB_D_GEN: u64 = ((<u64>1 << TLB_D_GEN_BITS) - 1) << TLB_D_GEN_SHIFT;
export const TLB_D_TRACKED: u64 = <u64>1 << 62;

export const TLB_SIZE_4K: u32 = 0;
export const TLB_SIZE_2M: u32 = 1;
export const TLB_SIZE_1G: u32 = 2;

/** Argument of tlb_flush_all: every PCID. */
export const TLB_ALL_PCIDS: u32 = 0xffffffff;

const VA_MASK: u64 = 0x0000_ffff_ffff_ffff;

if (TLB_WAYS != 4) ERROR("tlb: probe() and tlb_fill_inline() handle exactly 4 ways");

// Count on the CPU whose TLB this is (p), which for a flush applied on behalf of an idle CPU is not the
// running one: that CPU is not running, and the initiator holds its mailbox lock.
// @ts-ignore: decorator
@inline function stat(p: usize, s: i32): void {
  const a = p + PC_STATS + (<usize>s << 3);
  store<u64>(a, load<u64>(a) + 1);
}

// Geometry of the array that caches pages of size class size (TLB_SIZE_*).
// @ts-ignore: decorator
@inline function size_shift(size: u32): u64 { return size == TLB_SIZE_4K ? 12 : (size == TLB_SIZE_2M ? 21 : 30); }
// @ts-ignore: decorator
@inline function size_sets(size: u32): u32 { return size == TLB_SIZE_4K ? TLB_4K_SETS : (size == TLB_SIZE_2M ? TLB_2M_SETS : TLB_1G_SETS); }
// @ts-ignore: decorator
@inline function size_array(size: u32): u32 { return size == TLB_SIZE_4K ? TLB_4K_OFF : (size == TLB_SIZE_2M ? TLB_2M_OFF : TLB_1G_OFF); }
// First replacement cursor of the array (one byte per set, 4 KiB sets first).
// @ts-ignore: decorator
@inline function size_cursors(size: u32): u32 { return size == TLB_SIZE_4K ? 0 : (size == TLB_SIZE_2M ? TLB_4K_SETS : TLB_4K_SETS + TLB_2M_SETS); }

/** Index of the set that caches key in the array of size class size. */
// @ts-ignore: decorator
@inline function set_index(size: u32, key: u64): u32 {
  return <u32>(key >> TLB_VPN_SHIFT) & (size_sets(size) - 1);
}

/** Offset in its array of the set that caches va's page, for size class size (set_index of its key x 64). */
// @ts-ignore: decorator
@inline function va_set_offset(size: u32, va: u64): usize {
  return <usize>(va >> (size_shift(size) - 6)) & ((size_sets(size) - 1) << 6);
}
if (TLB_WAYS * TLB_ENTRY_SIZE != 1 << 6) ERROR("tlb: va_set_offset() assumes 64-byte sets");

// @ts-ignore: decorator
@inline function set_ptr(p: usize, size: u32, si: u32): usize {
  return p + size_array(size) + <usize>si * TLB_WAYS * TLB_ENTRY_SIZE;
}

/** The VPN field of a tag for va in the array of pages of 2^shift bytes: ((va & VA_MASK) >> shift) << TLB_VPN_SHIFT. */
// @ts-ignore: decorator
@inline function tag_vpn(va: u64, shift: u64): u64 {
  const mask = (VA_MASK >> shift) << TLB_VPN_SHIFT;
  return shift <= TLB_VPN_SHIFT ? (va << (TLB_VPN_SHIFT - shift)) & mask : (va >> (shift - TLB_VPN_SHIFT)) & mask;
}

// @ts-ignore: decorator
@inline export function tlb_key(va: u64, shift: u64, pcid: u32): u64 {
  return tag_vpn(va, shift) | (<u64>pcid << TLB_PCID_SHIFT) | TLB_V;
}

/**
 * Does tag t translate the page of key (same VPN, and the same PCID unless the entry is global)?
 * key has G = 0, so a non-global entry matches when t == key, and a global one when t and key differ
 * in G and nowhere else outside the PCID. No branches: the probe below evaluates it for every way.
 */
// @ts-ignore: decorator
@inline function tag_matches(t: u64, key: u64): bool {
  return (t == key) | (((t ^ key) & ~TLB_PCID_MASK) == TLB_G);
}

// The entry of the set at set that matches key, the lowest way first, or 0. The ways are compared all
// at once and the hit is selected without branches: which way hits is as unpredictable as the
// replacement, and a loop that leaves at the hit mispredicts its exit. Without a global entry in the
// set, a match is an equal tag.
// @ts-ignore: decorator
@inline function probe(set: usize, key: u64): usize {
  const t0 = load<u64>(set), t1 = load<u64>(set, TLB_ENTRY_SIZE);
  const t2 = load<u64>(set, 2 * TLB_ENTRY_SIZE), t3 = load<u64>(set, 3 * TLB_ENTRY_SIZE);
  if (((t0 | t1 | t2 | t3) & TLB_G) != 0) return probe_global(set, key, t0, t1, t2, t3);
  let e: usize = t3 == key ? set + 3 * TLB_ENTRY_SIZE : 0;
  e = t2 == key ? set + 2 * TLB_ENTRY_SIZE : e;
  e = t1 == key ? set + TLB_ENTRY_SIZE : e;
  return t0 == key ? set : e;
}

// probe() for a set that holds a global entry (tags t0..t3).
// @ts-ignore: decorator
@inline function probe_global(set: usize, key: u64, t0: u64, t1: u64, t2: u64, t3: u64): usize {
  let e: usize = tag_matches(t3, key) ? set + 3 * TLB_ENTRY_SIZE : 0;
  e = tag_matches(t2, key) ? set + 2 * TLB_ENTRY_SIZE : e;
  e = tag_matches(t1, key) ? set + TLB_ENTRY_SIZE : e;
  return tag_matches(t0, key) ? set : e;
}

// The entry of the size-class array that translates va under pcid, or 0.
// @ts-ignore: decorator
@inline function lookup_size(p: usize, size: u32, va: u64, pcid: u32): usize {
  return probe(p + size_array(size) + va_set_offset(size, va), tlb_key(va, size_shift(size), pcid));
}

/**
 * tlb_probe_4k - tlb_lookup_4k with the low bits of the key given: tag_low = (pcid << TLB_PCID_SHIFT)
 * | TLB_V (the mode word has them, processor.ts).
 */
// @ts-ignore: decorator
@inline export function tlb_probe_4k(p: usize, va: u64, tag_low: u64): usize {
  return probe(p + TLB_4K_OFF + va_set_offset(TLB_SIZE_4K, va), tag_vpn(va, 12) | tag_low);
}

/** tlb_lookup_4k - the entry of CPU p's 4 KiB array that translates va under pcid, or 0. */
// @ts-ignore: decorator
@inline export function tlb_lookup_4k(p: usize, va: u64, pcid: u32): usize {
  return lookup_size(p, TLB_SIZE_4K, va, pcid);
}

/** tlb_lookup_large - the entry of CPU p's 2 MiB array, else of its 1 GiB array, that translates va under pcid, or 0. */
// @ts-ignore: decorator
@inline export function tlb_lookup_large(p: usize, va: u64, pcid: u32): usize {
  const e = lookup_size(p, TLB_SIZE_2M, va, pcid);
  return e != 0 ? e : lookup_size(p, TLB_SIZE_1G, va, pcid);
}

/**
 * tlb_lookup - the entry of CPU p's TLB that translates va under pcid, or 0 on a miss.
 * Probes the 4 KiB array, then 2 MiB, then 1 GiB (real TLBs probe in parallel).
 */
// @ts-ignore: decorator
@inline export function tlb_lookup(p: usize, va: u64, pcid: u32): usize {
  const e = tlb_lookup_4k(p, va, pcid);
  return e != 0 ? e : tlb_lookup_large(p, va, pcid);
}

/** Page shift (12, 21, 30) of a cached translation, from its data word. */
// @ts-ignore: decorator
@inline export function tlb_page_shift(data: u64): u32 {
  return <u32>size_shift(<u32>(data >> TLB_D_SIZE_SHIFT) & 3);
}

/** Page-offset mask of a cached translation, from its data word. */
// @ts-ignore: decorator
@inline export function tlb_offset_mask(data: u64): u64 {
  return (<u64>1 << <u64>tlb_page_shift(data)) - 1;
}

// @ts-ignore: decorator
@inline export function tlb_invalidate_entry(e: usize): void {
  store<u64>(e, 0);
}

/**
 * tlb_fill - cache a translation in CPU p's TLB: page size class size, frame base frame (aligned to
 * the page size), effective rights (TLB_D_W/U/XD), dirty flag (and, in debug builds, the stale-TLB
 * detector's TLB_D_TRACKED | TLB_D_GEN, tlb_check.ts) and global flag. Replaces an invalid way if the
 * set has one, else the set's round-robin victim.
 */
export function tlb_fill(p: usize, va: u64, pcid: u32, size: u32, frame: u64, rights: u64, global: bool): void {
  tlb_fill_inline(p, va, pcid, size, frame, rights, global);
}

/** tlb_fill_inline - tlb_fill, inlined (the walker's, with a constant size). */
// @ts-ignore: decorator
@inline export function tlb_fill_inline(p: usize, va: u64, pcid: u32, size: u32, frame: u64, rights: u64, global: bool): void {
  const key = tlb_key(va, size_shift(size), pcid) | (global ? TLB_G : 0);
  const si = set_index(size, key);
  const set = set_ptr(p, size, si);
  // The first invalid way, without a loop (as probe()).
  let victim: usize = (load<u64>(set, 3 * TLB_ENTRY_SIZE) & TLB_V) == 0 ? set + 3 * TLB_ENTRY_SIZE : 0;
  victim = (load<u64>(set, 2 * TLB_ENTRY_SIZE) & TLB_V) == 0 ? set + 2 * TLB_ENTRY_SIZE : victim;
  victim = (load<u64>(set, TLB_ENTRY_SIZE) & TLB_V) == 0 ? set + TLB_ENTRY_SIZE : victim;
  victim = (load<u64>(set) & TLB_V) == 0 ? set : victim;
  if (victim == 0) {
    const c = p + PC_TLB_CURSOR + size_cursors(size) + si;
    const w = <u32>load<u8>(c);
    store<u8>(c, <u8>((w + 1) & (TLB_WAYS - 1)));
    victim = set + <usize>w * TLB_ENTRY_SIZE;
  }
  store<u64>(victim + 8, (frame & TLB_D_ADDR) | rights | (<u64>size << TLB_D_SIZE_SHIFT));
  store<u64>(victim, key);
  stat(p, STAT_TLB_FILL);
}

/**
 * tlb_flush_one - INVLPG va: drop the translations of va (every page size) for pcid and any global
 * translation of va whatever its PCID (SDM 4.10.4.1). With keep_global the globals stay: INVPCID
 * type 0 (individual address).
 */
export function tlb_flush_one(p: usize, va: u64, pcid: u32, keep_global: bool): void {
  for (let size: u32 = TLB_SIZE_4K; size <= TLB_SIZE_1G; size++) {
    const key = tlb_key(va, size_shift(size), pcid);
    const set = set_ptr(p, size, set_index(size, key));
    for (let w: u32 = 0; w < TLB_WAYS; w++) {
      const e = set + <usize>w * TLB_ENTRY_SIZE;
      const t = load<u64>(e);
      if (tag_matches(t, key) && !(keep_global && (t & TLB_G) != 0)) store<u64>(e, 0);
    }
  }
  stat(p, STAT_FLUSH_ONE);
}

/** tlb_flush_pcid - drop every non-global translation tagged pcid (MOV to CR3; INVPCID type 1). */
export function tlb_flush_pcid(p: usize, pcid: u32): void {
  const want = <u64>pcid << TLB_PCID_SHIFT;
  for (let e = p + TLB_4K_OFF; e < p + TLB_END; e += TLB_ENTRY_SIZE) {
    const t = load<u64>(e);
    if ((t & (TLB_G | TLB_V)) == TLB_V && (t & TLB_PCID_MASK) == want) store<u64>(e, 0);
  }
  stat(p, STAT_FLUSH_PCID);
}

/**
 * tlb_flush_all - drop every translation of pcid, or of every PCID with TLB_ALL_PCIDS; globals too
 * unless keep_global (INVPCID type 2 = all, type 3 = all but globals; CR4.PGE toggles drop all).
 */
export function tlb_flush_all(p: usize, pcid: u32, keep_global: bool): void {
  const want = <u64>pcid << TLB_PCID_SHIFT;
  for (let e = p + TLB_4K_OFF; e < p + TLB_END; e += TLB_ENTRY_SIZE) {
    const t = load<u64>(e);
    if ((t & TLB_V) == 0) continue;
    if (keep_global && (t & TLB_G) != 0) continue;
    if (pcid != TLB_ALL_PCIDS && (t & TLB_PCID_MASK) != want && (t & TLB_G) == 0) continue;
    store<u64>(e, 0);
  }
  stat(p, STAT_FLUSH_ALL);
}

/** How many valid entries CPU p's TLB holds (for statistics and tests). */
export function tlb_count_valid(p: usize): u32 {
  let n: u32 = 0;
  for (let e = p + TLB_4K_OFF; e < p + TLB_END; e += TLB_ENTRY_SIZE) if ((load<u64>(e) & TLB_V) != 0) n++;
  return n;
}
