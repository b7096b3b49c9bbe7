/**
 * Text widths for Vega's layout in Node, read from the TrueType file the PNG is drawn with.
 *
 * Vega sizes axes, titles and legends from text widths. In a browser it asks a canvas; in Node,
 * without the `canvas` package, it guesses 0.8 em per character, about 50% too wide for Roboto
 * digits, which drops every other axis label as "overlapping" and pushes axis titles away from
 * their axes. Vega lets a host replace `textMetrics.width` (as vl-convert does); this module
 * supplies advance widths from the font's `cmap` and `hmtx` tables (no kerning: a fraction of a
 * pixel per label). Characters the font lacks count 0.6 em.
 */
import { readFileSync } from "node:fs";
import * as vega from "vega";

/** Advance widths of one font face, in em. */
export interface FontMetrics {
  /** Width of `text` at font size 1 (em), summing advance widths. */
  width(text: string): number;
}

const MISSING_EM = 0.6;

/** Reads the `head`, `hhea`, `hmtx` and `cmap` (format 4, or 12 when present) tables of a TTF/OTF. */
export function parseFontMetrics(bytes: Uint8Array): FontMetrics {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tables = new Map<string, number>();
  const numTables = dv.getUint16(4);
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    const tag = String.fromCharCode(...bytes.subarray(rec, rec + 4));
    tables.set(tag, dv.getUint32(rec + 8));
  }
  const need = (tag: string) => {
    const off = tables.get(tag);
    if (off === undefined) throw new Error(`font has no '${tag}' table`);
    return off;
  };
  const unitsPerEm = dv.getUint16(need("head") + 18);
  const numHMetrics = dv.getUint16(need("hhea") + 34);
  const hmtx = need("hmtx");
  const advance = (glyph: number) => dv.getUint16(hmtx + 4 * Math.min(glyph, numHMetrics - 1)) / unitsPerEm;

  // Pick a Unicode subtable: format 12 (full range) if there is one, else format 4 (BMP).
  const cmap = need("cmap");
  let sub4 = -1, sub12 = -1;
  for (let i = 0; i < dv.getUint16(cmap + 2); i++) {
    const platform = dv.getUint16(cmap + 4 + 8 * i), encoding = dv.getUint16(cmap + 6 + 8 * i);
    const off = cmap + dv.getUint32(cmap + 8 + 8 * i);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    const format = dv.getUint16(off);
    if (format === 4 && sub4 < 0) sub4 = off;
    if (format === 12 && sub12 < 0) sub12 = off;
  }
  if (sub4 < 0 && sub12 < 0) throw new Error("font has no Unicode cmap subtable of format 4 or 12");

  const glyph12 = (c: number): number => {
    const n = dv.getUint32(sub12 + 12);
    let lo = 0, hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, g = sub12 + 16 + 12 * mid;
      const start = dv.getUint32(g), end = dv.getUint32(g + 4);
      if (c < start) hi = mid - 1;
      else if (c > end) lo = mid + 1;
      else return dv.getUint32(g + 8) + (c - start);
    }
    return 0;
  };
  const glyph4 = (c: number): number => {
    if (c > 0xffff) return 0;
    const segs = dv.getUint16(sub4 + 6) / 2;
    const ends = sub4 + 14, starts = ends + 2 * segs + 2, deltas = starts + 2 * segs, ranges = deltas + 2 * segs;
    for (let i = 0; i < segs; i++) {
      if (dv.getUint16(ends + 2 * i) < c) continue;
      const start = dv.getUint16(starts + 2 * i);
      if (start > c) return 0;
      const delta = dv.getUint16(deltas + 2 * i), rangeAt = ranges + 2 * i, range = dv.getUint16(rangeAt);
      if (range === 0) return (c + delta) & 0xffff;
      const g = dv.getUint16(rangeAt + range + 2 * (c - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
  const lookup = sub12 >= 0 ? glyph12 : glyph4;

  const cache = new Map<number, number>();
  const charWidth = (c: number): number => {
    let w = cache.get(c);
    if (w === undefined) {
      const g = lookup(c);
      w = g === 0 ? MISSING_EM : advance(g);
      cache.set(c, w);
    }
    return w;
  };
  return {
    width(text: string): number {
      let w = 0;
      for (const ch of text) w += charWidth(ch.codePointAt(0)!);
      return w;
    },
  };
}

/** The part of a Vega text item that sets its width. */
interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
}

function isBold(weight: string | number | undefined): boolean {
  if (weight === undefined) return false;
  if (typeof weight === "number") return weight >= 600;
  return weight === "bold" || weight === "bolder" || Number(weight) >= 600;
}

interface VegaTextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

/**
 * Makes Vega measure text with the given regular and bold font files (bold defaults to regular).
 * Process-wide, as Vega's text metrics are; later calls replace earlier ones.
 */
export function useFontMetrics(regularFile: string, boldFile = regularFile): void {
  const regular = parseFontMetrics(readFileSync(regularFile));
  const bold = boldFile === regularFile ? regular : parseFontMetrics(readFileSync(boldFile));
  const textMetrics = (vega as unknown as { textMetrics: VegaTextMetrics }).textMetrics;
  textMetrics.width = (item: TextItem, text: unknown): number => {
    const size = item.fontSize != null ? +item.fontSize || 0 : 11; // Vega's default size
    const str = text == null ? "" : String(text).trim();
    if (size <= 0 || !str) return 0;
    const w = (isBold(item.fontWeight) ? bold : regular).width(str) * size;
    // Vega truncates text longer than `limit` pixels (with an ellipsis) when it draws it.
    return item.limit != null && item.limit > 0 ? Math.min(w, item.limit) : w;
  };
}
