import { test } from "node:test";
import assert from "node:assert/strict";
import { compile } from "vega-lite";
import { scatterChart } from "../../src/report/scatter-figures.ts";
import { PANEL_HEIGHT, PANEL_WIDTH } from "../../src/report/figures.ts";
import { toSvg } from "../../src/report/render.ts";
import { InputError } from "../../src/errors.ts";
import { markItems, near, pathPoints, svgTexts } from "./svg-marks.ts";

type Spec = Record<string, any>;

const KS = [2, 3, 4, 5, 6, 7, 8, 9, 10];
const points = KS.flatMap((k) => [{ x: k, y: k - 1, series: "sep 3" }, { x: k, y: k > 6 ? k - 2 : k - 1, series: "sep 1.5" }]);
const refs = [{ name: "y = k", slope: 1, intercept: 0 }, { name: "y = k - 1", slope: 1, intercept: -1 }];

test("scatterChart: every point drawn, reference lines across the x range, integer axes, legends", async () => {
  const spec = scatterChart({ points, xTitle: "clusters k", yTitle: "outliers", title: "outliers vs k", line: true, referenceLines: refs }) as Spec;
  compile(spec as any);
  assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
  const [refLayer, lineLayer, pointLayer] = spec.layer;
  assert.deepEqual(pointLayer.data.values, points);
  // Linear axes: a reference line is its two end points over [min x, max x].
  assert.deepEqual(refLayer.data.values, [
    { name: "y = k", i: 0, x: 2, y: 2 }, { name: "y = k", i: 1, x: 10, y: 10 },
    { name: "y = k - 1", i: 0, x: 2, y: 1 }, { name: "y = k - 1", i: 1, x: 10, y: 9 },
  ]);
  assert.equal(lineLayer.mark.type, "line");
  assert.equal(pointLayer.encoding.x.axis.format, "d"); // integer ticks for k
  assert.equal(pointLayer.encoding.x.scale.nice, false);

  const svg = await toSvg(spec as any);
  const symbols = markItems(svg, "symbol");
  assert.equal(symbols.length, points.length);
  // Oracle for positions: x spans [2, 10] over the width less 12 px padding at each end.
  const xs = symbols.map((s) => s.x);
  near(Math.min(...xs), 12, 0.01, "leftmost point");
  near(Math.max(...xs), PANEL_WIDTH - 12, 0.01, "rightmost point");
  const lines = markItems(svg, "line");
  assert.equal(lines.length, 4); // two reference lines + two series
  // The y = k line runs from (2, 2) to (10, 10): it rises by the same pixels per unit as the points.
  const yk = pathPoints(lines[0].d!);
  const perUnitX = (PANEL_WIDTH - 24) / 8;
  near(yk[1].x - yk[0].x, 8 * perUnitX, 0.01, "reference line x extent");
  assert.ok(yk[1].y < yk[0].y && yk[0].y <= PANEL_HEIGHT, "y = k rises left to right");
  const texts = svgTexts(svg);
  for (const t of ["clusters k", "outliers", "sep 3", "sep 1.5", "y = k", "y = k - 1"]) assert.ok(texts.includes(t), `missing ${t}`);
});

test("scatterChart: on log axes reference lines are sampled curves, non-positive parts left out", () => {
  const spec = scatterChart({
    points: [{ x: 1, y: 0.5 }, { x: 100, y: 80 }],
    xTitle: "x", yTitle: "y", title: "t", logX: true, logY: true,
    referenceLines: [{ name: "y = x - 2", slope: 1, intercept: -2 }],
  }) as Spec;
  compile(spec as any);
  const ref: Spec[] = spec.layer[0].data.values;
  // Samples log-spaced over [1, 100]; those with x <= 2 give y <= 0 and are dropped.
  const expected = Array.from({ length: 64 }, (_, i) => 100 ** (i / 63)).filter((x) => x - 2 > 0);
  assert.equal(ref.length, expected.length);
  ref.forEach((r, i) => { near(r.x, expected[i], 1e-9 * r.x, "sample x"); near(r.y, r.x - 2, 1e-12 * r.x, "sample y"); });
  assert.equal(spec.layer.at(-1).encoding.x.scale.type, "log");
  assert.equal(spec.layer.at(-1).encoding.color.legend, null); // one unnamed series
});

test("scatterChart: bad input throws InputError naming it", () => {
  const base = { xTitle: "x", yTitle: "y", title: "t" };
  const bad = (opts: any, input: string) =>
    assert.throws(() => scatterChart({ ...base, ...opts }), (e: unknown) => e instanceof InputError && e.input === input);
  bad({ points: [] }, "points");
  bad({ points: [{ x: NaN, y: 1 }] }, "points");
  bad({ points: [{ x: 0, y: 1 }], logX: true }, "points");
  bad({ points: [{ x: 1, y: -1 }], logY: true }, "points");
  bad({ points: [{ x: 1, y: 1 }], referenceLines: [refs[0], refs[0]] }, "referenceLines");
  bad({ points: [{ x: 1, y: 1 }], referenceLines: [{ name: "r", slope: Infinity, intercept: 0 }] }, "referenceLines");
});
