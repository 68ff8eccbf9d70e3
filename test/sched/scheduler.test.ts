// The scheduling decisions alone (src/sched/scheduler.ts), over a synthetic struct percpu array: the
// earliest clock first with seeded ties, horizons, sleeping and spinning CPUs parked until their word
// changes, deadlock detection, PCT priorities and its fair fallback.
import { describe, expect, it } from "vitest";
import { Scheduler, NoRunnableCpu, ENTRY_FINISHED, ENTRY_START, SPIN_YIELD, SLEEP_POLL, type SchedLayout, type SchedulerConfig } from "../../src/sched/scheduler.js";

const PREEMPT = 0, SPIN = 1, SLEEP = 2;
const CPU_RUNNING = 1, CPU_SPINNING = 2, CPU_WAIT_ACK = 3;
const L: SchedLayout = {
  percpuBase: 4096, percpuSize: 256, vclock: 144, waitWord: 152, waitVal: 156, wakeAt: 160,
  state: 128, stateArg: 132, stateArg2: 136, reasonPreempt: PREEMPT, reasonSpin: SPIN, reasonSleep: SLEEP,
  cpuSpinning: CPU_SPINNING, cpuWaitAck: CPU_WAIT_ACK, cpuWaitMailbox: 5,
};
const WORD = 64; // a shared word below the per-CPU area

function machine(cpus: number, cfg: Partial<SchedulerConfig> = {}) {
  const u32 = new Uint32Array((L.percpuBase + cpus * L.percpuSize) / 4);
  const at = (cpu: number, off: number) => (L.percpuBase + cpu * L.percpuSize + off) / 4;
  const s = new Scheduler({ mode: "timed", strategy: "random", seed: 1, pctDepth: 3, pctSteps: 100, nrCpus: cpus,
    cpus: Array.from({ length: cpus }, (_, i) => i), ...cfg }, u32, L);
  return {
    s, u32,
    setClock: (cpu: number, v: number) => { u32[at(cpu, L.vclock)] = v; u32[at(cpu, L.vclock) + 1] = 0; },
    clock: (cpu: number) => s.clock(cpu),
    sleep: (cpu: number, word: number, val: number, wakeAt = 0) => {
      u32[at(cpu, L.waitWord)] = word; u32[at(cpu, L.waitVal)] = val; u32[at(cpu, L.wakeAt)] = wakeAt;
    },
    spin: (cpu: number, state: number, word: number, ticket: number) => {
      u32[at(cpu, L.state)] = state; u32[at(cpu, L.stateArg)] = word; u32[at(cpu, L.stateArg2)] = ticket;
    },
  };
}

describe("timed decisions", () => {
  it("orders by clock, with the horizon at the next clock", () => {
    const m = machine(3);
    m.s.decide(-1, ENTRY_START);
    // Let every CPU report its clock once.
    m.setClock(0, 50); m.setClock(1, 30); m.setClock(2, 90);
    m.s.decide(0, PREEMPT); m.s.decide(1, PREEMPT); m.s.decide(2, PREEMPT);
    expect(m.s.decide(2, PREEMPT)).toBe(1);
    expect(m.s.horizon).toBe(50);
    m.setClock(1, 60);
    expect(m.s.decide(1, PREEMPT)).toBe(0);
    expect(m.s.horizon).toBe(60);
    m.setClock(0, 100);
    expect(m.s.decide(0, PREEMPT)).toBe(1);
    expect(m.s.horizon).toBe(90);
    m.setClock(1, 200);
    expect(m.s.decide(1, ENTRY_FINISHED)).toBe(2);
    expect(m.s.horizon).toBe(100);
  });

  it("breaks ties with the seed: the same seed the same way, other seeds otherwise", () => {
    const picks = (seed: number) => {
      const m = machine(8, { seed });
      return Array.from({ length: 8 }, () => m.s.decide(-1, ENTRY_START));
    };
    expect(picks(5)).toEqual(picks(5));
    const all = new Set([1, 2, 3, 4, 5, 6].map((s) => picks(s).join()));
    expect(all.size).toBeGreaterThan(1);
    const m = machine(2);
    m.s.decide(-1, ENTRY_START);
    expect(m.s.horizon).toBe(0); // a tie: the other CPU has the same clock
  });

  it("parks a sleeping CPU until its word changes, then runs it from its wake-up time", () => {
    const m = machine(2);
    m.s.decide(-1, ENTRY_START);
    m.setClock(0, 10);
    m.sleep(0, WORD, 7);
    m.u32[WORD / 4] = 7;
    expect(m.s.decide(0, SLEEP)).toBe(1);
    expect(m.s.horizon).toBe(SLEEP_POLL); // nobody else can run; it looks at the sleeper's word now and then
    m.setClock(1, 40);
    expect(m.s.decide(1, PREEMPT)).toBe(1); // the word has not changed
    m.u32[WORD / 4] = 8;
    m.sleep(0, WORD, 7, 500); // sched_wake set its wake-up time
    m.setClock(1, 60);
    expect(m.s.decide(1, PREEMPT)).toBe(1); // 60 < 500
    expect(m.s.horizon).toBe(500);
    m.setClock(1, 600);
    expect(m.s.decide(1, PREEMPT)).toBe(0);
  });

  it("parks a ticket spinner until the head reaches its ticket, and moves its clock to the release", () => {
    const m = machine(3);
    m.s.decide(-1, ENTRY_START);
    m.u32[WORD / 4] = (3 << 16) | 0; // head 0, tail 3: CPU 0 holds ticket 0
    m.spin(1, CPU_SPINNING, WORD, 1);
    m.spin(2, CPU_SPINNING, WORD, 2);
    m.setClock(1, 10); m.setClock(2, 12);
    m.s.decide(1, SPIN);
    m.s.decide(2, SPIN);
    expect(m.s.decide(0, PREEMPT)).toBe(0); // only CPU 0 can run
    expect(m.s.horizon).toBe(0);            // spinners parked: it enters the scheduler at every point
    m.setClock(0, 1000);
    m.u32[WORD / 4] = (3 << 16) | 1;        // unlock: ticket 1's turn
    m.spin(0, CPU_RUNNING, 0, 0);
    m.setClock(0, 1010);
    expect([0, 1]).toContain(m.s.decide(0, PREEMPT)); // CPU 1 is back, at 1010 as CPU 0: a tie
    expect(m.clock(1)).toBe(1010);          // its skipped iterations: it saw the release at 1010
    expect(m.clock(2)).toBe(12);            // still parked
  });

  it("reports no runnable CPU after one round of re-checking spinners, naming the unfinished ones", () => {
    const m = machine(2);
    m.s.decide(-1, ENTRY_START);
    m.u32[WORD / 4] = 1 << 16; // held by a ticket nobody runs
    m.spin(0, CPU_SPINNING, WORD, 1);
    m.spin(1, CPU_SPINNING, WORD, 2);
    m.s.decide(0, SPIN);
    const forced = m.s.decide(1, SPIN); // both parked: everybody re-checks once
    expect([0, 1]).toContain(forced);
    expect(m.s.decide(forced, SPIN)).toBe(1 - forced);
    let err: unknown;
    try { m.s.decide(1 - forced, SPIN); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(NoRunnableCpu);
    expect((err as NoRunnableCpu).waiting).toEqual([0, 1]);
  });

  it("unparks spinners while a CPU waits for a shootdown acknowledgement", () => {
    const m = machine(3);
    m.s.decide(-1, ENTRY_START);
    m.u32[WORD / 4] = 1 << 16;
    m.spin(1, CPU_SPINNING, WORD, 1);
    m.s.decide(1, SPIN);
    m.spin(0, CPU_WAIT_ACK, 1, 5);
    m.setClock(0, 100); m.setClock(2, 100);
    m.s.decide(0, SPIN);
    // CPU 1 is runnable again (it takes its IPIs in cpu_relax), with its clock moved to 100.
    expect(m.clock(1)).toBe(100);
  });
});

describe("explore decisions", () => {
  it("random: every runnable CPU gets chosen, with horizon 0", () => {
    const m = machine(4, { mode: "explore" });
    const seen = new Set<number>();
    let c = m.s.decide(-1, ENTRY_START);
    for (let i = 0; i < 200; i++) { seen.add(c); c = m.s.decide(c, PREEMPT); }
    expect(seen.size).toBe(4);
    expect(m.s.horizon).toBe(0);
  });

  it("pct: the highest-priority CPU runs until a change point lowers it", () => {
    for (const seed of [1, 2, 3, 9]) {
      const m = machine(4, { mode: "explore", strategy: "pct", pctDepth: 2, pctSteps: 50, seed });
      let c = m.s.decide(-1, ENTRY_START);
      const order = [c];
      for (let i = 0; i < 60; i++) { c = m.s.decide(c, PREEMPT); order.push(c); }
      // One change point in the first 50 steps: one CPU runs alone until it, then another one alone.
      const changes = order.filter((x, i) => i > 0 && x !== order[i - 1]).length;
      expect(changes).toBe(1);
    }
  });

  it("pct: a CPU spinning SPIN_YIELD times in a row gives a step to another CPU", () => {
    const m = machine(3, { mode: "explore", strategy: "pct", pctDepth: 1, seed: 4 });
    const top = m.s.decide(-1, ENTRY_START);
    let c = top;
    for (let i = 1; i < SPIN_YIELD; i++) { c = m.s.decide(c, SPIN); expect(c).toBe(top); }
    c = m.s.decide(c, SPIN);
    expect(c).not.toBe(top);
    expect(m.s.decide(c, PREEMPT)).toBe(top); // then priorities rule again
  });
});
