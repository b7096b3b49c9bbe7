import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { eigenvalueHistogram, lineChart } from "../../src/report/figures.ts";
import { figureFonts, rasterize, toPng, toSvg, writeFigure } from "../../src/report/render.ts";
import { parseFontMetrics } from "../../src/report/text-metrics.ts";
import { InputError } from "../../src/errors.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { decodePng, PNG_SIGNATURE } from "./png-decode.ts";

// The known spectrum: 500 values near zero and 5 outliers, in 30 bins.
const BINS = 30;
const OUTLIERS = [2, 3, 5, 8, 13];
const rng = hostRng(7);
const EIGS = [...Array.from({ length: 500 }, () => 0.01 * rng.normal()), ...OUTLIERS];

/** Independent count of the non-empty bins: bulk in one or two bins near 0, one per outlier. */
function nonEmptyBins(values: number[], bins: number): number {
  const min = Math.min(...values), max = Math.max(...values), w = (max - min) / bins;
  return new Set(values.map((v) => Math.min(bins - 1, Math.floor((v - min) / w)))).size;
}

const histSpec = () => eigenvalueHistogram({ eigenvalues: EIGS, title: "Hessian spectrum", bins: BINS });

/**
 * Well-formedness without a DOM: tags balance and nest, attributes are quoted, one root <svg>.
 * (resvg's strict XML parser is the second check below.)
 */
function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>/g;
  let roots = 0, last = 0;
  for (const m of xml.matchAll(tag)) {
    assert.ok(!/[<>]/.test(xml.slice(last, m.index)), `stray '<' or '>' near offset ${m.index}`);
    last = m.index + m[0].length;
    const [, close, name, , selfClose] = m;
    if (close) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    else {
      if (stack.length === 0) roots++;
      if (!selfClose) stack.push(name);
    }
  }
  assert.equal(stack.length, 0, `unclosed <${stack.at(-1)}>`);
  assert.equal(roots, 1);
  assert.ok(xml.startsWith("<svg"));
}

const svgSize = (svg: string) => {
  const m = /^<svg[^>]*\swidth="(\d+(?:\.\d+)?)"[^>]*\sheight="(\d+(?:\.\d+)?)"/.exec(svg);
  assert.ok(m, "no width/height on <svg>");
  return { width: Number(m[1]), height: Number(m[2]) };
};

test("toSvg: histogram of a known spectrum is well-formed SVG with axis titles and one bar per non-empty bin", async () => {
  const svg = await toSvg(histSpec());
  assertWellFormedXml(svg);
  assert.doesNotThrow(() => new Resvg(svg)); // strict XML parse
  const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  assert.ok(texts.includes("eigenvalue"), "x-axis title");
  assert.ok(texts.includes("count"), "y-axis title");
  assert.ok(texts.includes("Hessian spectrum"), "title");
  const rects = /<g class="mark-rect role-mark[^>]*>(.*?)<\/g>/s.exec(svg);
  assert.ok(rects, "no bar group");
  const bars = (rects[1].match(/<path\b/g) ?? []).length;
  const expected = nonEmptyBins(EIGS, BINS);
  assert.ok(expected >= 6 && expected <= 8, `bulk in 1-2 bins and 5 outlier bins, got ${expected}`);
  assert.equal(bars, expected);
});

test("toPng: valid PNG at twice the SVG size whose pixels are the rendered figure", async () => {
  const spec = histSpec();
  const svg = await toSvg(spec);
  const { width, height } = svgSize(svg);
  const png = await toPng(spec);
  assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
  // IHDR is the first chunk: length 13, then width and height, big-endian.
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  assert.equal(dv.getUint32(8), 13);
  assert.equal(String.fromCharCode(...png.subarray(12, 16)), "IHDR");
  assert.equal(dv.getUint32(16), Math.round(2 * width));
  assert.equal(dv.getUint32(20), Math.round(2 * height));

  const img = decodePng(png); // checks CRCs, inflates, unfilters
  assert.equal(img.width, Math.round(2 * width));
  assert.equal(img.height, Math.round(2 * height));
  const raster = await rasterize(svg, 2);
  assert.deepEqual(Buffer.from(img.rgba).equals(Buffer.from(raster.rgba)), true);

  // Content: an opaque white page with a few percent ink, anti-aliased (many colours), and bars
  // in the bar colour (#3a6ea5).
  let ink = 0, bar = 0, opaque = 0;
  const colours = new Set<number>();
  for (let i = 0; i < img.rgba.length; i += 4) {
    const [r, g, b, a] = [img.rgba[i], img.rgba[i + 1], img.rgba[i + 2], img.rgba[i + 3]];
    if (a === 255) opaque++;
    if (r < 200 || g < 200 || b < 200) ink++;
    if (Math.abs(r - 0x3a) < 12 && Math.abs(g - 0x6e) < 12 && Math.abs(b - 0xa5) < 12) bar++;
    colours.add((r << 16) | (g << 8) | b);
  }
  const n = img.width * img.height;
  assert.equal(opaque, n);
  assert.ok(ink / n > 0.01 && ink / n < 0.3, `ink fraction ${ink / n}`);
  assert.ok(bar > 500, `bar-coloured pixels ${bar}`);
  assert.ok(colours.size > 50, `distinct colours ${colours.size}`);
});

test("toPng: scale sets the pixel size; bad scale is an InputError", async () => {
  const spec = lineChart({ title: "loss", xTitle: "step", yTitle: "loss", series: [{ name: "a", x: [0, 1, 2], y: [3, 2, 1.5] }] });
  const { width, height } = svgSize(await toSvg(spec));
  const img = decodePng(await toPng(spec, { scale: 1 }));
  assert.deepEqual([img.width, img.height], [width, height]);
  await assert.rejects(toPng(spec, { scale: 0 }), InputError);
  await assert.rejects(toPng(spec, { scale: NaN }), InputError);
});

test("text renders with the bundled font alone (no system fonts)", async () => {
  const fonts = figureFonts();
  assert.ok(fonts, "no figure font found");
  assert.equal(fonts.family, "Roboto");
  assert.ok(fonts.regular.includes("font-roboto-local"), fonts.regular);
  // Only a label, in the figures' font stack: drawn with the package's files it must give dark
  // pixels; with no fonts at all (the control) resvg draws nothing.
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="10" y="28" font-family="Roboto, 'Helvetica Neue', Arial, sans-serif" font-size="20">eigenvalue −0.5 λ</text></svg>`;
  const dark = (fontFiles: string[]) => {
    const px = new Resvg(svg, { background: "white", font: { fontFiles, loadSystemFonts: false, defaultFontFamily: "Roboto" } }).render().pixels;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] < 128) n++;
    return n;
  };
  assert.ok(dark([...fonts.files]) > 150, `dark pixels ${dark([...fonts.files])}`);
  assert.equal(dark([]), 0);
});

test("text metrics: font advance widths match the width resvg draws", async () => {
  const fonts = figureFonts()!;
  const metrics = parseFontMetrics(await readFile(fonts.regular));
  const text = "eigenvalue 0123456789 count";
  const size = 100;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="200"><text x="0" y="150" font-family="${fonts.family}" font-size="${size}">${text}</text></svg>`;
  const box = new Resvg(svg, { font: { fontFiles: [...fonts.files], loadSystemFonts: false } }).getBBox();
  assert.ok(box);
  // Ink box vs advance sum: they differ by the side bearings of the first and last glyph only.
  const ours = metrics.width(text) * size;
  assert.ok(Math.abs(ours - box.width) / box.width < 0.03, `ours ${ours}, resvg ${box.width}`);
  // Vega's own estimate without a canvas (0.8 em a character) would be off by about half.
  assert.ok(0.8 * text.length * size > 1.3 * box.width);
  assert.ok(metrics.width("WWWW") > 2 * metrics.width("iiii"));
});

test("writeFigure: writes name.svg and name.png whole, leaves no temporary files, rejects bad names", async () => {
  const dir = await mkdtemp(join(tmpdir(), "curvlab-fig-"));
  try {
    await writeFile(join(dir, "spectrum.png"), "old"); // replaced, not appended to
    const out = await writeFigure(join(dir, "figs"), "spectrum", histSpec());
    assert.deepEqual(out, { svg: join(dir, "figs", "spectrum.svg"), png: join(dir, "figs", "spectrum.png") });
    assert.deepEqual((await readdir(join(dir, "figs"))).sort(), ["spectrum.png", "spectrum.svg"]);
    const svg = await readFile(out.svg, "utf8");
    assert.ok(svg.startsWith("<svg") && svg.includes("eigenvalue"));
    const img = decodePng(await readFile(out.png));
    assert.equal(img.width, 2 * svgSize(svg).width);

    await writeFigure(dir, "spectrum", histSpec());
    assert.ok((await readFile(join(dir, "spectrum.png"))).length > 1000);
    for (const bad of ["", "../x", "a/b", ".hidden", "a b"]) {
      await assert.rejects(writeFigure(dir, bad, histSpec()), (e: unknown) => e instanceof InputError && e.input === "figure name");
    }
    assert.deepEqual((await readdir(dir)).sort(), ["figs", "spectrum.png", "spectrum.svg"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("toSvg leaves the spec as it was (Vega extends the data rows it ingests)", async () => {
  const spec = histSpec();
  const copy = JSON.parse(JSON.stringify(spec));
  await toSvg(spec);
  assert.deepStrictEqual(spec, copy);
});
