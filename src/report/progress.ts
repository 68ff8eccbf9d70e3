// Progress of a long experiment on stderr (issue 5: "a progress bar while it runs, with an estimate
// of time left"). On a terminal: one bar redrawn in place,
//   aim9-brk [##########..........]  4/8  50%  era 2008-rwsem, 8 CPUs  3.2 s, ~3.2 s left
// elsewhere (a pipe, a file, CI logs): one plain line per step, as the CLI printed before,
//   aim9-brk [4/8] era 2008-rwsem, 8 CPUs done (3.2 s, about 4 s left)
// The estimate is the mean time per finished step times the steps left (steps of an experiment
// grow with their CPU count, so it is low early on; it says "about"). The formatting is pure
// functions (tested); createProgress wires them to a stream and a clock.

/** A duration for people: "45 s", "3 min 05 s", "1 h 02 min"; "0.4 s" below 10 s keeps a decimal. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** Seconds left at the mean pace so far; null before the first step or when every step is done. */
export function estimateRemaining(elapsedSeconds: number, done: number, total: number): number | null {
  if (done <= 0 || done >= total || !(elapsedSeconds >= 0)) return null;
  return (elapsedSeconds / done) * (total - done);
}

/** A bar of `width` cells: "#" done, "." to do, e.g. "[#####.....]". */
export function progressBar(done: number, total: number, width = 20): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const full = Math.round(frac * width);
  return `[${"#".repeat(full)}${".".repeat(width - full)}]`;
}

export interface ProgressState {
  /** Name of what runs (e.g. the experiment). */
  name: string;
  done: number;
  total: number;
  /** The step just finished. */
  label: string;
  elapsedSeconds: number;
}

/** The terminal line: bar (8..20 cells, narrower on narrow terminals), counts, percent, label, elapsed and time left, cut to `columns`. */
export function formatProgressBar(p: ProgressState, columns = 80): string {
  const left = estimateRemaining(p.elapsedSeconds, p.done, p.total);
  const pct = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 100;
  const time = `${formatDuration(p.elapsedSeconds)}${left === null ? "" : `, ~${formatDuration(left)} left`}`;
  const head = `${p.name} ${progressBar(p.done, p.total, Math.max(8, Math.min(20, columns - 64)))} ${String(p.done).padStart(String(p.total).length)}/${p.total} ${String(pct).padStart(3)}%`;
  const room = Math.max(0, columns - 1 - head.length - time.length - 4);
  const label = p.label.length > room ? (room > 1 ? `${p.label.slice(0, room - 1)}~` : "") : p.label;
  return `${head}  ${label}${label ? "  " : ""}${time}`.slice(0, Math.max(10, columns - 1));
}

/** The plain line for logs (not a terminal). */
export function formatProgressLine(p: ProgressState): string {
  const left = estimateRemaining(p.elapsedSeconds, p.done, p.total);
  return `${p.name} [${p.done}/${p.total}] ${p.label} done (${p.elapsedSeconds.toFixed(1)} s` +
    `${left === null ? "" : `, about ${formatDuration(left)} left`})`;
}

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Progress {
  /** A step finished: `done` of `total`, `label` names it. */
  update(done: number, total: number, label: string): void;
  /** End the bar's line (a terminal) if the last update did not. */
  finish(): void;
}

/**
 * A progress reporter on `stream` (default process.stderr): a bar redrawn in place when the stream
 * is a terminal, else one line per update. `now` (ms) is the clock (tests pass a fake one).
 */
export function createProgress(name: string, stream: ProgressStream = process.stderr, now: () => number = () => performance.now()): Progress {
  const t0 = now();
  const tty = stream.isTTY === true;
  let open = false;
  return {
    update(done, total, label) {
      const state = { name, done, total, label, elapsedSeconds: (now() - t0) / 1000 };
      if (!tty) { stream.write(`${formatProgressLine(state)}\n`); return; }
      const cols = stream.columns && stream.columns > 20 ? stream.columns : 80;
      // \r to the line's start, the bar, then erase the rest of the line (ESC[K)
      stream.write(`\r${formatProgressBar(state, cols)}\x1b[K${done >= total ? "\n" : ""}`);
      open = done < total;
    },
    finish() {
      if (open && tty) stream.write("\n");
      open = false;
    },
  };
}
