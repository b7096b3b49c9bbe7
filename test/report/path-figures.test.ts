import { test } from "node:test";
import assert from "node:assert/strict";
import { compile } from "vega-lite";
import { pathChart } from "../../src/report/path-figures.ts";
import { PANEL_WIDTH } from "../../src/report/figures.ts";
import { toSvg } from "../../src/report/render.ts";
import { InputError } from "../../src/errors.ts";
import { markItems, near, svgTexts } from "./svg-marks.ts";

type Spec = Record<string, any>;

const ALPHA = Array.from({ length: 21 }, (_, i) => -0.5 + i * 0.1);
const loss = ALPHA.map((a) => 0.05 + Math.max(0, a * (a - 1)));
const acc = ALPHA.map((a) => 1 - Math.max(0, a * (a - 1)) / 2);

test("pathChart: one panel, default markers at alpha 0 and 1, non-finite values dropped", async () => {
  const values = [...loss];
  values[0] = NaN; // diverged
  const spec = pathChart({ alpha: ALPHA, title: "path", yTitle: "loss", series: [{ name: "train", values }] }) as Spec;
  compile(spec as any);
  assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
  const data: Spec = spec.layer.at(-1);
  assert.equal(data.data.values.length, 20);
  assert.deepEqual(data.data.values[0], { series: "train", alpha: ALPHA[1], value: loss[1] });
  assert.deepEqual(spec.layer[0].data.values.map((m: Spec) => m.alpha), [0, 1]);

  const svg = await toSvg(spec as any);
  const rules = markItems(svg, "rule");
  assert.equal(rules.length, 2);
  // Oracle: x is linear over [-0.5, 1.5] (no padding, no nice): alpha 0 at a quarter of the width.
  near(rules[0].x, PANEL_WIDTH / 4, 0.01, "rule at alpha = 0");
  near(rules[1].x, (3 * PANEL_WIDTH) / 4, 0.01, "rule at alpha = 1");
  assert.equal(markItems(svg, "symbol").length, 20);
  const texts = svgTexts(svg);
  for (const t of ["α = 0", "α = 1", "loss", "path"]) assert.ok(texts.includes(t), `missing ${t}`);
});

test("pathChart: stacked panels share alpha, labels once, legends per panel, log y drops non-positive", async () => {
  const spec = pathChart({
    alpha: ALPHA,
    title: "small vs large batch",
    markers: [{ alpha: 0, label: "small batch" }, { alpha: 1, label: "large batch" }],
    panels: [
      { yTitle: "loss", logY: true, series: [{ name: "train", values: loss }, { name: "test", values: loss.map((l) => l - 0.05) }] },
      { yTitle: "accuracy", series: [{ name: "train", values: acc }] },
    ],
  }) as Spec;
  compile(spec as any);
  assert.equal(spec.vconcat.length, 2);
  assert.equal(spec.resolve.scale.x, "shared");
  const lossRows: Spec[] = spec.vconcat[0].layer.at(-1).data.values;
  // test = loss - 0.05 is 0 on [0, 1]: those 11 points are left out on the log axis.
  assert.equal(lossRows.filter((r) => r.series === "test").length, 21 - 11);
  assert.equal(spec.vconcat[0].layer.at(-1).encoding.y.scale.type, "log");
  assert.equal(spec.vconcat[0].layer.at(-1).encoding.x.title, null); // alpha titled under the last panel only

  const svg = await toSvg(spec as any);
  assert.equal(markItems(svg, "rule").length, 4); // two markers in each panel
  const labels = markItems(svg, "text").map((t) => t.text);
  assert.deepEqual(labels.sort(), ["large batch", "small batch"]); // once, in the top panel
  assert.equal(markItems(svg, "symbol").length, 21 + 10 + 21);
  const texts = svgTexts(svg);
  for (const t of ["loss", "accuracy", "train", "test"]) assert.ok(texts.includes(t), `missing ${t}`);
});

test("pathChart: bad input throws InputError naming it", () => {
  const s = [{ name: "a", values: loss }];
  const bad = (opts: any, input: string) =>
    assert.throws(() => pathChart({ alpha: ALPHA, title: "t", ...opts }), (e: unknown) => e instanceof InputError && e.input.startsWith(input));
  bad({ alpha: [0], series: s }, "alpha");
  bad({ alpha: [...ALPHA].reverse(), series: s }, "alpha");
  bad({}, "series");
  bad({ series: s, panels: [{ yTitle: "y", series: s }] }, "panels");
  bad({ panels: [] }, "panels");
  bad({ series: [{ name: "a", values: [1, 2] }] }, "series");
  bad({ series: [{ name: "a", values: loss.map(() => NaN) }] }, "series");
  bad({ series: s, markers: [{ alpha: NaN, label: "x" }] }, "markers");
});
