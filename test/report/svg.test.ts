// The chart module: ticks, tick labels, escaping, and the data a chart carries.
import { describe, it, expect } from "vitest";
import { barChart, escapeXml, formatTick, lineChart, linearTicks, logTicks, stepChart } from "../../src/report/svg.js";

const attrs = (svg: string, name: string) => [...svg.matchAll(new RegExp(`${name}="([^"]*)"`, "g"))].map((m) => Number(m[1]));

describe("svg charts", () => {
  it("chooses nice ticks and labels them with SI suffixes", () => {
    expect(linearTicks(0, 9.3)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(linearTicks(0, 0)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(logTicks(3, 4500)).toEqual([1, 10, 100, 1000, 10000]);
    expect(formatTick(0)).toBe("0");
    expect(formatTick(0.25)).toBe("0.25");
    expect(formatTick(2500)).toBe("2.5k");
    expect(formatTick(36_311_751)).toBe("36.3M");
    expect(formatTick(1e9)).toBe("1G");
    expect(escapeXml(`<a href="x">&'`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  });

  it("line chart: one series per line, each point's figure in data-x/data-y, the axis covering the maximum", () => {
    const svg = lineChart({ id: "t", title: "T", xLabel: "CPUs", yLabel: "ops/s", xScale: "log",
      series: [{ name: "a", points: [{ x: 1, y: 10 }, { x: 4, y: 37 }] }, { name: "b", points: [{ x: 2, y: 5 }] }] });
    expect(svg).toContain('data-chart="t"');
    expect([...svg.matchAll(/data-y="([^"]+)"/g)].map((m) => Number(m[1]))).toEqual([10, 37, 5]);
    expect(svg).toContain(">40<"); // the top tick of 0..37
    expect(svg).toContain('data-series="b"');
    expect(svg.match(/<polyline/g)).toHaveLength(1); // one point draws no line
  });

  it("log scales leave out values <= 0 and say so; bar charts carry category and value", () => {
    const svg = barChart({ id: "b", title: "B", xLabel: "x", yLabel: "y", yScale: "log", categories: ["p", "q"],
      series: [{ name: "s", values: [0, 300] }, { name: "u", values: [null, 2] }] });
    expect([...svg.matchAll(/data-value="([^"]+)"/g)].map((m) => Number(m[1]))).toEqual([300, 2]);
    expect(svg).toContain('data-category="q"');
    expect(svg).toContain("1 value &lt;= 0 not drawn on the log scale");
  });

  it("step chart: one outline per series over shared bins, each bin's value in data-category/data-value", () => {
    const svg = stepChart({ id: "s", title: "S", xLabel: "wait", yLabel: "%", bins: ["2^3", "2^4", "2^5"],
      series: [{ name: "a", values: [10, 60, 30] }, { name: "<b>", values: [0, 100, 0] }] });
    expect(svg).toContain('data-chart="s"');
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(attrs(svg, "data-value")).toEqual([10, 60, 30, 0, 100, 0]);
    expect(svg).toContain('data-category="2^4"');
    expect(svg).toContain('data-series="&lt;b&gt;"');
    expect(svg).toContain(">100<"); // the top tick
    // the outline steps: 2 points per bin plus the two ends on the axis
    const pts = /points="([^"]+)"/.exec(svg)![1]!.split(" ");
    expect(pts).toHaveLength(2 * 3 + 2);
  });
});
