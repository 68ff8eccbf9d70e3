// The scheduling decisions of virtual time: which CPU runs next and until when. Pure bookkeeping over
// the CPUs' scheduling words in shared memory (struct percpu +144: clock, wait word and value, wake-up
// time; +128: the activity word); the Asyncify mechanics live in virtual-machine.ts.
//
// A decision is taken at every entry into the scheduler (a preemption point past the horizon, a spin
// iteration, a sleep, a CPU finishing its job), and only there. It depends on nothing but the state in
// shared memory and the seeded PRNG, so a seed replays a run exactly.
//
// timed:   the runnable CPU with the smallest clock runs (ties: the PRNG picks); it runs until its clock
//          reaches the next smallest clock among the others (its horizon).
// explore: every preemption point is a decision (horizon 0). "random": uniform among the runnable.
//          "pct": Burckhardt et al., ASPLOS 2010: distinct random priorities, pctDepth - 1 change points
//          drawn over pctSteps steps; the highest-priority runnable CPU runs; at the i-th change point the
//          running CPU's priority drops to i (below every initial priority). Fair fallback: a CPU that
//          has reported SPIN_YIELD spin iterations in a row while others can run gives this step to a
//          random other CPU (one that is not spinning, if any), so that spinning cannot livelock PCT.
//
// Parked CPUs (not runnable until a word changes):
//   sleep: a CPU in sched_sleep, until the u32 at its wait word differs from its wait value. Its clock
//          then moves to its wake-up time (set by sched_wake; else the time the change was seen).
//   spin (timed mode only): a CPU spinning on a lock, as its activity word says (CPU_SPINNING: arg = the
//          lock word, arg2 = the ticket it waits for), until the word's low half equals that value (a
//          ticket lock's head reaching the ticket; a test-and-set lock, which records 0, becoming free).
//          Its skipped iterations would have changed nothing but its clock, which jumps to the time
//          the release was seen. This is what makes 64 spinning CPUs cheap to simulate. Safety nets:
//          a CPU waiting for a TLB shootdown acknowledgement unparks every spinner (they take their
//          IPIs in cpu_relax), and when nothing else can run, every spinner is unparked once to
//          re-check; if none of them gets anywhere, that is a deadlock.
import { Digest, Xoshiro128 } from "./prng.js";

export type Mode = "timed" | "explore";
export type Strategy = "random" | "pct";

/** Why the scheduler is entered: the core's SWITCH_* reasons, and the host's own. */
export const ENTRY_FINISHED = -1;
export const ENTRY_START = -2;

/** A spin streak this long (explore/pct) gives the step to another CPU. */
export const SPIN_YIELD = 64;

/** timed: with CPUs asleep, the running CPU looks at their words at least this often (cycles). */
export const SLEEP_POLL = 100_000;

const NONE = 0, READY = 1, PARKED = 2, DONE = 3;
const PARK_SLEEP = 1, PARK_SPIN = 2;
const TWO32 = 4294967296;

/** Offsets and codes the scheduler reads, all from the core's exports. */
export interface SchedLayout {
  percpuBase: number;
  percpuSize: number;
  vclock: number;
  waitWord: number;
  waitVal: number;
  wakeAt: number;
  state: number;
  stateArg: number;
  stateArg2: number;
  reasonPreempt: number;
  reasonSpin: number;
  reasonSleep: number;
  cpuSpinning: number;
  cpuWaitAck: number;
  cpuWaitMailbox: number;
}

export interface SchedulerConfig {
  mode: Mode;
  strategy: Strategy;
  seed: number;
  pctDepth: number;
  pctSteps: number;
  nrCpus: number;
  /** The CPUs that have jobs in this run. */
  cpus: number[];
}

interface ParkGroup {
  word: number;
  last: number;
  members: number[];
}

/** Thrown by decide() when no CPU can run but some have not finished (the caller names them). */
export class NoRunnableCpu extends Error {
  constructor(readonly waiting: number[]) {
    super("no runnable CPU");
  }
}

export class Scheduler {
  /** Scheduling decisions taken. */
  steps = 0;
  /** Horizon of the CPU decide() chose: run until the clock reaches it (Infinity: no limit). */
  horizon = Infinity;
  readonly digest = new Digest();
  private readonly rng: Xoshiro128;
  private readonly st: Uint8Array;
  private readonly key: Float64Array;
  private readonly runnable: Int32Array;
  // timed mode: the runnable CPUs in a binary min-heap by (key, tie), tie drawn from the PRNG whenever
  // a CPU's key is set, so that CPUs with equal clocks are ordered by the seed.
  private readonly heap: Int32Array;
  private readonly hpos: Int32Array;
  private hsize = 0;
  private readonly tie: Uint32Array;
  private readonly pos: Int32Array;
  private count = 0;
  private readonly parkKind: Uint8Array;
  private readonly parkVal: Uint32Array;
  private readonly groups: ParkGroup[] = [];
  private spinParked = 0;
  private sleepParked = 0;
  private readonly spinStreak: Int32Array;
  private readonly spinning: Uint8Array;
  private readonly prio: Int32Array;
  private readonly changePoints = new Map<number, number>();
  /** PCT steps: decisions taken for a running CPU (change points are counted in these). */
  private pctStep = 0;
  /** Bumped whenever a CPU gets anywhere (finishes, its word changes, passes a non-spin preemption point). */
  private progress = 0;
  private forcedAt = -1;
  private readonly timed: boolean;
  private readonly pct: boolean;

  constructor(private readonly cfg: SchedulerConfig, private readonly u32: Uint32Array, private readonly L: SchedLayout) {
    const n = cfg.nrCpus;
    this.rng = new Xoshiro128(cfg.seed);
    this.st = new Uint8Array(n);
    this.key = new Float64Array(n);
    this.runnable = new Int32Array(n);
    this.heap = new Int32Array(n);
    this.hpos = new Int32Array(n).fill(-1);
    this.tie = new Uint32Array(n);
    this.pos = new Int32Array(n).fill(-1);
    this.parkKind = new Uint8Array(n);
    this.parkVal = new Uint32Array(n);
    this.spinStreak = new Int32Array(n);
    this.spinning = new Uint8Array(n);
    this.prio = new Int32Array(n);
    this.timed = cfg.mode === "timed";
    this.pct = cfg.mode === "explore" && cfg.strategy === "pct";
    for (const c of cfg.cpus) {
      this.st[c] = READY;
      this.setKey(c, 0);
      this.addRunnable(c);
    }
    if (this.pct) this.initPct();
  }

  // ---- shared memory ---------------------------------------------------------------------------

  private pc(cpu: number): number {
    return this.L.percpuBase + cpu * this.L.percpuSize;
  }

  /** CPU cpu's virtual clock (cycles; exact below 2^53). */
  clock(cpu: number): number {
    const i = (this.pc(cpu) + this.L.vclock) >>> 2;
    const hi = this.u32[i + 1]!;
    if (hi >= 0x200000) throw new RangeError(`CPU ${cpu}: virtual clock beyond 2^53 cycles`);
    return hi * TWO32 + this.u32[i]!;
  }

  private setU64(at: number, v: number): void {
    const i = at >>> 2;
    this.u32[i] = v % TWO32;
    this.u32[i + 1] = Math.floor(v / TWO32);
  }

  private readU64(at: number): number {
    const i = at >>> 2;
    return this.u32[i + 1]! * TWO32 + this.u32[i]!;
  }

  // ---- the runnable set ------------------------------------------------------------------------

  private addRunnable(c: number): void {
    this.pos[c] = this.count;
    this.runnable[this.count++] = c;
    if (this.timed) {
      this.heap[this.hsize] = c;
      this.hpos[c] = this.hsize++;
      this.siftUp(this.hpos[c]!);
    }
  }

  private removeRunnable(c: number): void {
    const p = this.pos[c]!;
    if (p < 0) return;
    const last = this.runnable[--this.count]!;
    this.runnable[p] = last;
    this.pos[last] = p;
    this.pos[c] = -1;
    if (this.timed) {
      const i = this.hpos[c]!;
      const moved = this.heap[--this.hsize]!;
      this.hpos[c] = -1;
      if (moved !== c) {
        this.heap[i] = moved;
        this.hpos[moved] = i;
        this.siftDown(this.siftUp(i));
      }
    }
  }

  /** Set runnable or parked CPU c's scheduling key (timed: with a fresh tie-break from the PRNG). */
  private setKey(c: number, k: number): void {
    this.key[c] = k;
    if (!this.timed) return;
    this.tie[c] = this.rng.next();
    const i = this.hpos[c]!;
    if (i >= 0) this.siftDown(this.siftUp(i));
  }

  private before(a: number, b: number): boolean {
    const ka = this.key[a]!, kb = this.key[b]!;
    if (ka !== kb) return ka < kb;
    const ta = this.tie[a]!, tb = this.tie[b]!;
    return ta !== tb ? ta < tb : a < b;
  }

  private siftUp(i: number): number {
    const h = this.heap, c = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1, pc = h[p]!;
      if (!this.before(c, pc)) break;
      h[i] = pc;
      this.hpos[pc] = i;
      i = p;
    }
    h[i] = c;
    this.hpos[c] = i;
    return i;
  }

  private siftDown(i: number): void {
    const h = this.heap, n = this.hsize, c = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && this.before(h[r]!, h[l]!) ? r : l;
      if (!this.before(h[m]!, c)) break;
      h[i] = h[m]!;
      this.hpos[h[i]!] = i;
      i = m;
    }
    h[i] = c;
    this.hpos[c] = i;
  }

  // ---- parking ---------------------------------------------------------------------------------

  private park(c: number, kind: number, word: number, val: number): void {
    this.st[c] = PARKED;
    this.parkKind[c] = kind;
    this.parkVal[c] = val;
    if (kind === PARK_SPIN) this.spinParked++;
    else this.sleepParked++;
    this.removeRunnable(c);
    let g = this.groups.find((x) => x.word === word);
    if (!g) {
      g = { word, last: this.u32[word >>> 2]!, members: [] };
      this.groups.push(g);
    }
    g.members.push(c);
  }

  private satisfied(c: number, v: number): boolean {
    return this.parkKind[c] === PARK_SLEEP ? v !== this.parkVal[c] : (v & 0xffff) === this.parkVal[c];
  }

  /** Make parked CPU c runnable; now is the clock of the CPU that saw its word change. */
  private unpark(c: number, now: number): void {
    const p = this.pc(c);
    if (this.parkKind[c] === PARK_SLEEP) {
      this.sleepParked--;
      let wake = this.readU64(p + this.L.wakeAt);
      if (wake === 0) {
        wake = now; // nobody called sched_wake: it noticed the change when the scheduler did
        this.setU64(p + this.L.wakeAt, wake);
      }
      this.setKey(c, Math.max(this.clock(c), wake));
    } else {
      this.spinParked--;
      const t = Math.max(this.clock(c), now);
      this.setU64(p + this.L.vclock, t);
      this.setKey(c, t);
    }
    this.parkKind[c] = 0;
    this.st[c] = READY;
    this.addRunnable(c);
  }

  /** Wake every parked CPU whose word now satisfies it. */
  private wakeParked(now: number): void {
    for (let gi = this.groups.length - 1; gi >= 0; gi--) {
      const g = this.groups[gi]!;
      const v = this.u32[g.word >>> 2]!;
      if (v === g.last) continue;
      g.last = v;
      const m = g.members;
      for (let i = m.length - 1; i >= 0; i--) {
        const c = m[i]!;
        if (!this.satisfied(c, v)) continue;
        m[i] = m[m.length - 1]!;
        m.pop();
        this.unpark(c, now);
        this.progress++;
      }
      if (m.length === 0) this.groups.splice(gi, 1);
    }
  }

  /** Unpark every spinning CPU (they re-check their word, and take their IPIs, as they spin). */
  private unparkSpinners(now: number): void {
    if (this.spinParked === 0) return;
    for (let gi = this.groups.length - 1; gi >= 0; gi--) {
      const m = this.groups[gi]!.members;
      for (let i = m.length - 1; i >= 0; i--) {
        const c = m[i]!;
        if (this.parkKind[c] !== PARK_SPIN) continue;
        m[i] = m[m.length - 1]!;
        m.pop();
        this.unpark(c, now);
      }
      if (m.length === 0) this.groups.splice(gi, 1);
    }
  }

  /** CPUs that have not finished (for a deadlock report). */
  unfinished(): number[] {
    return this.cfg.cpus.filter((c) => this.st[c] !== DONE);
  }

  // ---- PCT -------------------------------------------------------------------------------------

  private initPct(): void {
    const d = this.cfg.pctDepth;
    const cpus = [...this.cfg.cpus];
    for (let i = cpus.length - 1; i > 0; i--) {
      const j = this.rng.below(i + 1);
      [cpus[i], cpus[j]] = [cpus[j]!, cpus[i]!];
    }
    cpus.forEach((c, i) => { this.prio[c] = d + i; });
    const k = this.cfg.pctSteps;
    for (let i = 1; i < d && this.changePoints.size < k; i++) {
      let s: number;
      do s = 1 + this.rng.below(k); while (this.changePoints.has(s));
      this.changePoints.set(s, i);
    }
  }

  // ---- the decision ----------------------------------------------------------------------------

  /**
   * Take a scheduling decision. c is the CPU that entered the scheduler (-1 at the start), reason a
   * SWITCH_* code, ENTRY_FINISHED or ENTRY_START. Returns the CPU to run next (c itself to let it go
   * on; -1 when every CPU has finished) and sets this.horizon. Throws NoRunnableCpu when CPUs are left
   * but none can run.
   */
  decide(c: number, reason: number): number {
    const L = this.L;
    this.steps++;
    let now = 0;
    let parkWord = 0, parkVal = 0, parkKind = 0;
    if (c >= 0) {
      now = this.clock(c);
      if (reason === ENTRY_FINISHED) {
        this.st[c] = DONE;
        this.removeRunnable(c);
        this.progress++;
      } else if (reason === L.reasonSleep) {
        this.spinStreak[c] = 0;
        this.spinning[c] = 0;
        parkKind = PARK_SLEEP;
        parkWord = this.u32[(this.pc(c) + L.waitWord) >>> 2]!;
        parkVal = this.u32[(this.pc(c) + L.waitVal) >>> 2]!;
      } else if (reason === L.reasonSpin) {
        this.spinStreak[c] = this.spinStreak[c]! + 1;
        this.spinning[c] = 1;
        if (this.timed) {
          const p = this.pc(c);
          const act = this.u32[(p + L.state) >>> 2]!;
          if (act === L.cpuSpinning) {
            parkKind = PARK_SPIN;
            parkWord = this.u32[(p + L.stateArg) >>> 2]!;
            parkVal = this.u32[(p + L.stateArg2) >>> 2]! & 0xffff;
          } else if (act === L.cpuWaitAck || act === L.cpuWaitMailbox) {
            this.unparkSpinners(now);
          }
        }
      } else {
        this.spinStreak[c] = 0;
        this.spinning[c] = 0;
        this.progress++;
      }
      if (this.st[c] === READY) this.setKey(c, now);
    }
    this.wakeParked(now);
    if (parkKind !== 0) {
      const v = this.u32[parkWord >>> 2]!;
      const ready = parkKind === PARK_SLEEP ? v !== parkVal : (v & 0xffff) === parkVal;
      if (!ready) this.park(c, parkKind, parkWord, parkVal);
    }
    if (this.count === 0) {
      const left = this.unfinished();
      if (left.length === 0) return -1;
      if (this.spinParked > 0 && this.forcedAt !== this.progress) {
        this.forcedAt = this.progress;
        this.unparkSpinners(now);
      } else {
        throw new NoRunnableCpu(left);
      }
    }
    const next = this.timed ? this.chooseTimed() : this.chooseExplore(c, reason);
    this.digest.add(next);
    return next;
  }

  /**
   * The earliest runnable CPU (ties: the seed's order); its horizon is the next earliest clock. With
   * spinners parked it is 0 (every preemption point checks their words). With sleepers parked it is at
   * most SLEEP_POLL cycles ahead of the chosen CPU's clock: sched_wake brings it down to the wake-up time itself, this
   * only bounds how late a word changed without sched_wake is noticed.
   */
  private chooseTimed(): number {
    const h = this.heap, n = this.hsize;
    const best = h[0]!;
    let second = Infinity;
    if (n > 1) second = this.key[h[1]!]!;
    if (n > 2) second = Math.min(second, this.key[h[2]!]!);
    if (this.spinParked > 0) second = 0;
    else if (this.sleepParked > 0) second = Math.min(second, this.key[best]! + SLEEP_POLL);
    this.horizon = second;
    return best;
  }

  private chooseExplore(c: number, reason: number): number {
    this.horizon = 0;
    if (!this.pct) return this.runnable[this.rng.below(this.count)]!;
    if (c >= 0) {
      const lowered = this.changePoints.get(++this.pctStep);
      if (lowered !== undefined && this.st[c] !== DONE) this.prio[c] = lowered;
      if (reason === this.L.reasonSpin && this.spinStreak[c]! >= SPIN_YIELD && this.st[c] === READY && this.count > 1) {
        return this.yieldFrom(c);
      }
    }
    const r = this.runnable;
    let best = r[0]!;
    for (let i = 1; i < this.count; i++) if (this.prio[r[i]!]! > this.prio[best]!) best = r[i]!;
    return best;
  }

  /** The fair fallback: a random runnable CPU other than c, preferring one that is not spinning. */
  private yieldFrom(c: number): number {
    const r = this.runnable;
    let calm = 0;
    for (let i = 0; i < this.count; i++) if (r[i] !== c && this.spinning[r[i]!] === 0) calm++;
    const wantCalm = calm > 0;
    let k = this.rng.below(wantCalm ? calm : this.count - 1);
    for (let i = 0; i < this.count; i++) {
      const x = r[i]!;
      if (x === c || (wantCalm && this.spinning[x] !== 0)) continue;
      if (k-- === 0) return x;
    }
    return c; // unreachable: count > 1
  }
}
