// Surface figures: marching-squares isolines against a closed-form surface (every crossing within
// the linear-interpolation error of the level; closed isolines close), saddle cells by hand, and
// the heat map + contours + trajectory spec rendered to SVG (marks where the scales put them) and PNG.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile } from "vega-lite";
import { contourLevels, contourSegments, sliceLineChart, surfaceChart, SURFACE_HEIGHT, SURFACE_WIDTH } from "../../src/report/surface-figures.ts";
import { toPng, toSvg } from "../../src/report/render.ts";
import { InputError } from "../../src/errors.ts";
import { markItems, near, svgTexts } from "./svg-marks.ts";
import { decodePng } from "./png-decode.ts";

type Spec = Record<string, any>;

const grid = (from: number, to: number, n: number) => Array.from({ length: n }, (_, i) => (from * (n - 1 - i) + to * i) / (n - 1));

test("contourSegments: isolines of x^2 + y^2 are closed polygons on the circles, within the interpolation error", () => {
  const xs = grid(-1, 1, 21), ys = grid(-1, 1, 21);
  const h = 0.1;
  const f = (x: number, y: number) => x * x + y * y;
  const z = ys.map((y) => xs.map((x) => f(x, y)));
  for (const level of [0.25, 0.5]) {
    const segs = contourSegments(xs, ys, z, [level]);
    assert.ok(segs.length > 10);
    const ends = new Map<string, number>();
    let length = 0;
    for (const s of segs) {
      assert.equal(s.level, level);
      // Along an edge f is quadratic with second derivative 2; its linear interpolant errs by at
      // most t (1 - t) h^2 <= h^2 / 4, so f at a crossing is within h^2 / 4 of the level.
      for (const [x, y] of [[s.x, s.y], [s.x2, s.y2]]) {
        assert.ok(Math.abs(f(x, y) - level) <= (h * h) / 4 + 1e-12, `f(${x}, ${y}) = ${f(x, y)} vs ${level}`);
        const key = `${x},${y}`;
        ends.set(key, (ends.get(key) ?? 0) + 1);
      }
      length += Math.hypot(s.x2 - s.x, s.y2 - s.y);
    }
    // Closed: every endpoint is shared by exactly two segments (bitwise-equal crossings).
    for (const [k, c] of ends) assert.equal(c, 2, `endpoint ${k} used ${c} times`);
    // Perimeter of a polygon inscribed-ish in the circle: within 2% of 2 pi r.
    const r = Math.sqrt(level);
    assert.ok(Math.abs(length - 2 * Math.PI * r) < 0.02 * 2 * Math.PI * r, `length ${length} vs ${2 * Math.PI * r}`);
  }
  // Levels outside the range give nothing; NaN cells are skipped.
  assert.equal(contourSegments(xs, ys, z, [3]).length, 0);
  const holed = z.map((row) => [...row]);
  holed[10][10] = NaN;
  const near0 = contourSegments(xs, ys, holed, [0.005]); // a tiny circle around the NaN
  assert.equal(near0.length, 0);
});

test("contourSegments: saddle cells follow the mean of the corners", () => {
  // One cell, corners c0 (0,0) = 2, c1 (1,0) = 0, c2 (1,1) = 2, c3 (0,1) = 0; mean 1.
  const z = [[2, 0], [0, 2]];
  // Level 1: the centre (1) is not above, c0 and c2 are: they are cut off.
  const cut = contourSegments([0, 1], [0, 1], z, [1]);
  assert.deepEqual(cut.map((s) => [s.x, s.y, s.x2, s.y2]), [[0, 0.5, 0.5, 0], [1, 0.5, 0.5, 1]]);
  // Level 0.9: the centre is above, as c0 and c2: they connect, c1 and c3 are cut off.
  const joined = contourSegments([0, 1], [0, 1], z, [0.9]);
  const pts = joined.map((s) => [s.x, s.y, s.x2, s.y2].map((v) => Number(v.toFixed(12))));
  assert.deepEqual(pts, [[0.55, 0, 1, 0.45], [0.45, 1, 0, 0.55]]);
});

test("contourLevels: strictly inside the range, linear or logarithmic", () => {
  assert.deepEqual(contourLevels(0, 10, 4, false), [2, 4, 6, 8]);
  const log = contourLevels(0.01, 100, 3, true);
  [0.1, 1, 10].forEach((v, i) => assert.ok(Math.abs(log[i] / v - 1) < 1e-12));
  assert.deepEqual(contourLevels(1, 1, 5, false), []);
});

test("surfaceChart: heat map cells, contour rules and trajectory render where the scales put them (SVG and PNG)", async () => {
  const xs = grid(-1, 1, 11), ys = grid(-2, 2, 9);
  const z = ys.map((y) => xs.map((x) => 0.1 + x * x + 0.5 * y * y));
  z[0][0] = NaN; // a diverged corner is left blank
  const trajectory = [{ x: 0.8, y: 1.6, label: "epoch 1" }, { x: 0.3, y: 0.5 }, { x: 0, y: 0 }];
  const spec = surfaceChart({ xs, ys, values: z, title: "loss surface", subtitle: "test", levels: 5, trajectory, xTitle: "d1", yTitle: "d2" }) as Spec;
  compile(spec as any);
  assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
  const cells = spec.layer[0].data.values;
  assert.equal(cells.length, 11 * 9 - 1);
  assert.equal(spec.layer[0].encoding.fill.scale.type, undefined); // max/min = 2.1/0.1 < 100: linear
  const segments = spec.layer[1].data.values;
  assert.equal(new Set(segments.map((s: Spec) => s.level)).size, 5);

  const svg = await toSvg(spec as any);
  assert.equal(markItems(svg, "rect").length, 11 * 9 - 1);
  const rules = [...svg.matchAll(/<g class="mark-rule role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)].flatMap((g) =>
    [...g[1].matchAll(/<line [^>]*transform="translate\(([-\d.e]+),([-\d.e]+)\)" x2="([-\d.e]+)" y2="([-\d.e]+)"/g)].map((m) => m.slice(1).map(Number)));
  assert.equal(rules.length, segments.length);
  // Oracle for the scales: x over the cell edges [-1.1, 1.1] onto [0, W], y over [-2.25, 2.25] onto [H, 0].
  const px = (x: number) => ((x + 1.1) / 2.2) * SURFACE_WIDTH;
  const py = (y: number) => SURFACE_HEIGHT * (1 - (y + 2.25) / 4.5);
  const s0 = segments[0];
  near(rules[0][0], px(s0.x), 0.01, "rule x");
  near(rules[0][1], py(s0.y), 0.01, "rule y");
  near(rules[0][0] + rules[0][2], px(s0.x2), 0.01, "rule x2");
  near(rules[0][1] + rules[0][3], py(s0.y2), 0.01, "rule y2");
  const symbols = markItems(svg, "symbol");
  assert.equal(symbols.length, trajectory.length + 1); // trajectory points, then the origin's cross on top
  near(symbols[0].x, px(0.8), 0.01, "trajectory start x");
  near(symbols[0].y, py(1.6), 0.01, "trajectory start y");
  near(symbols[3].x, px(0), 0.01, "origin x");
  near(symbols[3].y, py(0), 0.01, "origin y");
  assert.equal(markItems(svg, "line").length, 1);
  const texts = svgTexts(svg);
  for (const t of ["loss surface", "d1", "d2", "loss"]) assert.ok(texts.includes(t), `missing ${t}`);

  // PNG: twice the SVG size, with the viridis colours of the heat map in it.
  const w = Number(/^<svg[^>]*\swidth="([\d.]+)"/.exec(svg)![1]), h = Number(/^<svg[^>]*\sheight="([\d.]+)"/.exec(svg)![1]);
  const img = decodePng(await toPng(spec as any));
  assert.equal(img.width, Math.round(2 * w));
  assert.equal(img.height, Math.round(2 * h));
  let purple = 0, yellow = 0;
  for (let i = 0; i < img.rgba.length; i += 4) {
    const [r, g, b] = [img.rgba[i], img.rgba[i + 1], img.rgba[i + 2]];
    if (r < 90 && g < 60 && b > 70) purple++; // viridis low end (#440154)
    if (r > 200 && g > 200 && b < 80) yellow++; // viridis high end (#fde725)
  }
  assert.ok(purple > 200 && yellow > 200, `purple ${purple}, yellow ${yellow}`);
});

test("surfaceChart: log colours by default over a wide positive range; bad input throws InputError", async () => {
  const xs = grid(-1, 1, 5), ys = grid(-1, 1, 5);
  const z = ys.map((y) => xs.map((x) => 0.001 + x * x + y * y));
  const spec = surfaceChart({ xs, ys, values: z, title: "t", origin: false }) as Spec;
  assert.equal(spec.layer[0].encoding.fill.scale.type, "log");
  const levels = [...new Set(spec.layer[1].data.values.map((s: Spec) => s.level))] as number[];
  // Log-spaced: equal ratios between consecutive levels.
  for (let i = 2; i < levels.length; i++) near(levels[i] / levels[i - 1], levels[1] / levels[0], 1e-9, "level ratio");
  const svg = await toSvg(spec as any);
  assert.equal(markItems(svg, "symbol").length, 0);
  const bad = (f: () => unknown, input: string) => assert.throws(f, (e: unknown) => e instanceof InputError && e.input === input);
  bad(() => surfaceChart({ xs: [1, 0], ys, values: z, title: "t" }), "xs");
  bad(() => surfaceChart({ xs, ys: [0], values: z, title: "t" }), "ys");
  bad(() => surfaceChart({ xs, ys, values: z.slice(1), title: "t" }), "values");
  bad(() => surfaceChart({ xs, ys, values: z.map((r) => r.map(() => NaN)), title: "t" }), "values");
  bad(() => surfaceChart({ xs, ys, values: z.map((r) => r.map((v) => v - 1)), title: "t", logColor: true }), "logColor");
  bad(() => surfaceChart({ xs, ys, values: z, title: "t", trajectory: [{ x: NaN, y: 0 }] }), "trajectory");
});

test("sliceLineChart: loss and accuracy panels over alpha, the origin marked", async () => {
  const alphas = grid(-1, 1, 9);
  const spec = sliceLineChart({ alphas, loss: alphas.map((a) => 0.2 + a * a), accuracy: alphas.map((a) => 1 - 0.2 * a * a), title: "slice" }) as Spec;
  compile(spec as any);
  assert.equal(spec.vconcat.length, 2);
  const svg = await toSvg(spec as any);
  assert.equal(markItems(svg, "symbol").length, 18);
  assert.equal(markItems(svg, "rule").length, 2); // the origin in each panel
  assert.ok(svgTexts(svg).includes("θ"));
  const one = sliceLineChart({ alphas, loss: alphas.map((a) => 0.2 + a * a), accuracy: null, title: "slice" }) as Spec;
  assert.equal(one.vconcat, undefined);
});
