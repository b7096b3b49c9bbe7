/**
 * `runBatchSizeStudy`: train once (journal key "theta-..."), then for each part (operator) and
 * batch size B, the extreme eigenvalues of that operator on `draws` mini-batches of B rows
 * (Lanczos, float64; each (part, B, draw) kept in the journal as it finishes) and on the whole
 * training set, the SLQ densities at a few sizes, the fit of the excess against 1/B - 1/n, and
 * the verdicts (settings.ts has the paper's prediction). Figures are rebuilt from the numbers.
 */
import { runJournaledParts, studyReport, sig, type StudyRunOptions } from "../study.ts";
import type { Report, ReportFigure, ReportSection, ReportVerdict } from "../../report/html.ts";
import { lineChart } from "../../report/figures.ts";
import { scatterChart } from "../../report/scatter-figures.ts";
import { miniBatches } from "../../data/minibatch.ts";
import type { Dataset } from "../../data/dataset.ts";
import { makeProblem } from "../../curvature/problem.ts";
import { curvatureOperator, type OperatorName } from "../../curvature/make.ts";
import { lanczosEigs } from "../../linalg/lanczos.ts";
import { spectralDensity } from "../../linalg/slq.ts";
import { mean } from "../../spectrum/values.ts";
import { powerLawFit, spearman, type PowerLawFit } from "../../spectrum/fit.ts";
import { modelKey, trainedModel, type TrainedModel } from "../hessian/context.ts";
import { PART_IDS, PART_TITLES, dataSpecOf, type BatchSizeStudySettings, type PartId } from "./settings.ts";

export interface BatchSizeStudyOptions extends Omit<StudyRunOptions, "parts"> {
  readonly parts?: readonly PartId[];
}

const OPERATOR: Readonly<Record<PartId, OperatorName>> = { hessian: "hessian", ggn: "ggn" };
const NAME: Readonly<Record<PartId, string>> = { hessian: "H", ggn: "G" };

/** The extreme eigenvalues of one batch's operator. */
export interface Extremes {
  readonly max: number;
  /** Smallest eigenvalue (Hessian part only; G is positive semidefinite). */
  readonly min: number | null;
  readonly matvecs: number;
}

/** One batch size: its draws and their means. */
export interface SizePoint {
  readonly size: number;
  readonly draws: readonly Extremes[];
  readonly meanMax: number;
  readonly meanMin: number | null;
  /** 2 / meanMax: the largest stable learning rate of gradient descent on the batch's quadratic. */
  readonly lrMax: number;
}

export interface BatchDensity {
  readonly size: number;
  readonly x: readonly number[];
  readonly y: readonly number[];
}

export interface BatchSizePartData {
  readonly model: string;
  readonly data: string;
  readonly parameters: number;
  readonly n: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  /** Sizes below n, ascending. */
  readonly points: readonly SizePoint[];
  /** The whole training set. */
  readonly full: Extremes;
  /** Fit of meanMax(B) - max(full) against 1/B - 1/n (sizes with a positive excess; at least three). */
  readonly fit: PowerLawFit | null;
  /** Spearman correlation of B and the excess of the largest eigenvalue. */
  readonly rankCorrelation: number;
  readonly densities: readonly BatchDensity[];
  readonly matvecs: number;
}

export interface BatchSizePartResult {
  readonly id: PartId;
  readonly title: string;
  readonly data: BatchSizePartData;
  readonly verdicts: readonly ReportVerdict[];
  readonly settings: unknown;
  readonly seconds: number;
}

/** The exponent range of the prediction, with room for the noise of a few draws. */
export const SLOPE_RANGE = [0.4, 1.15] as const;
export const MIN_R2 = 0.9;
export const MAX_RANK_CORRELATION = -0.9;

async function extremes(
  tm: TrainedModel, batch: Dataset, part: PartId, settings: BatchSizeStudySettings,
): Promise<Extremes> {
  const problem = makeProblem(tm.model, batch, tm.theta, { dtype: "float64", loss: tm.objective });
  const op = curvatureOperator(problem, { operator: OPERATOR[part] });
  try {
    const opts = { k: 1, tol: settings.tol, seed: settings.seed, confirm: false } as const;
    const top = await lanczosEigs(op, { ...opts, which: "largest" });
    const bottom = part === "hessian" ? await lanczosEigs(op, { ...opts, which: "smallest" }) : null;
    return { max: top.eigenvalues[0], min: bottom ? bottom.eigenvalues[0] : null, matvecs: op.matvecs };
  } finally {
    op.dispose();
    problem.dispose();
  }
}

async function density(tm: TrainedModel, batch: Dataset, part: PartId, settings: BatchSizeStudySettings): Promise<BatchDensity> {
  const problem = makeProblem(tm.model, batch, tm.theta, { dtype: "float64", loss: tm.objective });
  const op = curvatureOperator(problem, { operator: OPERATOR[part] });
  try {
    const d = await spectralDensity(op, { probes: settings.slq.probes, steps: settings.slq.steps, seed: settings.seed, grid: 400 });
    return { size: batch.y.length, x: d.density.x.map((v) => sig(v, 6)), y: d.density.y.map((v) => sig(v, 6)) };
  } finally {
    op.dispose();
    problem.dispose();
  }
}

/** The verdicts of one part, from its numbers alone (tested on inputs where each fails). */
export function batchSizeVerdicts(part: PartId, d: Pick<BatchSizePartData, "points" | "full" | "fit" | "rankCorrelation" | "n">): ReportVerdict[] {
  const M = NAME[part];
  const above = d.points.filter((p) => p.meanMax > d.full.max);
  const below = part === "hessian" ? d.points.filter((p) => p.meanMin !== null && d.full.min !== null && p.meanMin < d.full.min) : null;
  const allDraws = d.points.flatMap((p) => p.draws);
  const drawsAbove = allDraws.filter((e) => e.max > d.full.max).length;
  const extremeHolds = above.length === d.points.length && (below === null || below.length === d.points.length);
  const smallest = d.points[0], largest = d.points[d.points.length - 1];
  const fit = d.fit;
  const fitHolds = fit === null ? null : fit.slope >= SLOPE_RANGE[0] && fit.slope <= SLOPE_RANGE[1] && fit.r2 >= MIN_R2;
  return [
    {
      claim: `Mini-batch matrices have larger extreme eigenvalues than the full-data ${M}`,
      holds: extremeHolds,
      text:
        `lambda_max(${M}_B), mean of the draws, is above the full-data ${sig(d.full.max)} at ${above.length} of ${d.points.length} sizes ` +
        `(${drawsAbove} of ${allDraws.length} single draws)` +
        (below && d.full.min !== null ? `; lambda_min(${M}_B) is below the full-data ${sig(d.full.min)} at ${below.length} of ${d.points.length}` : "") +
        `. At B = ${smallest.size}: ${sig(smallest.meanMax)} (x${sig(smallest.meanMax / d.full.max, 3)}).`,
    },
    {
      claim: "They approach the full-data values as the batch grows",
      holds: Number.isNaN(d.rankCorrelation) ? null : d.rankCorrelation <= MAX_RANK_CORRELATION,
      text:
        `Spearman correlation of B and the excess lambda_max(${M}_B) - lambda_max(${M}): ${sig(d.rankCorrelation, 3)} ` +
        `(criterion <= ${MAX_RANK_CORRELATION}); the excess falls from ${sig(smallest.meanMax - d.full.max)} at B = ${smallest.size} ` +
        `to ${sig(largest.meanMax - d.full.max)} at B = ${largest.size} (n = ${d.n}).`,
    },
    {
      claim: "The excess follows the random-matrix prediction: proportional to (1/B - 1/n)^s, s between 1/2 and 1",
      holds: fitHolds,
      text: fit === null
        ? "Fewer than three sizes with a positive excess: no fit."
        : `Log-log fit over ${fit.points} sizes: s = ${sig(fit.slope, 3)}, R^2 = ${sig(fit.r2, 3)} (criterion: s in [${SLOPE_RANGE.join(", ")}], R^2 >= ${MIN_R2}). ` +
          `s = 1: an outlier pushed out by weak noise (lambda + P sigma^2 (1/B - 1/n) / lambda); s = 1/2: the edge of strong noise (2 sigma sqrt(P (1/B - 1/n))).`,
    },
  ];
}

async function runPart(
  id: PartId, tm: TrainedModel, trainKey: string, settings: BatchSizeStudySettings, opts: BatchSizeStudyOptions,
): Promise<BatchSizePartResult> {
  const t0 = performance.now();
  const n = tm.data.y.length;
  const sizes = settings.sizes.filter((b) => b < n);
  const planned = sizes.length * settings.draws + 1;
  const bar = opts.progress?.(`${NAME[id]} on mini-batches`);
  let done = 0, matvecs = 0;
  const measure = async (key: string, batch: Dataset): Promise<Extremes> => {
    const jkey = `extremes-${trainKey}-${id}-${key}`;
    let e = (await opts.journal.get(jkey)) as Extremes | undefined;
    if (!e) {
      e = await extremes(tm, batch, id, settings);
      await opts.journal.put(jkey, e);
    }
    matvecs += e.matvecs;
    bar?.(++done, planned);
    return e;
  };
  const full = await measure("full", tm.data);
  const points: SizePoint[] = [];
  for (const size of sizes) {
    opts.log?.(`${id}: ${settings.draws} batches of ${size}`);
    const batches = miniBatches(tm.data, { size, count: settings.draws, seed: settings.seed });
    const draws: Extremes[] = [];
    for (let j = 0; j < batches.length; j++) draws.push(await measure(`B${size}-d${j}`, batches[j]));
    const meanMax = mean(draws.map((e) => e.max));
    const meanMin = id === "hessian" ? mean(draws.map((e) => e.min!)) : null;
    points.push({ size, draws, meanMax, meanMin, lrMax: 2 / meanMax });
  }
  const densities: BatchDensity[] = [];
  for (const size of [...settings.densitySizes.filter((b) => b < n), n]) {
    const jkey = `density-${trainKey}-${id}-B${size}`;
    let dd = (await opts.journal.get(jkey)) as BatchDensity | undefined;
    if (!dd) {
      opts.log?.(`${id}: SLQ density at B = ${size}`);
      const batch = size === n ? tm.data : miniBatches(tm.data, { size, seed: settings.seed })[0];
      dd = await density(tm, batch, id, settings);
      await opts.journal.put(jkey, dd);
    }
    densities.push(dd);
  }
  const excess = points.map((p) => p.meanMax - full.max);
  const positive = points.filter((_, i) => excess[i] > 0);
  const fit = positive.length >= 3
    ? powerLawFit(positive.map((p) => 1 / p.size - 1 / n), positive.map((p) => p.meanMax - full.max))
    : null;
  const rankCorrelation = points.length >= 2 ? spearman(points.map((p) => p.size), excess) : NaN;
  const data: BatchSizePartData = {
    model: settings.model, data: tm.data.name, parameters: tm.model.size, n,
    trainLoss: tm.loss, trainAccuracy: tm.accuracy,
    points, full, fit, rankCorrelation, densities, matvecs,
  };
  return {
    id,
    title: PART_TITLES[id],
    data,
    verdicts: batchSizeVerdicts(id, data),
    settings: { model: settings.model, data: tm.data.name, loss: settings.loss, training: settings.training, sizes, draws: settings.draws, tol: settings.tol, slq: settings.slq },
    seconds: (performance.now() - t0) / 1000,
  };
}

export function figuresOf(r: BatchSizePartResult): ReportFigure[] {
  const d = r.data, M = NAME[r.id];
  const figs: ReportFigure[] = [];
  const pts = (f: (e: Extremes) => number | null, series: string) =>
    d.points.flatMap((p) => p.draws.map((e) => ({ x: p.size, y: f(e)!, series })));
  figs.push({
    name: `${r.id}-extremes`,
    title: `Extreme eigenvalues of ${M}_B against the batch size`,
    caption: `Each draw's lambda_max (and, for H, |lambda_min|) on a batch of B rows, with the full-data values (B = n = ${d.n}) as the last points; ${d.model}, ${d.parameters} parameters.`,
    spec: scatterChart({
      points: [
        ...pts((e) => e.max, "lambda_max, batches"),
        { x: d.n, y: d.full.max, series: "lambda_max, full data" },
        ...(r.id === "hessian" ? [...pts((e) => Math.abs(e.min!), "|lambda_min|, batches"), { x: d.n, y: Math.abs(d.full.min!), series: "|lambda_min|, full data" }] : []),
      ],
      xTitle: "batch size B", yTitle: "eigenvalue", title: `Extreme eigenvalues of ${M}_B`, logX: true, logY: true, line: false,
    }),
  });
  if (d.fit) {
    const fit = d.fit;
    const xs = d.points.map((p) => 1 / p.size - 1 / d.n);
    figs.push({
      name: `${r.id}-excess`,
      title: "The excess against 1/B - 1/n, with the fitted power law",
      caption: `lambda_max(${M}_B) - lambda_max(${M}) (mean of the draws) on log-log axes; the fit has slope s = ${sig(fit.slope, 3)} (the prediction: between 1/2 and 1).`,
      spec: scatterChart({
        points: [
          ...d.points.filter((p) => p.meanMax > d.full.max).map((p) => ({ x: 1 / p.size - 1 / d.n, y: p.meanMax - d.full.max, series: "measured" })),
          ...xs.map((x) => ({ x, y: fit.coefficient * x ** fit.slope, series: `fit, s = ${sig(fit.slope, 3)}` })),
        ],
        xTitle: "1/B - 1/n", yTitle: "excess of lambda_max", title: "Excess of the largest eigenvalue", logX: true, logY: true, line: true,
      }),
    });
  }
  figs.push({
    name: `${r.id}-lr`,
    title: "Largest stable learning rate against the batch size",
    caption: `2 / lambda_max(${M}_B), mean of the draws, and its full-data limit ${sig(2 / d.full.max)}: it grows with B and saturates.`,
    spec: lineChart({
      title: "2 / lambda_max", xTitle: "batch size B", yTitle: "learning rate", logX: true, logY: true,
      series: [
        { name: "batches", x: [...d.points.map((p) => p.size), d.n], y: [...d.points.map((p) => p.lrMax), 2 / d.full.max] },
        { name: "full data", x: [d.points[0].size, d.n], y: [2 / d.full.max, 2 / d.full.max], dashed: true },
      ],
    }),
  });
  const peak = Math.max(...d.densities.flatMap((x) => x.y));
  figs.push({
    name: `${r.id}-density`,
    title: `SLQ spectral densities of ${M}_B`,
    caption: "Stochastic Lanczos quadrature densities (one batch per size; log density axis, clipped six decades below the peak): the support widens as the batch shrinks.",
    spec: lineChart({
      title: `Spectral density of ${M}_B`, xTitle: "eigenvalue", yTitle: "density", logY: true,
      // Six decades below the highest peak, as densityChart clips.
      series: d.densities.map((x) => ({ name: x.size === d.n ? `full (${d.n})` : `B = ${x.size}`, x: [...x.x], y: x.y.map((v) => Math.max(v, 1e-6 * peak)) })),
    }),
  });
  return figs;
}

export function sectionOf(r: BatchSizePartResult): ReportSection {
  const d = r.data;
  return {
    id: r.id,
    title: r.title,
    intro:
      `${d.model} (${d.parameters} parameters) trained on ${d.data} (train loss ${sig(d.trainLoss, 3)}, accuracy ${sig(100 * d.trainAccuracy, 3)}%); ` +
      `the operator of the mean loss over each batch, against the whole set's (n = ${d.n}).`,
    verdicts: r.verdicts,
    figures: figuresOf(r),
    tables: [{
      title: "Per batch size",
      rows: [
        ...d.points.map((p) => ({
          B: p.size, draws: p.draws.length, "lambda max": sig(p.meanMax), "x full": sig(p.meanMax / d.full.max, 3),
          ...(p.meanMin !== null ? { "lambda min": sig(p.meanMin) } : {}), "2 / lambda max": sig(p.lrMax),
        })),
        {
          B: d.n, draws: 1, "lambda max": sig(d.full.max), "x full": 1,
          ...(d.full.min !== null ? { "lambda min": sig(d.full.min) } : {}), "2 / lambda max": sig(2 / d.full.max),
        },
      ],
    }],
    settings: r.settings,
    seconds: r.seconds,
  };
}

export async function runBatchSizeStudy(
  settings: BatchSizeStudySettings,
  opts: BatchSizeStudyOptions,
): Promise<{ report: Report; results: BatchSizePartResult[]; resumed: PartId[] }> {
  const dataSpec = dataSpecOf(settings);
  const t = settings.training;
  const trainKey = `${modelKey(settings.model, dataSpec)}-e${t.epochs}-b${t.batchSize}-lr${t.lr}-s${settings.seed}-${settings.loss}`;
  let tm: TrainedModel | null = null;
  const trained = async () => (tm ??= await trainedModel({ journal: opts.journal, log: opts.log ?? (() => {}) }, {
    key: trainKey, model: settings.model, data: dataSpec, epochs: t.epochs, batchSize: t.batchSize, lr: t.lr, momentum: t.momentum,
    seed: settings.seed, loss: settings.loss,
  }));
  const { results, resumed } = await runJournaledParts(opts.parts ?? PART_IDS, opts, async (id) => runPart(id, await trained(), trainKey, settings, opts));
  const report = studyReport(
    "Mini-batch curvature against the batch size",
    "Granziol, Zohren, Roberts (2020), \"Learning Rates as a Function of Batch Size: A Random Matrix Theory Approach to Neural Network Training\"; " +
      `curvlab (${settings.preset} preset).`,
    results.map(sectionOf),
    settings,
    opts.engine,
    results.reduce((s, r) => s + r.seconds, 0),
  );
  return { report, results, resumed };
}
