// The progress bar's formatting (pure functions) and the reporter on a TTY and a pipe.
import { describe, it, expect } from "vitest";
import { createProgress, estimateRemaining, formatDuration, formatProgressBar, formatProgressLine, progressBar } from "../../src/report/progress.js";

describe("progress", () => {
  it("formats durations for people", () => {
    expect(formatDuration(0.42)).toBe("0.4 s");
    expect(formatDuration(9.96)).toBe("10.0 s");
    expect(formatDuration(45.4)).toBe("45 s");
    expect(formatDuration(185)).toBe("3 min 05 s");
    expect(formatDuration(3720)).toBe("1 h 02 min");
    expect(formatDuration(-1)).toBe("?");
    expect(formatDuration(NaN)).toBe("?");
  });

  it("estimates the time left from the mean pace", () => {
    expect(estimateRemaining(10, 2, 8)).toBe(30);
    expect(estimateRemaining(10, 0, 8)).toBeNull();
    expect(estimateRemaining(10, 8, 8)).toBeNull();
  });

  it("draws a bar and the terminal line with the estimate", () => {
    expect(progressBar(0, 4, 8)).toBe("[........]");
    expect(progressBar(1, 4, 8)).toBe("[##......]");
    expect(progressBar(4, 4, 8)).toBe("[########]");
    expect(progressBar(9, 4, 8)).toBe("[########]");
    const line = formatProgressBar({ name: "aim9-brk", done: 2, total: 8, label: "era 2.6.25, 2 CPUs", elapsedSeconds: 10 });
    expect(line).toBe("aim9-brk [####............] 2/8  25%  era 2.6.25, 2 CPUs  10 s, ~30 s left");
    expect(formatProgressBar({ name: "aim9-brk", done: 2, total: 8, label: "era 2008-rwsem, 64 CPUs", elapsedSeconds: 100 }).length).toBeLessThanOrEqual(79);
    const done = formatProgressBar({ name: "x", done: 8, total: 8, label: "last", elapsedSeconds: 3 });
    expect(done).toMatch(/100%  last  3\.0 s$/);
    // a narrow terminal cuts the label, never the bar
    const narrow = formatProgressBar({ name: "aim9-brk", done: 2, total: 8, label: "era 2008-rwsem, 64 CPUs".repeat(3), elapsedSeconds: 10 }, 60);
    expect(narrow.length).toBeLessThanOrEqual(59);
    expect(narrow).toMatch(/^aim9-brk \[#{2}\.{6}\] 2\/8/);
    expect(narrow).toMatch(/~30 s left$/);
  });

  it("prints one line per step on a pipe, a bar redrawn in place on a terminal", () => {
    expect(formatProgressLine({ name: "aim9-brk", done: 1, total: 4, label: "era 2.6.25, 1 CPU", elapsedSeconds: 2 }))
      .toBe("aim9-brk [1/4] era 2.6.25, 1 CPU done (2.0 s, about 6.0 s left)");
    let t = 0;
    const pipe: string[] = [];
    const p = createProgress("exp", { write: (s: string) => pipe.push(s), isTTY: false }, () => t);
    t = 1000; p.update(1, 2, "a");
    t = 2000; p.update(2, 2, "b");
    p.finish();
    expect(pipe).toEqual(["exp [1/2] a done (1.0 s, about 1.0 s left)\n", "exp [2/2] b done (2.0 s)\n"]);
    const tty: string[] = [];
    t = 0;
    const q = createProgress("exp", { write: (s: string) => tty.push(s), isTTY: true, columns: 100 }, () => t);
    t = 500; q.update(1, 3, "a");
    q.finish();
    expect(tty[0]).toBe("\rexp [#######.............] 1/3  33%  a  0.5 s, ~1.0 s left\x1b[K");
    expect(tty[1]).toBe("\n"); // finish ends an unfinished bar's line
  });
});
