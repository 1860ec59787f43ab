/** @module Benchmark output: the markdown table and a small SVG plot of convergence over time. */

export interface Row {
  readonly figure: string;
  readonly service: string;
  readonly yardstick: string;
  readonly ratio: number | null;
  readonly goal: string;
  readonly pass: boolean | null;
}

export function markdownTable(rows: readonly Row[]): string {
  const head =
    "| figure | service | yardstick | ratio | goal | result |\n|---|---|---|---|---|---|\n";
  return head +
    rows.map((r) =>
      `| ${r.figure} | ${r.service} | ${r.yardstick} | ${
        r.ratio === null ? "–" : r.ratio.toFixed(3)
      } | ` +
      `${r.goal} | ${r.pass === null ? "–" : r.pass ? "pass" : "**fail**"} |`
    ).join("\n") + "\n";
}

export interface Series {
  readonly label: string;
  readonly color: string;
  /** [seconds since start, fraction converged 0..1] */
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** A line chart of fraction converged against time, one line per series. */
export function convergenceSvg(title: string, series: readonly Series[]): string {
  const W = 720, H = 360, L = 50, R = 170, T = 30, B = 40;
  const maxT = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[0])));
  const x = (t: number) => L + (t / maxT) * (W - L - R);
  const y = (f: number) => H - B - f * (H - T - B);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) =>
    `<line x1="${L}" y1="${y(f)}" x2="${W - R}" y2="${y(f)}" stroke="#ddd"/>` +
    `<text x="${L - 6}" y="${y(f) + 4}" text-anchor="end" font-size="11">${f * 100}%</text>`
  ).join("");
  const ticks = Array.from({ length: 6 }, (_, i) => (maxT * i) / 5).map((t) =>
    `<text x="${x(t)}" y="${H - B + 16}" text-anchor="middle" font-size="11">${t.toFixed(1)}</text>`
  ).join("");
  const lines = series.map((s, i) =>
    `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${
      s.points.map(([t, f]) => `${x(t).toFixed(1)},${y(f).toFixed(1)}`).join(" ")
    }"/>` +
    `<rect x="${W - R + 12}" y="${T + i * 20}" width="12" height="3" fill="${s.color}"/>` +
    `<text x="${W - R + 30}" y="${T + i * 20 + 5}" font-size="12">${s.label}</text>`
  ).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="${L}" y="18" font-size="14">${title}</text>${grid}${ticks}` +
    `<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" font-size="12">seconds</text>` +
    `${lines}</svg>\n`;
}
