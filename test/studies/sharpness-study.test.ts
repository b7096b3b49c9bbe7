// The sharpness study (Cohen et al. 2021 edge of stability; Keskar et al. 2017 large-batch sharp
// minima) on a tiny setting, through the study's own `run` with a memory journal: the report's
// shape, every verdict recomputed here from the stored numbers by its documented rule, the
// figures render, and resuming (finished parts read back; with only the trained runs journaled,
// nothing is trained again and the numbers come out the same).
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { memoryJournal } from "../../src/linalg/journal.ts";
import { validateReport } from "../../src/report/html.ts";
import { toSvg } from "../../src/report/render.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { modelObjective } from "../../src/landscape/objective.ts";
import { topEigenvalue } from "../../src/landscape/sharpness.ts";
import { InputError } from "../../src/errors.ts";
import { sharpnessStudy } from "../../src/studies/sharpness/definition.ts";
import { EOS_BAND, GAP_SIGMAS, MIN_INCREASES, PRESETS, SHARPENING_START, TRACE_SIGMAS, type SharpnessStudySettings } from "../../src/studies/sharpness/settings.ts";
import type { SharpnessStudyResult } from "../../src/studies/sharpness/run.ts";
import type { EosPartResult } from "../../src/studies/sharpness/eos.ts";
import { LOSS_NOISE } from "../../src/studies/sharpness/eos.ts";
import type { BatchPartResult } from "../../src/studies/sharpness/batch.ts";

await startEngine({ device: "wasm" });

const TINY: SharpnessStudySettings = {
  preset: "quick",
  seed: 0,
  // The tracking test's setting: lr 0.5 sharpens from 3.5 to 2/lr = 4 within 80 steps.
  eos: { data: "gmm:k=3,d=4,n=30,sep=2,seed=1", model: "mlp:4-16-3:tanh", lrs: [0.5], thresholdFactors: [], time: 40, every: 10 },
  batch: {
    data: "gmm:k=3,d=4,n=20,sep=2", model: "mlp:4-8-3:tanh", testFraction: 0.2, smallBatch: 8, epochs: 20, lr: 0.05, momentum: 0.9,
    traceProbes: 5, epsilon: 1e-3, rho: 0.05, directions: 2, slicePoints: 11, sliceRange: 1, riseAt: 0.4,
  },
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
};

function checkEos(r: EosPartResult): void {
  assert.equal(r.runs.length, 1);
  const run = r.runs[0];
  const t = 2 / 0.5;
  assert.equal(run.threshold, t);
  assert.equal(run.steps, 80);
  assert.equal(run.losses.length, 80);
  assert.deepEqual(run.records.map((x) => x.step), [0, 10, 20, 30, 40, 50, 60, 70, 80]);
  // The rules of settings.ts, applied here to the stored records.
  const iStable = run.records.findIndex((x) => x.lmax <= SHARPENING_START * t);
  const iCross = run.records.findIndex((x, i) => i > iStable && x.lmax >= t);
  const a = r.analyses[0];
  assert.equal(a.stableStep, run.records[iStable].step);
  assert.equal(a.crossingStep, iCross >= 0 ? run.records[iCross].step : null);
  assert.equal(a.sharpening, iStable >= 0 && iCross >= 0);
  // Seeded: GD catapults from the unstable start (5.5 > 4) to about 3.5, then sharpens back to 2/lr.
  assert.ok(run.records[0].lmax > t && run.records[1].lmax < SHARPENING_START * t, JSON.stringify(run.records));
  assert.equal(r.verdicts[0].holds, true, r.verdicts[0].text);
  const lateStart = Math.max(40, a.crossingStep! + 1);
  assert.equal(a.lateStart, lateStart);
  const late = run.records.filter((x) => x.step >= lateStart).map((x) => x.lmax);
  assert.ok(Math.abs(a.lateMedian - median(late)) < 1e-12);
  const L = run.losses as number[];
  let rises = 0;
  for (let k = lateStart; k + 1 < L.length; k++) if (L[k + 1] > L[k] * (1 + LOSS_NOISE)) rises++;
  assert.equal(a.increases, rises);
  const mid = Math.floor((lateStart + L.length) / 2);
  const first = Math.min(...L.slice(lateStart, mid)), second = Math.min(...L.slice(mid));
  const edge = a.lateMedian >= EOS_BAND[0] * t && a.lateMedian <= EOS_BAND[1] * t && second < first && rises >= MIN_INCREASES;
  assert.equal(r.verdicts[1].holds, edge, r.verdicts[1].text);
}

function checkBatch(r: BatchPartResult): void {
  const { small, large, control } = r.solutions;
  const nTrain = r.settings.trainExamples;
  assert.equal(nTrain, 48);
  assert.equal(small.batchSize, 8);
  assert.equal(large.batchSize, nTrain);
  assert.equal(small.steps, 20 * 6);
  assert.equal(large.steps, 20);
  assert.equal(control.steps, small.steps);
  for (const m of [small, large, control]) {
    assert.ok(Math.abs(m.gap - (m.trainAccuracy - m.testAccuracy)) < 1e-15);
    assert.equal(m.slices.length, 2);
    // The slice passes through the solution: its origin is the train loss, bit for bit.
    const i0 = m.alphas.indexOf(0);
    for (const sl of m.slices) assert.equal(sl.loss[i0], m.trainLoss);
    const ip = m.alphas.findIndex((x) => Math.abs(x - 0.4) < 1e-12), im = m.alphas.findIndex((x) => Math.abs(x + 0.4) < 1e-12);
    const rise = m.slices.reduce((s, sl) => s + 0.5 * (sl.loss[ip] + sl.loss[im]) - sl.loss[i0], 0) / 2;
    assert.ok(Math.abs(m.sliceRise - rise) < 1e-12);
    assert.equal(m.sharpness.loss, m.trainLoss);
    assert.ok(m.sharpness.topEigenvalue.converged && m.sharpness.topEigenvalue.value > 0);
  }
  // Measure-by-measure comparison, recomputed from the stored sharpness reports.
  const expected = (x: typeof small, y: typeof small) => {
    const se = Math.hypot(x.sharpness.trace.standardError!, y.sharpness.trace.standardError!);
    const c = (u: number, v: number, tie = 0) => (v - u > tie ? "larger" : u - v > tie ? "smaller" : "tie");
    return [
      c(x.sharpness.topEigenvalue.value, y.sharpness.topEigenvalue.value),
      c(x.sharpness.trace.value, y.sharpness.trace.value, TRACE_SIGMAS * se),
      c(x.sharpness.epsilonSharpness.value, y.sharpness.epsilonSharpness.value),
      c(x.sharpness.sam.value, y.sharpness.sam.value),
      c(x.sliceRise, y.sliceRise),
    ];
  };
  const results = expected(small, large);
  assert.deepEqual(r.comparisons.map((c) => c.result), results);
  assert.deepEqual(r.controlComparisons.map((c) => c.result), expected(small, control));
  const sharper = results.filter((x) => x === "larger").length;
  assert.equal(r.verdicts[0].holds, sharper === results.length ? true : sharper === 0 ? false : null, r.verdicts[0].text);
  const n = r.settings.testExamples, p1 = small.testAccuracy, p2 = large.testAccuracy;
  const noise = Math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n);
  const dGap = large.gap - small.gap;
  assert.equal(r.verdicts[1].holds, Math.abs(dGap) < GAP_SIGMAS * noise ? null : dGap > 0, r.verdicts[1].text);
}

test("sharpness study, tiny preset: report, verdicts from the data, figures, resume", async () => {
  const journal = memoryJournal();
  const logs: string[] = [];
  const t0 = performance.now();
  const r = (await sharpnessStudy.run(TINY, { journal, log: (m) => logs.push(m) })) as SharpnessStudyResult;
  const first = (performance.now() - t0) / 1000;
  validateReport(r.report);
  assert.deepEqual(r.report.sections.map((s) => s.id), ["eos", "batch"]);
  assert.equal(r.trained, 4);
  for (const s of r.report.sections) {
    assert.equal(s.verdicts.length, 2);
    assert.ok(s.tables.length >= 1 && s.tables[0].rows.length >= 1);
  }
  assert.deepEqual(r.report.sections.flatMap((s) => s.figures.map((f) => f.name)), ["eos-sharpness", "eos-loss", "batch-slices", "batch-accuracy"]);
  for (const f of r.report.sections.flatMap((s) => s.figures)) {
    const svg = await toSvg(f.spec);
    assert.match(svg, /^<svg/);
    if (f.name === "eos-sharpness") assert.ok(svg.includes("2 / lr") && svg.includes("lr 0.5"), "threshold legend");
  }
  const eos = r.results[0] as EosPartResult, batch = r.results[1] as BatchPartResult;
  checkEos(eos);
  checkBatch(batch);
  // lambda_max at initialization is the instrument's value at model.init(seed).
  const model = parseModel(TINY.eos.model);
  const obj = modelObjective(model, loadData(TINY.eos.data), { loss: "mse" });
  try {
    const top = await topEigenvalue(obj, model.init(0), { seed: 0 });
    assert.equal(eos.runs[0].records[0].lmax, top.value);
  } finally {
    obj.dispose();
  }
  // Plain JSON: the stored parts parse back equal.
  assert.deepEqual(JSON.parse(JSON.stringify(r.results)), r.results);
  console.log(
    `# eos: ${eos.verdicts.map((v) => String(v.holds)).join(", ")}; batch: ${batch.verdicts.map((v) => String(v.holds)).join(", ")} ` +
    `(${batch.comparisons.map((c) => `${c.measure} ${c.result}`).join(", ")}); ${first.toFixed(1)} s`,
  );

  // Resume: both parts read back, nothing trained.
  const again = (await sharpnessStudy.run(TINY, { journal })) as SharpnessStudyResult;
  assert.deepEqual(again.resumed, ["eos", "batch"]);
  assert.equal(again.trained, 0);
  assert.deepEqual(again.report.sections, r.report.sections);

  // An interrupted study (trained runs journaled, parts not): nothing is trained again and the
  // measurements come out the same.
  const partial = memoryJournal();
  for (const k of journal.keys()) {
    if (k.startsWith("part-")) continue;
    const v = await journal.get(k);
    if (v !== undefined) await partial.put(k, v);
    else await partial.putArray(k, (await journal.getArray(k))!);
  }
  const logs2: string[] = [];
  const third = (await sharpnessStudy.run(TINY, { journal: partial, log: (m) => logs2.push(m) })) as SharpnessStudyResult;
  assert.deepEqual(third.resumed, []);
  assert.equal(third.trained, 0);
  assert.ok(!logs2.some((m) => /training|full-batch steps/.test(m)), logs2.join("\n"));
  assert.deepEqual(third.report.sections.map((s) => s.verdicts), r.report.sections.map((s) => s.verdicts));
  assert.deepEqual((third.results[1] as BatchPartResult).comparisons, batch.comparisons);
});

test("sharpness study: parts, presets, and unknown parts as an InputError naming --parts", async () => {
  assert.deepEqual(sharpnessStudy.partIds, ["eos", "batch"]);
  assert.equal(sharpnessStudy.name, "sharpness");
  assert.equal(PRESETS.quick.preset, "quick");
  assert.equal(PRESETS.full.preset, "full");
  await assert.rejects(sharpnessStudy.run(TINY, { journal: memoryJournal(), parts: ["nope"] }), (e: unknown) => e instanceof InputError && e.input === "parts");
  // One part alone runs only that part.
  const r = (await sharpnessStudy.run({ ...TINY, eos: { ...TINY.eos, time: 10 } }, { journal: memoryJournal(), parts: ["eos"] })) as SharpnessStudyResult;
  assert.deepEqual(r.report.sections.map((s) => s.id), ["eos"]);
});

/** A synthetic run: lambda_max records every 10 steps from `lmax(step)`, losses from `loss(step)`. */
function syntheticRun(lmax: (step: number) => number, loss: (step: number) => number | null, divergedAt: number | null = null) {
  const steps = 200, lr = 0.5;
  return {
    lr, threshold: 2 / lr, steps,
    records: Array.from({ length: steps / 10 + 1 }, (_, i) => ({ step: 10 * i, lmax: lmax(10 * i), converged: true })),
    losses: Array.from({ length: steps }, (_, k) => loss(k)), divergedAt, matvecs: 0, seconds: 0,
  };
}

test("edge-of-stability verdicts come from the numbers: each fails on a run that contradicts it", async () => {
  const { analyzeEos, eosVerdicts } = await import("../../src/studies/sharpness/eos.ts");
  const holds = (run: ReturnType<typeof syntheticRun>) => eosVerdicts([analyzeEos(run)]).map((v) => v.holds);
  // Threshold 4. Sharpening from 3 to 4 by step 60, then hovering at 4.1 with an oscillating,
  // decreasing loss: both hold.
  const oscillating = (k: number) => 1 / (1 + k) * (k % 3 === 0 ? 1.2 : 1);
  const edge = syntheticRun((s) => (s < 60 ? 3 + s / 60 : 4.1), oscillating);
  assert.deepEqual(holds(edge), [true, true]);
  // Never below 0.9 x 2/lr (a start at the edge): no sharpening to see.
  assert.equal(holds(syntheticRun((s) => 3.8 + s / 200, oscillating))[0], false);
  // Sharpening that never reaches 2/lr.
  assert.equal(holds(syntheticRun((s) => 3 + s / 400, oscillating))[0], false);
  // Sharpening that runs on past 2/lr (median 1.5x): no edge of stability.
  assert.equal(holds(syntheticRun((s) => (s < 60 ? 3 + s / 60 : 6), oscillating))[1], false);
  // At 2/lr but the loss decreasing at every step (stable GD): no edge either.
  assert.equal(holds(syntheticRun((s) => (s < 60 ? 3 + s / 60 : 4.1), (k) => 1 / (1 + k)))[1], false);
  // A diverged run fails both.
  assert.deepEqual(holds(syntheticRun((s) => (s < 60 ? 3 + s / 60 : 4.1), (k) => (k < 150 ? oscillating(k) : null), 150)), [false, false]);
});

test("large-batch verdicts come from the numbers: each fails on measurements that contradict it", async () => {
  const { batchVerdicts } = await import("../../src/studies/sharpness/batch.ts");
  type Input = Parameters<typeof batchVerdicts>[0];
  const solution = (batchSize: number, train: number, test: number) =>
    ({ batchSize, steps: 100, trainLoss: 0.1, trainAccuracy: train, testAccuracy: test, gap: train - test, lossGap: 0.1 });
  const cmp = (result: "larger" | "smaller" | "tie") =>
    ["lambda_max", "trace", "epsilon-sharpness", "SAM sharpness", "slice rise"].map((measure) => ({ measure, small: 1, large: result === "larger" ? 2 : 0.5, ratio: result === "larger" ? 2 : 0.5, result }));
  const input = (large: ReturnType<typeof solution>, result: "larger" | "smaller") => ({
    solutions: { small: solution(16, 1, 0.9), large, control: solution(400, 1, 0.9) },
    comparisons: cmp(result), controlComparisons: cmp(result), settings: { testExamples: 1000 },
  }) as unknown as Input;
  // Sharper by every measure, and a gap larger by 20 points (2 s.e. ~ 3 points on 1,000): both hold.
  assert.deepEqual(batchVerdicts(input(solution(400, 1, 0.7), "larger")).map((v) => v.holds), [true, true]);
  // Flatter by every measure, and a gap smaller by 10 points: both fail.
  assert.deepEqual(batchVerdicts(input(solution(400, 0.9, 0.9), "smaller")).map((v) => v.holds), [false, false]);
});
