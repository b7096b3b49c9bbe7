/**
 * `runIntrinsicDimStudy`: for each width, the intrinsic-dimension sweep of
 * src/landscape/intrinsic-dimension.ts (Li, Farkhoor, Liu, Yosinski 2018) on MNIST, then the
 * report: accuracy against d per width with each width's 90% line, d_int90 against the parameter
 * count, the tables, and the verdicts computed from the numbers. Every trained model (each
 * width's baseline and each (width, d) point) goes to the journal under "w<width>.baseline" and
 * "w<width>.d-<d>", so an interrupted study resumes at the first point not yet trained.
 */
import type { TopLevelSpec } from "vega-lite";
import { loadData } from "../../data/spec.ts";
import { trainTestSplit } from "../../data/split.ts";
import { parseModel } from "../../nn/spec.ts";
import { intrinsicDimensionSweep, type IntrinsicDimensionResult } from "../../landscape/intrinsic-dimension.ts";
import { lineChart } from "../../report/figures.ts";
import type { Report, ReportFigure, ReportSection, ReportTable, ReportVerdict } from "../../report/html.ts";
import { studyReport, type StudyRunOptions } from "../study.ts";
import { modelSpec, type IntrinsicDimStudySettings } from "./settings.ts";
import { sig as significant } from "../study.ts";

export interface WidthResult {
  readonly width: number;
  readonly model: string;
  readonly parameters: number;
  readonly sweep: IntrinsicDimensionResult;
}

export interface IntrinsicDimStudyData {
  readonly data: string;
  readonly trainExamples: number;
  readonly testExamples: number;
  readonly widths: readonly WidthResult[];
  /** max / min d_int90 over the widths (null unless every width has one). */
  readonly spread: number | null;
  /** max / min parameter count. */
  readonly parameterRatio: number;
}

export interface IntrinsicDimStudyResult {
  readonly report: Report;
  readonly data: IntrinsicDimStudyData;
  /** Trainings run now; the others were read from the journal. */
  readonly trainings: number;
}

/** Three significant digits in this study's texts. */
const sig = (x: number, n = 3) => significant(x, n);

export async function runIntrinsicDimStudy(s: IntrinsicDimStudySettings, opts: StudyRunOptions): Promise<IntrinsicDimStudyResult> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const dataSpec = `mnist:n=${s.mnist.n}`;
  const split = trainTestSplit(loadData(dataSpec), { fraction: 1 - s.mnist.testFraction, seed: s.seed });
  const widths: WidthResult[] = [];
  let trainings = 0;
  for (const width of s.widths) {
    const spec = modelSpec(s, width);
    const model = parseModel(spec);
    log(`width ${width}: ${spec} (${model.size} parameters), baseline and ${s.dims.length} subspace dimensions`);
    let bar: ((done: number, total: number) => void) | null = null;
    let barLabel = "";
    const sweep = await intrinsicDimensionSweep(model, split.train, s.dims.filter((d) => d <= model.size), {
      test: split.test,
      threshold: s.threshold,
      seed: s.seed,
      epochs: s.epochs,
      batchSize: s.batchSize,
      optimizer: { name: "adam", lr: s.subspaceLr },
      projection: s.projection,
      refine: s.refine,
      baseline: { epochs: s.baselineEpochs, optimizer: { name: "momentum", lr: s.baselineLr, momentum: 0.9 } },
      journal: opts.journal,
      journalPrefix: `w${width}.`,
      onStep: opts.progress
        ? (label, step, total) => {
            if (label !== barLabel) (bar = opts.progress!(`width ${width}, ${label}: steps`)), (barLabel = label);
            bar!(step, total);
          }
        : undefined,
      onProgress: (done, total, label) => log(`width ${width}: ${label} done (${done}/${total})`),
    });
    trainings += sweep.trainings;
    const found = sweep.dInt === null ? "not reached on the grid" : `${sig(sweep.dInt)} (${sweep.bracket})`;
    log(`width ${width}: baseline test accuracy ${(100 * sweep.baseline.accuracy).toFixed(1)}%, d_int${Math.round(100 * s.threshold)} ${found}`);
    widths.push({ width, model: spec, parameters: model.size, sweep });
  }
  const dints = widths.map((w) => w.sweep.dInt);
  const all = dints.every((d): d is number => d !== null);
  const spread = all && dints.length > 0 ? Math.max(...dints) / Math.min(...dints) : null;
  const params = widths.map((w) => w.parameters);
  const data: IntrinsicDimStudyData = {
    data: dataSpec,
    trainExamples: split.train.y.length,
    testExamples: split.test.y.length,
    widths,
    spread,
    parameterRatio: Math.max(...params) / Math.min(...params),
  };
  const seconds = (performance.now() - t0) / 1000;
  const report = studyReport(
    "The intrinsic dimension of MNIST MLPs",
    'A reproduction of Li, Farkhoor, Liu & Yosinski (2018), "Measuring the Intrinsic Dimension of Objective Landscapes", ' +
      `on MNIST with one-hidden-layer MLPs, with curvlab (${s.preset} preset).`,
    [section(s, data, seconds)],
    s,
    opts.engine,
    seconds,
  );
  return { report, data, trainings };
}

/** The verdicts, computed from the numbers (thresholds in settings.ts). */
export function verdicts(s: IntrinsicDimStudySettings, d: IntrinsicDimStudyData): ReportVerdict[] {
  const pct = Math.round(100 * s.threshold);
  const list = d.widths.map((w) => `${w.width}: ${w.sweep.dInt === null ? `> ${Math.max(...w.sweep.settings.dims)}` : sig(w.sweep.dInt)}`).join(", ");
  const missing = d.widths.filter((w) => w.sweep.bracket === "above-grid").map((w) => w.width);
  const below = d.widths.filter((w) => w.sweep.bracket === "below-grid").map((w) => w.width);
  const varies: ReportVerdict = {
    claim: "The intrinsic dimension varies little with width",
    holds: d.spread === null || below.length > 0 ? null : d.spread <= s.spreadLimit,
    text:
      `d_int${pct} by width: ${list}. ` +
      (d.spread === null
        ? `Width(s) ${missing.join(", ")} did not reach ${pct}% of the baseline on the grid: inconclusive.`
        : `Max/min ratio ${sig(d.spread)} (the claim holds at <= ${s.spreadLimit}) while the parameter count grows x${sig(d.parameterRatio)}` +
          (below.length ? `; width(s) ${below.join(", ")} reached the target at the smallest d of the grid, so their d_int is only bounded: inconclusive.` : ".")) +
      " Li et al. found about 750 for MNIST fully connected networks across widths.",
  };
  const fractions = d.widths.filter((w) => w.sweep.dInt !== null).map((w) => w.sweep.dInt! / w.parameters);
  const small: ReportVerdict = {
    claim: `A random subspace of a few percent of the parameters reaches ${pct}% of the full model`,
    holds: fractions.length < d.widths.length ? (fractions.length === 0 ? false : null) : Math.max(...fractions) <= 0.05,
    text:
      `d_int${pct} / D by width: ` +
      d.widths.map((w) => `${w.width}: ${w.sweep.dInt === null ? "n/a" : (100 * w.sweep.dInt / w.parameters).toFixed(2) + "%"} of ${w.parameters}`).join(", ") +
      " (the claim holds at <= 5% for every width).",
  };
  return [varies, small];
}

function accuracyFigure(s: IntrinsicDimStudySettings, d: IntrinsicDimStudyData): ReportFigure {
  const pct = Math.round(100 * s.threshold);
  const series = d.widths.flatMap((w) => {
    const xs = w.sweep.points.map((p) => p.d);
    return [
      { name: `width ${w.width}`, group: `width ${w.width}`, x: xs, y: w.sweep.points.map((p) => p.accuracy) },
      {
        name: `width ${w.width}: ${pct}% of baseline`, group: `width ${w.width}`, dashed: true,
        x: [Math.min(...xs), Math.max(...xs)], y: [w.sweep.target, w.sweep.target],
      },
    ];
  });
  const spec = lineChart({
    series,
    xTitle: "subspace dimension d (log scale)",
    yTitle: "test accuracy",
    title: "Accuracy in a random subspace",
    subtitle: `MNIST ${d.trainExamples} train / ${d.testExamples} test; dashed: ${pct}% of each width's full-model accuracy`,
    logX: true,
    lineStyles: { solid: "in the subspace", dashed: `${pct}% of full training` },
  });
  return {
    name: "accuracy-vs-d",
    title: "Test accuracy against the subspace dimension",
    caption:
      `Test accuracy of each MLP trained in a random d-dimensional subspace (theta = theta0 + P z), with ${pct}% of the same MLP's fully trained accuracy as a dashed line of the same colour; ` +
      `d_int${pct} is where a curve crosses its line.`,
    spec,
  };
}

function dintFigure(s: IntrinsicDimStudySettings, d: IntrinsicDimStudyData): ReportFigure | null {
  const pts = d.widths.filter((w) => w.sweep.dInt !== null);
  if (pts.length === 0) return null;
  const pct = Math.round(100 * s.threshold);
  return {
    name: "dint-vs-parameters",
    title: `d_int${pct} against the parameter count`,
    caption: `The intrinsic dimension of each width against its parameter count D (both log scale): flat means independent of width.`,
    spec: lineChart({
      series: [{ name: `d_int${pct}`, x: pts.map((w) => w.parameters), y: pts.map((w) => w.sweep.dInt!) }],
      xTitle: "parameters D (log scale)",
      yTitle: `d_int${pct} (log scale)`,
      title: `Intrinsic dimension by width`,
      logY: true,
      logX: true,
    }),
  };
}

export function section(s: IntrinsicDimStudySettings, d: IntrinsicDimStudyData, seconds: number): ReportSection {
  const pct = Math.round(100 * s.threshold);
  const figures = [accuracyFigure(s, d), dintFigure(s, d)].filter((f): f is ReportFigure => f !== null);
  const tables: ReportTable[] = [
    {
      title: `d_int${pct} by width`,
      rows: d.widths.map((w) => ({
        width: w.width,
        parameters: w.parameters,
        "baseline test acc": sig(w.sweep.baseline.accuracy, 4),
        target: sig(w.sweep.target, 4),
        [`d_int${pct}`]: w.sweep.dInt === null ? null : sig(w.sweep.dInt),
        "grid d": w.sweep.dIntGrid,
        bracket: w.sweep.bracket,
        "d_int / D": w.sweep.dInt === null ? null : sig(w.sweep.dInt / w.parameters),
        seconds: sig(w.sweep.baseline.seconds + w.sweep.points.reduce((a, p) => a + p.seconds, 0)),
      })),
    },
    {
      title: "Every trained point",
      rows: d.widths.flatMap((w) => w.sweep.points.map((p) => ({
        width: w.width,
        d: p.d,
        projection: p.projection,
        "test acc": sig(p.accuracy, 4),
        "train acc": sig(p.trainAccuracy, 4),
        "of baseline": sig(p.fraction, 3),
        reached: p.reached,
        "||theta - theta0||": sig(p.displacement),
        seconds: sig(p.seconds),
      }))),
    },
  ];
  return {
    id: "intrinsic-dimension",
    title: "Intrinsic dimension across widths",
    intro:
      `MNIST (${d.trainExamples} training digits, ${d.testExamples} test), mlp:784-w-10:${s.activation} for w in ${s.widths.join(", ")}. ` +
      `Each width is trained in full (SGD momentum 0.9, lr ${s.baselineLr}, ${s.baselineEpochs} epochs) and in random subspaces theta = theta0 + P z of dimension d in ${s.dims.join(", ")} ` +
      `(Adam lr ${s.subspaceLr} on z, projection ${s.projection}, ${s.epochs} epochs), batch ${s.batchSize}. ` +
      `d_int${pct}: the smallest d reaching ${pct}% of the full model's test accuracy, interpolated in log d between measured points, ` +
      `after ${s.refine} bisections (in log d) of the grid cell where each width first reaches it.`,
    verdicts: verdicts(s, d),
    figures,
    tables,
    settings: { ...s, data: d.data, interpolation: d.widths[0]?.sweep.settings.interpolation },
    seconds,
  };
}
