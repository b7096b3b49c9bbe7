/**
 * Reading what Vega drew, for tests: the items of a mark (`<path>`, `<line>`, `<text>` inside a
 * `<g class="mark-<type> role-mark ...">` group) with their translate() position, path data and
 * text, and the texts of the whole figure. Lets a test check the pixels a data value lands on
 * against its own computation of the scale.
 */
import assert from "node:assert/strict";

export interface MarkItem {
  readonly x: number;
  readonly y: number;
  readonly d?: string;
  readonly text?: string;
  readonly label?: string;
}

/** Items of every `mark-<type>` group with role "mark" whose class contains `name` (if given). */
export function markItems(svg: string, type: "symbol" | "rule" | "line" | "text" | "area" | "rect", name = ""): MarkItem[] {
  const out: MarkItem[] = [];
  const group = new RegExp(`<g class="mark-${type} role-mark ([^"]*)"[^>]*>(.*?)</g>`, "gs");
  for (const g of svg.matchAll(group)) {
    if (!g[1].includes(name)) continue;
    for (const it of g[2].matchAll(/<(path|line|text)\b([^>]*?)(?:\/>|>([^<]*)<\/text>)/g)) {
      const attrs = it[2];
      const t = /transform="translate\(([-\d.e]+),([-\d.e]+)\)"/.exec(attrs);
      const d = /\sd="([^"]*)"/.exec(attrs);
      const label = /aria-label="([^"]*)"/.exec(attrs);
      out.push({
        x: t ? Number(t[1]) : 0,
        y: t ? Number(t[2]) : 0,
        ...(d ? { d: d[1] } : {}),
        ...(it[3] !== undefined ? { text: it[3] } : {}),
        ...(label ? { label: label[1] } : {}),
      });
    }
  }
  return out;
}

/** The vertices of an SVG path made of M/L commands ("M0,240L9.2,240..."). */
export function pathPoints(d: string): { x: number; y: number }[] {
  return [...d.matchAll(/[ML]([-\d.e]+),([-\d.e]+)/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
}

/** Every <text> in the SVG (titles, axis labels, legends, marks), unescaped. */
export function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&"));
}

/** Position on a log axis of `pixels` length over [lo, hi] (0 at lo). */
export function logPos(v: number, lo: number, hi: number, pixels: number): number {
  return (pixels * Math.log(v / lo)) / Math.log(hi / lo);
}

/** Asserts |a - b| <= tol with a message. */
export function near(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);
}
