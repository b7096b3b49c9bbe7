/**
 * `runCoherenceStudy`: for each part, train the same MLP from the same initialization on real and
 * on random labels, recording the gradient coherence alpha / alpha_perp of a fixed sample of
 * training examples (src/landscape/coherence.ts; Chatterjee & Zielinski 2022) along the way, and
 * compare. Resumable: each finished training run is kept in the journal (key
 * "coherence-<part>-<labels>") and each finished part too ("part-<id>"); a re-run reads them back.
 * Figures are rebuilt from the stored numbers.
 */
import { runJournaledParts, studyReport, sig, type StudyRunOptions } from "../study.ts";
import { mean } from "../../spectrum/values.ts";
import type { Report, ReportFigure, ReportSection, ReportVerdict } from "../../report/html.ts";
import { lineChart } from "../../report/figures.ts";
import { loadData } from "../../data/spec.ts";
import { trainTestSplit } from "../../data/split.ts";
import { withRandomLabels } from "../../data/random-labels.ts";
import { parseModel } from "../../nn/spec.ts";
import { coherenceOverTraining, type CoherenceTrack } from "../../landscape/coherence.ts";
import { PART_IDS, PART_TITLES, dataSpecOf, type CoherenceSetup, type CoherenceStudySettings, type PartId } from "./settings.ts";

export interface CoherenceStudyOptions extends Omit<StudyRunOptions, "parts"> {
  readonly parts?: readonly PartId[];
}

export type Labels = "real" | "random";

/** The comparison of one part, as stored in the journal. */
export interface CoherencePartResult {
  readonly id: PartId;
  readonly title: string;
  readonly settings: CoherenceSetup & { readonly dataSpec: string; readonly seed: number; readonly classes: number };
  readonly runs: Readonly<Record<Labels, CoherenceTrack>>;
  readonly early: {
    readonly lastStep: number;
    readonly steps: readonly number[];
    readonly meanReal: number;
    readonly meanRandom: number;
    /** Fraction of early points where real > random. */
    readonly realAbove: number;
  };
  /** The same comparison over every recorded point after step 0. */
  readonly wholeRun: { readonly meanReal: number; readonly meanRandom: number; readonly realAbove: number; readonly points: number };
  readonly verdicts: readonly ReportVerdict[];
  readonly seconds: number;
}

const pct = (x: number | null) => (x === null ? "n/a" : `${(100 * x).toFixed(1)}%`);

async function track(
  setup: CoherenceSetup, seed: number, labels: Labels, key: string, opts: CoherenceStudyOptions,
): Promise<CoherenceTrack> {
  const saved = (await opts.journal.get(key)) as CoherenceTrack | undefined;
  if (saved) {
    opts.log?.(`${key}: read from the journal`);
    return saved;
  }
  const model = parseModel(setup.model);
  const data = loadData(dataSpecOf(setup, seed));
  const split = trainTestSplit(data, { fraction: 1 - setup.testFraction, seed });
  const train = labels === "real" ? split.train : withRandomLabels(split.train, seed + 1, `${split.train.name} (random labels, seed ${seed + 1})`);
  opts.log?.(`${key}: training ${setup.model} on ${train.name}, ${setup.steps} steps`);
  const bar = opts.progress?.(`${labels} labels`);
  const t = await coherenceOverTraining(
    {
      model, train, test: split.test, steps: setup.steps, batchSize: setup.batchSize, seed,
      optimizer: { name: "momentum", lr: setup.lr, momentum: setup.momentum },
      evalEvery: setup.every,
    },
    { every: setup.every, sampleSize: setup.sampleSize, seed, onPoint: (p) => bar?.(p.step, setup.steps) },
  );
  // A plain JSON copy (theta is non-enumerable and stays out).
  const stored = JSON.parse(JSON.stringify(t)) as CoherenceTrack;
  await opts.journal.put(key, stored);
  return stored;
}

/**
 * The comparison and the verdicts of a part, from the two tracks alone (tested on tracks where
 * each verdict must fail).
 */
export function coherenceVerdicts(
  real: CoherenceTrack, random: CoherenceTrack, setup: Pick<CoherenceSetup, "earlyFraction" | "steps">, classes: number,
): { early: CoherencePartResult["early"]; whole: { steps: number[]; meanReal: number; meanRandom: number; realAbove: number }; verdicts: ReportVerdict[] } {
  const lastStep = Math.floor(setup.earlyFraction * setup.steps);
  const byStep = new Map(random.points.map((p) => [p.step, p.normalized]));
  const compare = (maxStep: number) => {
    const pts = real.points.filter((p) => p.step > 0 && p.step <= maxStep && byStep.has(p.step));
    const a = pts.map((p) => p.normalized), b = pts.map((p) => byStep.get(p.step)!);
    return { steps: pts.map((p) => p.step), meanReal: mean(a), meanRandom: mean(b), realAbove: a.filter((v, i) => v > b[i]).length / a.length };
  };
  const { steps: earlySteps, meanReal, meanRandom, realAbove } = compare(lastStep);
  const early = earlySteps;
  const whole = compare(Infinity);
  const holds = early.length === 0 ? null : meanReal > meanRandom && realAbove >= 0.75 ? true : meanReal <= meanRandom ? false : null;
  const fr = real.training.final, fq = random.training.final;
  const chance = 1 / classes;
  const genHolds = fr.testAccuracy === null || fq.testAccuracy === null
    ? null
    : fr.testAccuracy > chance + 0.2 && fq.testAccuracy < chance + 0.15;
  const verdicts: ReportVerdict[] = [
    {
      claim: "Coherence is higher with real labels than with random labels (early phase of training)",
      holds,
      text:
        `Over the ${early.length} recorded points with 0 < step <= ${lastStep}: mean alpha/alpha_perp ${sig(meanReal)} with real labels vs ` +
        `${sig(meanRandom)} with random labels (x${sig(meanReal / meanRandom, 3)}); real above random at ${(100 * realAbove).toFixed(0)}% of them. ` +
        `At step 0 (same network): ${sig(real.points[0].normalized)} vs ${sig(random.points[0].normalized)}. ` +
        `Whole run (${whole.steps.length} points after step 0): ${sig(whole.meanReal)} vs ${sig(whole.meanRandom)}, real above random at ${(100 * whole.realAbove).toFixed(0)}%. ` +
        `alpha_perp = 1/m with m = ${real.settings.sampleSize} training examples; alpha/alpha_perp = 1 for orthogonal gradients.`,
    },
    {
      claim: "Real labels generalize; random labels are fitted without generalizing (test accuracy near chance)",
      holds: genHolds,
      text:
        `Real labels: train ${pct(fr.trainAccuracy)}, test ${pct(fr.testAccuracy)}. Random labels: train ${pct(fq.trainAccuracy)}, ` +
        `test ${pct(fq.testAccuracy)} (chance ${pct(chance)}; held-out labels are real). Criterion: real test > chance + 20 points, random test < chance + 15 points.`,
    },
  ];
  return { early: { lastStep, steps: early, meanReal, meanRandom, realAbove }, whole, verdicts };
}

async function runPart(id: PartId, settings: CoherenceStudySettings, opts: CoherenceStudyOptions): Promise<CoherencePartResult> {
  const t0 = performance.now();
  const setup = settings.parts[id];
  const seed = settings.seed;
  const real = await track(setup, seed, "real", `coherence-${id}-real`, opts);
  const random = await track(setup, seed, "random", `coherence-${id}-random`, opts);
  const classes = parseModel(setup.model).outputDim;
  const { early, whole, verdicts } = coherenceVerdicts(real, random, setup, classes);
  return {
    id,
    title: PART_TITLES[id],
    settings: { ...setup, dataSpec: dataSpecOf(setup, seed), seed, classes },
    runs: { real, random },
    early,
    wholeRun: { meanReal: whole.meanReal, meanRandom: whole.meanRandom, realAbove: whole.realAbove, points: whole.steps.length },
    verdicts,
    seconds: (performance.now() - t0) / 1000,
  };
}

export function figuresOf(r: CoherencePartResult): ReportFigure[] {
  const s = (labels: Labels) => r.runs[labels];
  return [
    {
      name: `${r.id}-coherence`,
      title: "Gradient coherence over training",
      caption:
        `alpha/alpha_perp of ${r.runs.real.settings.sampleSize} training examples (1 = orthogonal gradients), real vs random labels; ` +
        `${r.settings.model} on ${r.settings.dataSpec}. The early phase ends at step ${r.early.lastStep}.`,
      spec: lineChart({
        title: `coherence: ${r.settings.model}`,
        subtitle: r.settings.dataSpec,
        xTitle: "step",
        yTitle: "alpha / alpha_perp",
        logY: true,
        series: (["real", "random"] as const).map((l) => ({
          name: `${l} labels`, x: s(l).points.map((p) => p.step), y: s(l).points.map((p) => p.normalized),
        })),
      }),
    },
    {
      name: `${r.id}-accuracy`,
      title: "Accuracy over training",
      caption: "Train accuracy on the labels trained on, and test accuracy on held-out examples with real labels.",
      spec: lineChart({
        title: `accuracy: ${r.settings.model}`,
        xTitle: "step",
        yTitle: "accuracy",
        series: (["real", "random"] as const).flatMap((l) => [
          { name: `${l} labels, train`, x: s(l).training.history.map((h) => h.step), y: s(l).training.history.map((h) => h.trainAccuracy) },
          { name: `${l} labels, test`, x: s(l).training.history.map((h) => h.step), y: s(l).training.history.map((h) => h.testAccuracy ?? NaN) },
        ]),
      }),
    },
  ];
}

export function sectionOf(r: CoherencePartResult): ReportSection {
  const row = (l: Labels) => {
    const t = r.runs[l];
    const pts = t.points;
    return {
      labels: l,
      "alpha/alpha_perp at 0": sig(pts[0].normalized),
      "early mean": sig(l === "real" ? r.early.meanReal : r.early.meanRandom),
      "final": sig(pts[pts.length - 1].normalized),
      "train acc": sig(t.training.final.trainAccuracy, 3),
      "test acc": t.training.final.testAccuracy === null ? null : sig(t.training.final.testAccuracy, 3),
      steps: t.training.steps,
      "per-example gradients": t.cost.perExampleGradients,
      seconds: sig(t.cost.seconds, 3),
    };
  };
  return {
    id: r.id,
    title: r.title,
    intro:
      "Chatterjee (2020) explains generalization by coherent gradients: when the per-example gradients agree, a step on some examples " +
      "helps the others, so gradient descent first learns what is common to many examples. With random labels there is little to share, " +
      "so the gradients should be less coherent. Coherence alpha = ||E g_i||^2 / E ||g_i||^2 over a fixed sample of m training examples, " +
      "shown as alpha / alpha_perp = m alpha (Chatterjee & Zielinski 2022).",
    verdicts: r.verdicts,
    figures: figuresOf(r),
    tables: [{ title: "Real vs random labels", rows: [row("real"), row("random")] }],
    settings: r.settings,
    seconds: r.seconds,
  };
}

export async function runCoherenceStudy(
  settings: CoherenceStudySettings,
  opts: CoherenceStudyOptions,
): Promise<{ report: Report; results: CoherencePartResult[]; resumed: PartId[] }> {
  const { results, resumed } = await runJournaledParts(opts.parts ?? PART_IDS, opts, (id) => runPart(id, settings, opts));
  const report = studyReport(
    "Coherent gradients: real vs random labels",
    "Chatterjee (2020), \"Coherent Gradients: An Approach to Understanding Generalization in Gradient Descent-based Optimization\", " +
      `with the coherence metric of Chatterjee & Zielinski (2022); curvlab (${settings.preset} preset).`,
    results.map(sectionOf),
    settings,
    opts.engine,
    results.reduce((s, r) => s + r.seconds, 0),
  );
  return { report, results, resumed };
}
