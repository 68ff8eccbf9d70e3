// Exceptions the paging unit raises, recorded in the CPU's fault record (struct percpu +64):
//
//   +64 vector u32 | +68 error_code u32 | +72 cr2 u64 (the faulting linear address) | +80 addr u64
//
// Translation returns the negated vector so a caller can branch on the sign alone:
//   -13 #GP(0)  non-canonical linear address (no CR2, no error code)
//   -14 #PF     error code as SDM 4.7 (P, W/R, U/S, RSVD, I/D); CR2 = the linear address
//   -18 bus     a physical address outside RAM (or, for a paging structure, outside the frames that
//               carry contents); addr = that physical address. A real machine would see a master
//               abort or a machine check; the model reports vector 18 (#MC) and never touches memory
//               outside the frames.
import { PC_FAULT_VECTOR, PC_FAULT_ERROR, PC_FAULT_CR2, PC_FAULT_ADDR } from "../../layout";
import { count_event, STAT_PF, STAT_GP, STAT_BUS_FAULT } from "../../percpu";

export const X86_TRAP_GP: i32 = 13;
export const X86_TRAP_PF: i32 = 14;
export const X86_TRAP_MC: i32 = 18;

/** Record a #PF with error code ec at va on CPU p; returns -X86_TRAP_PF. */
export function raise_pf(p: usize, va: u64, ec: u32): i64 {
  store<u32>(p + PC_FAULT_VECTOR, X86_TRAP_PF);
  store<u32>(p + PC_FAULT_ERROR, ec);
  store<u64>(p + PC_FAULT_CR2, va);
  store<u64>(p + PC_FAULT_ADDR, 0);
  count_event(STAT_PF);
  return -X86_TRAP_PF;
}

/** Record a #GP(0) for a non-canonical va on CPU p; returns -X86_TRAP_GP. CR2 is not written. */
export function raise_gp(p: usize, va: u64): i64 {
  store<u32>(p + PC_FAULT_VECTOR, X86_TRAP_GP);
  store<u32>(p + PC_FAULT_ERROR, 0);
  store<u64>(p + PC_FAULT_ADDR, va);
  count_event(STAT_GP);
  return -X86_TRAP_GP;
}

/** Record a bus fault at physical address pa while translating va on CPU p; returns -X86_TRAP_MC. */
export function raise_bus_fault(p: usize, va: u64, pa: u64): i64 {
  store<u32>(p + PC_FAULT_VECTOR, X86_TRAP_MC);
  store<u32>(p + PC_FAULT_ERROR, 0);
  store<u64>(p + PC_FAULT_CR2, va);
  store<u64>(p + PC_FAULT_ADDR, pa);
  count_event(STAT_BUS_FAULT);
  return -X86_TRAP_MC;
}
