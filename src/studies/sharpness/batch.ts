/**
 * Part "batch" of the sharpness study: Keskar, Mudigere, Nocedal, Smelyanskiy & Tang (ICLR 2017),
 * "On Large-Batch Training for Deep Learning: Generalization Gap and Sharp Minima": large-batch
 * training converges to sharper minima, and generalizes worse.
 *
 * Three runs of the same MLP from the same initialization, SGD momentum with the same constant lr
 * (settings.ts): "small" (the small batch, E epochs), "large" (the whole train split as the batch,
 * E epochs: Keskar et al.'s equal-epoch comparison, so far fewer steps) and "large, same steps"
 * (the whole split for as many steps as "small": a control that separates batch size from the
 * number of updates). Each trained model is journaled ("batch-<run>" for its training record,
 * "batch-<run>-theta" for its parameters, float64), so an interrupted part trains nothing twice.
 *
 * At each solution, on the TRAIN loss (cross-entropy, float64): landscape/sharpness.ts sharpness()
 * (lambda_max by Lanczos, trace by Hutchinson, Keskar's epsilon-sharpness, SAM's worst case in an
 * L2 ball), and `directions` 1-D slices along filter-normalized random directions (Li, Xu, Taylor,
 * Studer & Goldstein 2018, "Visualizing the Loss Landscape of Neural Nets"; directions.ts
 * randomDirection with seeds seed, seed + 1, ...: the same Gaussian for every solution, each
 * rescaled to its own filters, biases zero). The slice rise is the mean of L(theta +- a d) - L(theta)
 * over the directions at a = riseAt: a scale-invariant sharpness. Train and test accuracy and loss
 * are evaluated in float64 on the whole splits. Verdict rules: settings.ts.
 */
import { parseModel } from "../../nn/spec.ts";
import { loadData } from "../../data/spec.ts";
import { trainTestSplit } from "../../data/split.ts";
import { train, type TrainResult } from "../../train/train.ts";
import { modelObjective } from "../../landscape/objective.ts";
import { sharpness, type SharpnessReport } from "../../landscape/sharpness.ts";
import { randomDirection } from "../../landscape/directions.ts";
import { slice1d } from "../../landscape/slices.ts";
import { lineChart } from "../../report/figures.ts";
import { pathChart } from "../../report/path-figures.ts";
import type { ReportFigure, ReportSection, ReportVerdict } from "../../report/html.ts";
import type { StudyRunOptions } from "../study.ts";
import { GAP_SIGMAS, PART_TITLES, TRACE_SIGMAS, dataSpecOf, type BatchSetup, type SharpnessStudySettings } from "./settings.ts";
import { sig as significant } from "../study.ts";

export const BATCH_RUNS = ["small", "large", "control"] as const;
export type BatchRun = (typeof BATCH_RUNS)[number];

/** A trained run as journaled: its training record (theta is journaled apart). */
export interface BatchTraining {
  readonly run: BatchRun;
  readonly label: string;
  readonly batchSize: number;
  readonly steps: number;
  readonly epochs: number;
  readonly history: TrainResult["history"];
  readonly seconds: number;
}

export interface SolutionMeasures {
  readonly run: BatchRun;
  readonly label: string;
  readonly batchSize: number;
  readonly steps: number;
  readonly epochs: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly testLoss: number;
  readonly testAccuracy: number;
  /** trainAccuracy - testAccuracy. */
  readonly gap: number;
  /** testLoss - trainLoss. */
  readonly lossGap: number;
  readonly sharpness: SharpnessReport;
  /** One slice per direction: the loss (and accuracy) on the grid. */
  readonly slices: readonly { readonly seed: number; readonly loss: readonly number[]; readonly accuracy: readonly number[] | null }[];
  readonly alphas: readonly number[];
  /** Mean over directions and signs of L(theta +- riseAt d) - L(theta). */
  readonly sliceRise: number;
  /** The run's evaluations during training (for the accuracy figure). */
  readonly history: TrainResult["history"];
  readonly seconds: number;
}

export type Comparison = "larger" | "smaller" | "tie";

export interface MeasureComparison {
  readonly measure: string;
  readonly small: number;
  readonly large: number;
  readonly ratio: number;
  readonly result: Comparison;
}

export interface BatchPartResult {
  readonly id: "batch";
  readonly title: string;
  readonly settings: BatchSetup & { readonly dataSpec: string; readonly seed: number; readonly trainExamples: number; readonly testExamples: number };
  readonly solutions: Readonly<Record<BatchRun, SolutionMeasures>>;
  /** Large (equal epochs) against small, measure by measure. */
  readonly comparisons: readonly MeasureComparison[];
  /** The control (large batch, equal steps) against small. */
  readonly controlComparisons: readonly MeasureComparison[];
  readonly verdicts: readonly ReportVerdict[];
  readonly trained: number;
  readonly seconds: number;
}

/** Three significant digits in this study's texts. */
const sig = (x: number, n = 3) => significant(x, n);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * Standard error of the difference of two test accuracies on n examples, as if independent
 * binomials (the two solutions are tested on the same examples, so this overstates the noise of
 * a paired difference: a conservative yardstick).
 */
export function gapNoise(p1: number, p2: number, n: number): number {
  return Math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n);
}

/** Measure by measure: is `b` sharper than `a`? (module comment of settings.ts for the trace rule) */
export function compareSolutions(a: SolutionMeasures, b: SolutionMeasures): MeasureComparison[] {
  const cmp = (measure: string, x: number, y: number, tie = 0): MeasureComparison => ({
    measure, small: x, large: y, ratio: y / x, result: y - x > tie ? "larger" : x - y > tie ? "smaller" : "tie",
  });
  const ta = a.sharpness.trace, tb = b.sharpness.trace;
  const se = Math.hypot(ta.standardError ?? 0, tb.standardError ?? 0);
  return [
    cmp("lambda_max", a.sharpness.topEigenvalue.value, b.sharpness.topEigenvalue.value),
    cmp("trace", ta.value, tb.value, TRACE_SIGMAS * se),
    cmp("epsilon-sharpness", a.sharpness.epsilonSharpness.value, b.sharpness.epsilonSharpness.value),
    cmp("SAM sharpness", a.sharpness.sam.value, b.sharpness.sam.value),
    cmp("slice rise", a.sliceRise, b.sliceRise),
  ];
}

/** The two verdicts from the stored numbers. */
export function batchVerdicts(r: Pick<BatchPartResult, "solutions" | "comparisons" | "controlComparisons" | "settings">): ReportVerdict[] {
  const { small, large, control } = r.solutions;
  const list = (cs: readonly MeasureComparison[]) =>
    cs.map((c) => `${c.measure} ${sig(c.small)} vs ${sig(c.large)} (x${sig(c.ratio)}, ${c.result === "larger" ? "sharper" : c.result === "smaller" ? "flatter" : "tie"})`).join("; ");
  const sharper = r.comparisons.filter((c) => c.result === "larger").map((c) => c.measure);
  const nTest = r.settings.testExamples;
  const dGap = large.gap - small.gap;
  const noise = gapNoise(small.testAccuracy, large.testAccuracy, nTest);
  const gapHolds = Math.abs(dGap) < GAP_SIGMAS * noise ? null : dGap > 0;
  const runDesc = (m: SolutionMeasures) => `batch ${m.batchSize}, ${m.steps} steps, train loss ${sig(m.trainLoss)}`;
  return [
    {
      claim: "Large-batch training converges to a sharper minimum than small-batch training",
      holds: sharper.length === r.comparisons.length ? true : sharper.length === 0 ? false : null,
      text:
        `Small (${runDesc(small)}) vs large (${runDesc(large)}), equal epochs: ${list(r.comparisons)}. ` +
        `Sharper by ${sharper.length} of ${r.comparisons.length} measures${sharper.length ? ` (${sharper.join(", ")})` : ""}. ` +
        `Control, large batch with the small batch's ${control.steps} steps (train loss ${sig(control.trainLoss)}): ${list(r.controlComparisons)}; ` +
        `sharper by ${r.controlComparisons.filter((c) => c.result === "larger").length} of ${r.controlComparisons.length} measures, ` +
        `ratios ${sig(Math.min(...r.controlComparisons.map((c) => c.ratio)))}-${sig(Math.max(...r.controlComparisons.map((c) => c.ratio)))} ` +
        `(against ${sig(Math.min(...r.comparisons.map((c) => c.ratio)))}-${sig(Math.max(...r.comparisons.map((c) => c.ratio)))} at equal epochs): ` +
        `how much of the difference is the batch size rather than the number of updates. ` +
        `Criterion: holds when every measure is larger for the large batch, fails when none is (trace: beyond ${TRACE_SIGMAS} standard errors).`,
    },
    {
      claim: "The large-batch solution generalizes worse (larger generalization gap)",
      holds: gapHolds,
      text:
        `Train / test accuracy: small ${pct(small.trainAccuracy)} / ${pct(small.testAccuracy)} (gap ${pct(small.gap)}), ` +
        `large ${pct(large.trainAccuracy)} / ${pct(large.testAccuracy)} (gap ${pct(large.gap)}); ` +
        `control ${pct(control.trainAccuracy)} / ${pct(control.testAccuracy)} (gap ${pct(control.gap)}). ` +
        `Loss gap (test - train): small ${sig(small.lossGap)}, large ${sig(large.lossGap)}, control ${sig(control.lossGap)}. ` +
        `Gap difference (large - small) ${(100 * dGap).toFixed(1)} points; ${nTest} test examples (one = ${pct(1 / nTest)}), ` +
        `standard error of a difference of the two test accuracies ${(100 * noise).toFixed(1)} points. ` +
        `Criterion: holds when the large batch's accuracy gap is larger by at least ${GAP_SIGMAS} standard errors, fails when it is smaller ` +
        `by as much, inconclusive in between.`,
    },
  ];
}

async function trainedRun(
  run: BatchRun, setup: BatchSetup, seed: number, split: ReturnType<typeof trainTestSplit>, smallSteps: number, opts: StudyRunOptions,
): Promise<{ training: BatchTraining; theta: Float64Array; trained: boolean }> {
  const model = parseModel(setup.model);
  const key = `batch-${run}`;
  const savedTheta = await opts.journal.getArray(`${key}-theta`);
  const saved = (await opts.journal.get(key)) as BatchTraining | undefined;
  if (saved && savedTheta && savedTheta.length === model.size) {
    opts.log?.(`batch: ${saved.label} read from the journal`);
    return { training: saved, theta: savedTheta, trained: false };
  }
  const n = split.train.y.length;
  const batchSize = run === "small" ? Math.min(setup.smallBatch, n) : n;
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const label = run === "small" ? `small batch (${batchSize})` : run === "large" ? `large batch (${batchSize})` : `large batch (${batchSize}), same steps`;
  const length = run === "control" ? { steps: smallSteps } : { epochs: setup.epochs };
  const totalSteps = run === "control" ? smallSteps : setup.epochs * stepsPerEpoch;
  // About one evaluation per small-batch epoch's worth of steps, at most 200 per run.
  const evalEvery = Math.max(1, Math.ceil(totalSteps / Math.min(200, setup.epochs)));
  opts.log?.(`batch: training ${setup.model}, ${label}, ${totalSteps} steps`);
  const bar = opts.progress?.(`${label}: steps`);
  const r = await train(
    {
      model, train: split.train, test: split.test, batchSize, ...length, seed, dtype: "float64", evalEvery,
      optimizer: { name: "momentum", lr: setup.lr, momentum: setup.momentum },
    },
    { onStep: (s) => void (s.step % evalEvery === 0 && bar?.(s.step, totalSteps)) },
  );
  const theta = Float64Array.from(r.theta);
  const training: BatchTraining = { run, label, batchSize, steps: r.steps, epochs: r.epochs, history: r.history, seconds: r.seconds };
  await opts.journal.putArray(`${key}-theta`, theta);
  await opts.journal.put(key, training);
  return { training, theta, trained: true };
}

async function measure(
  t: BatchTraining, theta: Float64Array, setup: BatchSetup, seed: number, split: ReturnType<typeof trainTestSplit>, opts: StudyRunOptions,
): Promise<SolutionMeasures> {
  const t0 = performance.now();
  const model = parseModel(setup.model);
  const trainObj = modelObjective(model, split.train, { dtype: "float64" });
  const testObj = modelObjective(model, split.test, { dtype: "float64" });
  try {
    opts.log?.(`batch: sharpness of the ${t.label} solution`);
    const tr = await trainObj.evaluate(theta);
    const te = await testObj.evaluate(theta);
    const sh = await sharpness(trainObj, theta, {
      lanczos: { seed }, trace: { probes: setup.traceProbes, seed }, epsilon: { epsilon: setup.epsilon, seed }, sam: { rho: setup.rho, seed },
    });
    const slices: SolutionMeasures["slices"][number][] = [];
    let alphas: readonly number[] = [];
    for (let k = 0; k < setup.directions; k++) {
      const d = randomDirection(model.layout, theta, { seed: seed + k });
      const sl = await slice1d(trainObj, theta, d, { from: -setup.sliceRange, to: setup.sliceRange, points: setup.slicePoints });
      alphas = sl.alphas;
      slices.push({ seed: seed + k, loss: sl.loss, accuracy: sl.accuracy });
    }
    const nearest = (a: number) => alphas.reduce((best, x, i) => (Math.abs(x - a) < Math.abs(alphas[best] - a) ? i : best), 0);
    const ip = nearest(setup.riseAt), im = nearest(-setup.riseAt), i0 = nearest(0);
    const rise = slices.reduce((s, sl) => s + 0.5 * (sl.loss[ip] + sl.loss[im]) - sl.loss[i0], 0) / slices.length;
    return {
      run: t.run, label: t.label, batchSize: t.batchSize, steps: t.steps, epochs: t.epochs,
      trainLoss: tr.loss, trainAccuracy: tr.accuracy!, testLoss: te.loss, testAccuracy: te.accuracy!,
      gap: tr.accuracy! - te.accuracy!, lossGap: te.loss - tr.loss,
      // A plain JSON copy: eigenvectors and offsets are non-enumerable and stay out.
      sharpness: JSON.parse(JSON.stringify(sh)) as SharpnessReport,
      slices, alphas, sliceRise: rise, history: t.history,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    trainObj.dispose();
    testObj.dispose();
  }
}

export async function runBatch(s: SharpnessStudySettings, opts: StudyRunOptions): Promise<BatchPartResult> {
  const t0 = performance.now();
  const setup = s.batch;
  const dataSpec = dataSpecOf(setup.data, s.seed);
  const split = trainTestSplit(loadData(dataSpec), { fraction: 1 - setup.testFraction, seed: s.seed });
  const n = split.train.y.length;
  const smallSteps = setup.epochs * Math.ceil(n / Math.min(setup.smallBatch, n));
  const solutions = {} as Record<BatchRun, SolutionMeasures>;
  let trained = 0;
  for (const run of BATCH_RUNS) {
    const r = await trainedRun(run, setup, s.seed, split, smallSteps, opts);
    if (r.trained) trained++;
    solutions[run] = await measure(r.training, r.theta, setup, s.seed, split, opts);
  }
  const comparisons = compareSolutions(solutions.small, solutions.large);
  const controlComparisons = compareSolutions(solutions.small, solutions.control);
  const settings = { ...setup, dataSpec, seed: s.seed, trainExamples: n, testExamples: split.test.y.length };
  return {
    id: "batch",
    title: PART_TITLES.batch,
    settings,
    solutions,
    comparisons,
    controlComparisons,
    verdicts: batchVerdicts({ solutions, comparisons, controlComparisons, settings }),
    trained,
    seconds: (performance.now() - t0) / 1000,
  };
}

export function batchFigures(r: BatchPartResult): ReportFigure[] {
  const st = r.settings;
  const sols = BATCH_RUNS.map((k) => r.solutions[k]);
  const alphas = sols[0].alphas;
  const series = (f: (sl: SolutionMeasures["slices"][number]) => readonly number[] | null) =>
    sols.flatMap((m) => m.slices.map((sl) => ({ name: st.directions > 1 ? `${m.label}, direction ${sl.seed - st.seed + 1}` : m.label, values: f(sl) ?? [] })));
  const panels = [{ yTitle: "train loss", logY: true, series: series((sl) => sl.loss) }];
  if (sols[0].slices[0]?.accuracy) panels.push({ yTitle: "train accuracy", logY: false, series: series((sl) => sl.accuracy) });
  return [
    {
      name: "batch-slices",
      title: "1-D slices of the small-batch and large-batch solutions",
      caption:
        `Train loss (log scale) and accuracy along ${st.directions} filter-normalized random direction(s) (Li et al. 2018; biases held fixed) ` +
        `through each solution: theta + alpha d, alpha in [-${st.sliceRange}, ${st.sliceRange}], ${st.slicePoints} points. ${st.model} on ${st.dataSpec}.`,
      spec: pathChart({ alpha: alphas, title: "Loss around each solution", subtitle: `${st.model} on ${st.dataSpec}`, xTitle: "α  (θ + α d)", markers: [{ alpha: 0, label: "θ" }], panels }),
    },
    {
      name: "batch-accuracy",
      title: "Train and test accuracy during training",
      caption: "Whole-split accuracy against optimizer steps (log scale), solid train and dashed test, one colour per run.",
      spec: lineChart({
        title: "accuracy during training",
        subtitle: `lr ${st.lr}, momentum ${st.momentum}, ${st.epochs} epochs (control: the small batch's steps)`,
        xTitle: "step",
        yTitle: "accuracy",
        logX: true,
        lineStyles: { solid: "train", dashed: "test" },
        series: sols.flatMap((m) => {
          const h = m.history;
          return [
            { name: `${m.label}: train`, group: m.label, x: h.map((e) => e.step), y: h.map((e) => e.trainAccuracy) },
            { name: `${m.label}: test`, group: m.label, dashed: true, x: h.map((e) => e.step), y: h.map((e) => e.testAccuracy ?? NaN) },
          ];
        }),
      }),
    },
  ];
}

export function batchSection(r: BatchPartResult): ReportSection {
  const row = (m: SolutionMeasures) => ({
    run: m.label,
    batch: m.batchSize,
    steps: m.steps,
    epochs: sig(m.epochs, 4),
    "train loss": sig(m.trainLoss, 4),
    "train acc": sig(m.trainAccuracy, 4),
    "test acc": sig(m.testAccuracy, 4),
    "acc gap": sig(m.gap, 3),
    "lambda_max": sig(m.sharpness.topEigenvalue.value, 4),
    trace: sig(m.sharpness.trace.value, 4),
    "trace s.e.": m.sharpness.trace.standardError === null ? null : sig(m.sharpness.trace.standardError, 2),
    "eps-sharpness": sig(m.sharpness.epsilonSharpness.value, 4),
    "SAM sharpness": sig(m.sharpness.sam.value, 4),
    "slice rise": sig(m.sliceRise, 4),
    seconds: sig(m.seconds, 3),
  });
  const st = r.settings;
  return {
    id: "batch",
    title: r.title,
    intro:
      "Keskar et al. (2017) report that large-batch training converges to sharp minimizers of the training loss and small-batch " +
      "training to flat ones, and that the sharp ones generalize worse. Here the same network, from the same initialization, with " +
      `SGD momentum ${st.momentum} at lr ${st.lr} for ${st.epochs} epochs, with a batch of ${st.smallBatch} and with the whole train split ` +
      `(${st.trainExamples} examples) as the batch, so the large batch takes ${sig(Math.ceil(st.trainExamples / st.smallBatch))}x fewer steps; plus a control: ` +
      `the whole split for as many steps as the small batch took, which separates the batch size from the number of updates. ` +
      `${st.model} on ${st.dataSpec}, ${st.testExamples} held-out examples. Sharpness on the train loss: lambda_max (Lanczos), trace ` +
      `(Hutchinson, ${st.traceProbes} probes), Keskar's epsilon-sharpness (epsilon ${st.epsilon}), SAM's worst case (rho ${st.rho}), and the ` +
      `mean loss rise at alpha = +-${st.riseAt} on filter-normalized random slices.`,
    verdicts: r.verdicts,
    figures: batchFigures(r),
    tables: [
      { title: "The three solutions", rows: BATCH_RUNS.map((k) => row(r.solutions[k])) },
      {
        title: "Sharpness: large batch against small batch",
        rows: [
          ...r.comparisons.map((c) => ({ comparison: "large, equal epochs", measure: c.measure, small: sig(c.small, 4), large: sig(c.large, 4), ratio: sig(c.ratio, 3), result: c.result })),
          ...r.controlComparisons.map((c) => ({ comparison: "large, equal steps (control)", measure: c.measure, small: sig(c.small, 4), large: sig(c.large, 4), ratio: sig(c.ratio, 3), result: c.result })),
        ],
      },
    ],
    settings: st,
    seconds: r.seconds,
  };
}
