/**
 * Part "eos" of the sharpness study: Cohen, Kaur, Li, Kolter & Talwalkar (ICLR 2021), "Gradient
 * Descent on Neural Networks Typically Occurs at the Edge of Stability". For each learning rate,
 * full-batch GD (plain SGD, batch = the whole set, no momentum) with the MSE loss, from the same
 * initialization; lambda_max of the full-batch Hessian at initialization and every `every` steps
 * (landscape/tracking.ts curvatureTracker: Lanczos, float64), and the full-batch loss at every
 * step (with batch = whole set, train()'s minibatch loss IS the full-batch loss at the theta
 * before the update). Each run is journaled ("eos-lr<lr>"), so an interrupted part resumes at
 * the first learning rate not yet run. Verdicts and thresholds: settings.ts.
 *
 * A run that diverges (non-finite loss) stops being measured at that step and fails both
 * verdicts for its learning rate; the report says so.
 */
import { parseModel } from "../../nn/spec.ts";
import { loadData } from "../../data/spec.ts";
import { train } from "../../train/train.ts";
import { curvatureTracker } from "../../landscape/tracking.ts";
import { modelObjective } from "../../landscape/objective.ts";
import { topEigenvalue } from "../../landscape/sharpness.ts";
import { gdThreshold } from "../../landscape/stability.ts";
import { lineChart } from "../../report/figures.ts";
import type { ReportFigure, ReportSection, ReportVerdict } from "../../report/html.ts";
import type { StudyRunOptions } from "../study.ts";
import { EOS_BAND, MIN_INCREASES, PART_TITLES, SHARPENING_START, dataSpecOf, eosRates, eosSteps, type EosSetup, type SharpnessStudySettings } from "./settings.ts";
import { sig as significant } from "../study.ts";
import { medianSorted } from "../../spectrum/values.ts";

/** A loss increase counts when above this relative size (Wasm tanh/exp carry ~1e-7 relative noise). */
export const LOSS_NOISE = 1e-6;

export interface EosRun {
  readonly lr: number;
  /** 2 / lr. */
  readonly threshold: number;
  readonly steps: number;
  /** lambda_max records: step 0 (initialization) then every `every` steps. */
  readonly records: readonly { readonly step: number; readonly lmax: number; readonly converged: boolean }[];
  /** Full-batch loss at theta_k, k = 0 .. steps - 1 (null where not finite). */
  readonly losses: readonly (number | null)[];
  /** First step with a non-finite loss, or null. */
  readonly divergedAt: number | null;
  readonly matvecs: number;
  readonly seconds: number;
}

/** The numbers a run's verdicts are computed from. */
export interface EosAnalysis {
  readonly lr: number;
  readonly threshold: number;
  /** Step of the first record with lambda_max <= SHARPENING_START x 2/lr (null: never). */
  readonly stableStep: number | null;
  /** Step of the first record after that one with lambda_max >= 2/lr (null: never). */
  readonly crossingStep: number | null;
  /** Smallest lambda_max from the stable record to the crossing (or the end). */
  readonly low: number;
  readonly lowStep: number;
  /** Largest lambda_max from the stable record on. */
  readonly peak: number;
  readonly peakStep: number;
  /** Late phase: steps >= lateStart (after the crossing, in the second half of the run). */
  readonly lateStart: number;
  readonly lateRecords: number;
  readonly lateMedian: number;
  readonly lateMin: number;
  readonly lateMax: number;
  /** Lowest loss in the first and in the second half of the late phase. */
  readonly lossFirstHalf: number | null;
  readonly lossSecondHalf: number | null;
  readonly lossAtEnd: number | null;
  /** Steps of the late phase where the loss rose (beyond LOSS_NOISE relative). */
  readonly increases: number;
  readonly sharpening: boolean;
  readonly edge: boolean;
  readonly divergedAt: number | null;
  readonly steps: number;
}

export interface EosPartResult {
  readonly id: "eos";
  readonly title: string;
  /** The setup with the rates used (`lrs`) and, when they were picked from it, lambda_max at init. */
  readonly settings: Omit<EosSetup, "lrs"> & { readonly lrs: readonly number[]; readonly lambdaInit: number | null; readonly dataSpec: string; readonly seed: number };
  readonly runs: readonly EosRun[];
  readonly analyses: readonly EosAnalysis[];
  readonly verdicts: readonly ReportVerdict[];
  /** Runs trained now (the others were read from the journal). */
  readonly trained: number;
  readonly seconds: number;
}

/** Three significant digits in this study's texts. */
const sig = (x: number, n = 3) => significant(x, n);


/** The verdict numbers of one run (module comment of settings.ts). */
export function analyzeEos(run: EosRun): EosAnalysis {
  const steps = run.steps;
  const t = run.threshold;
  const recs = run.records;
  // Sharpening starts at the first record clearly below 2/lr (after a catapult when GD starts unstable).
  const iStable = recs.findIndex((r) => r.lmax <= SHARPENING_START * t);
  const iCross = iStable < 0 ? -1 : recs.findIndex((r, i) => i > iStable && r.lmax >= t);
  const crossing = iCross >= 0 ? recs[iCross] : null;
  const before = recs.slice(iStable >= 0 ? iStable : 0, iCross >= 0 ? iCross + 1 : recs.length);
  const lowRec = before.reduce((a, r) => (r.lmax < a.lmax ? r : a), before[0]);
  // The peak after the stable start (an unstable start's value is not a sharpening peak).
  const after = recs.slice(Math.max(iStable, 0));
  const peakRec = after.reduce((a, r) => (r.lmax > a.lmax ? r : a), after[0]);
  const lateStart = Math.max(Math.ceil(steps / 2), crossing ? crossing.step + 1 : 0);
  const late = recs.filter((r) => r.step >= lateStart).map((r) => r.lmax);
  const lateMedian = medianSorted(Float64Array.from(late).sort());
  const L = run.losses;
  let increases = 0;
  for (let k = lateStart; k + 1 < L.length; k++) {
    const a = L[k], b = L[k + 1];
    if (a !== null && b !== null && b > a * (1 + LOSS_NOISE)) increases++;
  }
  // The loss oscillates at the edge: progress is judged on the lowest loss of each half of the late phase.
  const mid = Math.floor((lateStart + L.length) / 2);
  const lowest = (from: number, to: number) => {
    const xs = L.slice(from, to).filter((x): x is number => x !== null);
    return xs.length && xs.length === to - from ? Math.min(...xs) : null;
  };
  const lossFirstHalf = lateStart < mid ? lowest(lateStart, mid) : null;
  const lossSecondHalf = mid < L.length ? lowest(mid, L.length) : null;
  const ok = run.divergedAt === null;
  const sharpening = ok && crossing !== null && iStable >= 0;
  const edge =
    ok && late.length > 0 && lateMedian >= EOS_BAND[0] * t && lateMedian <= EOS_BAND[1] * t &&
    lossFirstHalf !== null && lossSecondHalf !== null && lossSecondHalf < lossFirstHalf && increases >= MIN_INCREASES;
  return {
    lr: run.lr, threshold: t, stableStep: iStable >= 0 ? recs[iStable].step : null, crossingStep: crossing ? crossing.step : null,
    low: lowRec.lmax, lowStep: lowRec.step, peak: peakRec.lmax, peakStep: peakRec.step,
    lateStart, lateRecords: late.length, lateMedian,
    lateMin: late.length ? Math.min(...late) : NaN, lateMax: late.length ? Math.max(...late) : NaN,
    lossFirstHalf, lossSecondHalf, lossAtEnd: L.length ? L[L.length - 1] : null,
    increases, sharpening, edge, divergedAt: run.divergedAt, steps,
  };
}

/** Both verdicts from the analyses (each holds when it holds for every learning rate). */
export function eosVerdicts(analyses: readonly EosAnalysis[]): ReportVerdict[] {
  const all = (f: (a: EosAnalysis) => boolean) => analyses.length > 0 && analyses.every(f);
  const div = (a: EosAnalysis) => (a.divergedAt !== null ? ` DIVERGED at step ${a.divergedAt}.` : "");
  const num = (x: number | null, n = 4) => (x === null ? "n/a" : String(sig(x, n)));
  const sharpen = analyses.map((a) =>
    `lr ${a.lr} (2/lr = ${sig(a.threshold)}): ` +
    (a.stableStep === null
      ? `never below ${SHARPENING_START} x 2/lr (lowest ${sig(a.low)})`
      : `below ${SHARPENING_START} x 2/lr from step ${a.stableStep}, lowest ${sig(a.low)} (${sig(a.low / a.threshold)} x 2/lr) at step ${a.lowStep}, ` +
        (a.crossingStep === null ? `never back up to 2/lr (peak ${sig(a.peak)})` : `up to 2/lr by step ${a.crossingStep}; peak ${sig(a.peak)} (${sig(a.peak / a.threshold)} x) at step ${a.peakStep}`)) +
    `.${div(a)}`);
  const edge = analyses.map((a) =>
    `lr ${a.lr}: steps ${a.lateStart}-${a.steps} (${a.lateRecords} records) median lambda_max ${sig(a.lateMedian)} = ${sig(a.lateMedian / a.threshold)} x 2/lr ` +
    `(range ${sig(a.lateMin)}-${sig(a.lateMax)}); lowest loss ${num(a.lossFirstHalf)} in the first half, ${num(a.lossSecondHalf)} in the second; ` +
    `${a.increases} rising steps.${div(a)}`);
  return [
    {
      claim: "Progressive sharpening: under full-batch GD lambda_max rises during training until it reaches 2/lr",
      holds: all((a) => a.sharpening),
      text:
        sharpen.join(" ") +
        ` Criterion, per lr: a record at or below ${SHARPENING_START} x 2/lr (records before it are an unstable start that GD leaves by a catapult), ` +
        `then a later record at or above 2/lr.`,
    },
    {
      claim: "Edge of stability: lambda_max then hovers near 2/lr while the loss keeps decreasing, non-monotonically",
      holds: all((a) => a.edge),
      text:
        edge.join(" ") +
        ` Criterion, per lr, over the late phase (after the first crossing of 2/lr and in the second half of the run): median lambda_max in ` +
        `[${EOS_BAND[0]}, ${EOS_BAND[1]}] x 2/lr; the lowest loss of its second half below that of its first half (the loss oscillates, so ` +
        `single points are not compared); and at least ${MIN_INCREASES} step(s) where the loss rose by more than ${LOSS_NOISE} relative ` +
        `(stable GD would decrease it at every step).`,
    },
  ];
}

/** lambda_max of the full-batch MSE Hessian at the seed's initialization (float64 Lanczos). */
async function initialSharpness(setup: EosSetup, dataSpec: string, seed: number): Promise<InitialSharpness> {
  const model = parseModel(setup.model);
  const objective = modelObjective(model, loadData(dataSpec), { loss: "mse", dtype: "float64" });
  try {
    const t = await topEigenvalue(objective, model.init(seed), { seed });
    return { lmax: t.value, converged: t.converged, matvecs: t.cost.matvecs };
  } finally {
    objective.dispose();
  }
}

type InitialSharpness = { lmax: number; converged: boolean; matvecs: number };

async function eosRun(
  setup: EosSetup, dataSpec: string, seed: number, lr: number, initial: () => Promise<InitialSharpness>, opts: StudyRunOptions,
): Promise<{ run: EosRun; trained: boolean }> {
  const key = `eos-lr${lr}`;
  const saved = (await opts.journal.get(key)) as EosRun | undefined;
  if (saved) {
    opts.log?.(`eos: lr ${lr} read from the journal`);
    return { run: saved, trained: false };
  }
  const t0 = performance.now();
  const steps = eosSteps(setup, lr);
  const model = parseModel(setup.model);
  const data = loadData(dataSpec);
  const init = model.init(seed);
  // lambda_max at initialization, shared by every rate (the tracker's records start at its first due step).
  const init0 = await initial();
  opts.log?.(`eos: lr ${lr} (2/lr = ${sig(2 / lr)}), ${steps} full-batch steps, lambda_max ${sig(init0.lmax)} at init`);
  const optimizer = { name: "sgd", lr, weightDecay: 0 } as const;
  const tracker = curvatureTracker(model, data, { track: ["lmax"], every: setup.every, optimizer, stepsPerEpoch: 1, loss: "mse", seed });
  const losses: (number | null)[] = [];
  let divergedAt: number | null = null;
  const bar = opts.progress?.(`lr ${lr}: steps`);
  try {
    await train(
      {
        model, train: data, loss: "mse", optimizer, batchSize: data.y.length, steps, seed,
        initTheta: init, dtype: "float64", evalEvery: steps,
      },
      {
        onStep: async (s) => {
          const finite = Number.isFinite(s.batchLoss);
          losses.push(finite ? s.batchLoss : null);
          if (!finite && divergedAt === null) divergedAt = s.step - 1;
          // A diverged theta has no curvature to measure.
          if (divergedAt === null) await tracker.callbacks.onStep(s);
          if (s.step % setup.every === 0) bar?.(s.step, steps);
        },
      },
    );
  } finally {
    tracker.dispose();
  }
  const tr = tracker.result();
  const run: EosRun = {
    lr,
    threshold: gdThreshold(lr),
    steps,
    records: [
      { step: 0, lmax: init0.lmax, converged: init0.converged },
      ...tr.records.map((r) => ({ step: r.step, lmax: r.lmax!.value, converged: r.lmax!.converged })),
    ],
    losses,
    divergedAt,
    matvecs: init0.matvecs + tr.matvecs,
    seconds: (performance.now() - t0) / 1000,
  };
  await opts.journal.put(key, run);
  return { run, trained: true };
}

export async function runEos(s: SharpnessStudySettings, opts: StudyRunOptions): Promise<EosPartResult> {
  const t0 = performance.now();
  const setup = s.eos;
  const dataSpec = dataSpecOf(setup.data, s.seed);
  const runs: EosRun[] = [];
  let trained = 0;
  // The rates: the given ones, or picked from this seed's sharpness at init (settings.ts).
  // lambda_max at the initialization, measured once (journaled) and only when needed.
  let init0: InitialSharpness | null = null;
  const initial = async () => {
    if (init0) return init0;
    const saved = (await opts.journal.get("eos-init")) as InitialSharpness | undefined;
    init0 = saved ?? (await initialSharpness(setup, dataSpec, s.seed));
    if (!saved) await opts.journal.put("eos-init", init0);
    return init0;
  };
  const lambdaInit = setup.lrs ? null : (await initial()).lmax;
  const lrs = eosRates(setup, lambdaInit ?? NaN);
  if (lambdaInit !== null) opts.log?.(`eos: lambda_max ${sig(lambdaInit)} at init; learning rates ${lrs.join(", ")} (2/lr = ${setup.thresholdFactors.join(", ")} x it)`);
  for (const lr of lrs) {
    const r = await eosRun(setup, dataSpec, s.seed, lr, initial, opts);
    runs.push(r.run);
    if (r.trained) trained++;
  }
  const analyses = runs.map((r) => analyzeEos(r));
  return {
    id: "eos",
    title: PART_TITLES.eos,
    settings: { ...setup, lrs, lambdaInit, dataSpec, seed: s.seed },
    runs,
    analyses,
    verdicts: eosVerdicts(analyses),
    trained,
    seconds: (performance.now() - t0) / 1000,
  };
}

export function eosFigures(r: EosPartResult): ReportFigure[] {
  const st = r.settings;
  const lmaxSeries = r.runs.flatMap((run) => [
    { name: `lr ${run.lr}`, group: `lr ${run.lr}`, x: run.records.map((p) => p.step), y: run.records.map((p) => p.lmax) },
    { name: `2/lr = ${sig(run.threshold)}`, group: `lr ${run.lr}`, dashed: true, x: [0, run.steps], y: [run.threshold, run.threshold] },
  ]);
  const lossSeries = r.runs.map((run) => ({
    name: `lr ${run.lr}`,
    x: run.losses.map((_, k) => k),
    y: run.losses.map((l) => l ?? NaN),
  }));
  return [
    {
      name: "eos-sharpness",
      title: "Sharpness during full-batch gradient descent",
      caption:
        `Top eigenvalue of the full-batch Hessian (Lanczos, float64) at initialization and every ${st.every} steps, one colour per learning rate; ` +
        `the dashed line of the same colour is that rate's stability threshold 2/lr. ${st.model} on ${st.dataSpec}, MSE loss.`,
      spec: lineChart({
        title: "λmax under full-batch GD",
        subtitle: `${st.model} on ${st.dataSpec}, MSE`,
        xTitle: "step",
        yTitle: "top Hessian eigenvalue",
        series: lmaxSeries,
        lineStyles: { solid: "λmax", dashed: "2 / lr" },
      }),
    },
    {
      name: "eos-loss",
      title: "Training loss during full-batch gradient descent",
      caption: "Full-batch MSE loss at every step (log scale): it keeps decreasing at the edge of stability, but not monotonically.",
      spec: lineChart({ title: "full-batch loss", subtitle: `${st.model} on ${st.dataSpec}`, xTitle: "step", yTitle: "train loss (MSE)", logY: true, series: lossSeries }),
    },
  ];
}

export function eosSection(r: EosPartResult): ReportSection {
  return {
    id: "eos",
    title: r.title,
    intro:
      "Cohen et al. (2021) observe that under full-batch gradient descent the sharpness (top Hessian eigenvalue) first rises " +
      "(progressive sharpening) until it reaches the stability threshold 2/lr of GD on a quadratic, and then, instead of diverging, " +
      "hovers at or just above 2/lr while the loss keeps decreasing over long times, non-monotonically (the edge of stability). " +
      `Here: ${r.settings.model} on ${r.settings.dataSpec} with the MSE loss, full-batch GD (no momentum) ` +
      `at learning rates ${r.settings.lrs.join(", ")} for lr x steps = ${r.settings.time} (${r.runs.map((x) => x.steps).join(", ")} steps), all from the same initialization (seed ${r.settings.seed})` +
      (r.settings.lambdaInit !== null
        ? `, where lambda_max is ${sig(r.settings.lambdaInit)}: the rates put 2/lr at ${r.settings.thresholdFactors.join(", ")} x that, two starts stable enough to sharpen from and one unstable start that GD leaves by a catapult.`
        : "."),
    verdicts: r.verdicts,
    figures: eosFigures(r),
    tables: [{
      title: "Sharpness by learning rate",
      rows: r.analyses.map((a, i) => ({
        lr: a.lr,
        "2/lr": sig(a.threshold, 4),
        "lambda_max at init": sig(r.runs[i].records[0].lmax, 4),
        "stable from step": a.stableStep,
        "lowest before 2/lr": sig(a.low, 4),
        "reaches 2/lr at step": a.crossingStep,
        peak: sig(a.peak, 4),
        "late median": sig(a.lateMedian, 4),
        "late median / (2/lr)": sig(a.lateMedian / a.threshold, 3),
        "late range": `${sig(a.lateMin)}-${sig(a.lateMax)}`,
        "lowest loss, late 1st half": a.lossFirstHalf === null ? null : sig(a.lossFirstHalf, 4),
        "lowest loss, late 2nd half": a.lossSecondHalf === null ? null : sig(a.lossSecondHalf, 4),
        steps: a.steps,
        "final loss": a.lossAtEnd === null ? null : sig(a.lossAtEnd, 4),
        "rising steps (late)": a.increases,
        diverged: a.divergedAt,
        "Hessian products": r.runs[i].matvecs,
        seconds: sig(r.runs[i].seconds, 3),
      })),
    }],
    settings: r.settings,
    seconds: r.seconds,
  };
}
