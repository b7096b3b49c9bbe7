/**
 * Part f: the questions of parts a and d on MNIST with an MLP of over 100k parameters, where
 * no dense matrix fits: Lanczos (top eigenpairs of H and of G) and stochastic Lanczos quadrature
 * (the density of H), float32 on the device as a user would run them at this size.
 *
 * Counting outliers needs the bulk, which Lanczos does not see. The study builds a stand-in for
 * the whole spectrum: the top-m Ritz values from Lanczos, plus n - m values placed at the
 * quantiles of the SLQ spectral measure (nodes and weights averaged over probes) with its top
 * m/n of mass removed; the same bulk / outlier split as the dense parts then reads it. The
 * quantiles are coarse (SLQ has probes x steps nodes), so the bulk's shape is approximate, but
 * its top, which is what the gap test compares the outliers with, is resolved by the SLQ nodes.
 * The split looks for gaps only among the exact values (maxOutliers = top - 1, so every ratio it
 * tests is between two Ritz values): the step from the last Ritz value down to the coarse SLQ
 * quantiles is not a gap of the spectrum, and counting it made the count follow the number of
 * eigenvalues asked for.
 */
import { makeProblem } from "../../curvature/problem.ts";
import type { LossName } from "../../nn/loss.ts";
import type { ReportVerdict } from "../../report/html.ts";
import { curvatureOperator } from "../../curvature/make.ts";
import { lanczosEigs } from "../../linalg/lanczos.ts";
import { spectralDensity, type SpectralDensity } from "../../linalg/slq.ts";
import { matchEigenvalues } from "../../spectrum/matching.ts";
import { subspaceOverlap } from "../../spectrum/overlap.ts";
import { densityChart, rankPlot } from "../../report/spectrum-figures.ts";
import { modelKey, sig, stepProgress, trainedModel, type StudyContext } from "./context.ts";
import { readStudySpectrum, readingSummary, type ReadingSummary, type StudyPart } from "./part.ts";
import { PART_TITLES } from "./settings.ts";
import { groupOffset } from "./part-c-data.ts";

const CLASSES = 10;

/** n values standing in for a spectrum: `top` (exact) plus quantiles of the SLQ measure below them. */
export function proxySpectrum(top: readonly number[], quadrature: SpectralDensity["quadrature"], n: number): Float64Array {
  const atoms: { x: number; w: number }[] = [];
  for (const q of quadrature) q.nodes.forEach((x, i) => atoms.push({ x, w: q.weights[i] / quadrature.length }));
  atoms.sort((a, b) => a.x - b.x);
  const m = top.length;
  // Remove the top m/n of mass from the upper end (the outliers Lanczos already gives exactly).
  let remove = m / n;
  for (let i = atoms.length - 1; i >= 0 && remove > 0; i--) {
    const take = Math.min(atoms[i].w, remove);
    atoms[i].w -= take;
    remove -= take;
  }
  const kept = atoms.filter((a) => a.w > 0);
  const total = kept.reduce((s, a) => s + a.w, 0);
  const out = new Float64Array(n);
  let j = 0, cum = kept.length ? kept[0].w / total : 0;
  for (let i = 0; i < n - m; i++) {
    const q = (i + 0.5) / (n - m);
    while (cum < q && j < kept.length - 1) cum += kept[++j].w / total;
    out[i] = kept.length ? kept[j].x : 0;
  }
  top.forEach((v, i) => (out[n - m + i] = v));
  return out.sort();
}

export interface PartFData {
  readonly model: string;
  readonly data: string;
  readonly parameters: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly topH: readonly number[];
  readonly topG: readonly number[];
  readonly residualsH: readonly number[];
  readonly reading: ReadingSummary;
  readonly m: number;
  readonly maxRelDiff: number | null;
  readonly overlap: number;
  readonly chance: number;
  readonly density: { readonly x: readonly number[]; readonly y: readonly number[] };
  readonly slqTrace: number;
  readonly nearZeroMass: number;
  readonly matvecs: { readonly lanczosH: number; readonly lanczosG: number; readonly slq: number };
}

/** Part f's verdicts from its numbers alone (tested on numbers where each must fail). */
export function mnistVerdicts(d: PartFData, loss: LossName, top: number): ReportVerdict[] {
  const count = d.reading.outlierCount;
  const unit = CLASSES - groupOffset(loss);
  return [
    {
      claim: `On MNIST too, the spectrum is a bulk near zero plus a few outliers, in groups of ${loss === "mse" ? "k" : "k - 1"} (k = ${CLASSES} classes)`,
      holds: count >= unit && count % unit === 0 && d.nearZeroMass >= 0.5,
      text:
        (count > 0
          ? `${count} outliers (${d.reading.outliers.slice(0, 12).map((x) => sig(x, 3)).join(", ")}) above a gap of ${d.reading.gapRatio}x `
          : `No gap of 2.5 or more (strongest ${d.reading.strongestGapRatio}x) `) +
        `among the top ${top} Lanczos values, for ${CLASSES} classes (groups of ${unit} expected, part c); ` +
        `${(100 * d.nearZeroMass).toFixed(1)}% of the SLQ mass lies within 1% of lambda max = ${sig(d.topH[0], 3)} of zero.`,
    },
    {
      claim: "The outliers come from the Gauss-Newton part",
      holds: d.maxRelDiff !== null && d.maxRelDiff <= 0.15 && d.overlap >= 0.8,
      text:
        `Top ${d.m} eigenvalues of H and G (Lanczos) differ by at most ${d.maxRelDiff === null ? "n/a" : (100 * d.maxRelDiff).toFixed(1) + "%"}; ` +
        `their eigenspaces overlap ${sig(d.overlap, 3)} (chance ${sig(d.chance, 2)}).`,
    },
  ];
}

export const partF: StudyPart<PartFData> = {
  id: "f",
  async run(ctx: StudyContext) {
    const t0 = performance.now();
    const s = ctx.settings;
    const f = s.mnist;
    const model = `mlp:784-${f.hidden}-${CLASSES}:${s.activation}`;
    const data = `mnist:n=${f.n}`;
    const tm = await trainedModel(ctx, {
      key: `${modelKey(model, data)}-${s.loss}`, model, data, seed: s.seed,
      epochs: f.epochs, batchSize: f.batchSize, lr: f.lr, momentum: s.training.momentum, loss: s.loss,
    });
    const problem = makeProblem(tm.model, tm.data, tm.theta, { dtype: "float32", loss: tm.objective });
    const H = curvatureOperator(problem, { operator: "hessian" });
    const G = curvatureOperator(problem, { operator: "ggn" });
    try {
      ctx.log(`f: Lanczos, top ${f.top} of the Hessian (${tm.model.size} parameters)`);
      const lanczosProgress = (label: string) => {
        const p = stepProgress(ctx, label);
        return (q: { step: number }) => p(q.step, f.lanczosSteps);
      };
      const lh = await lanczosEigs(H, { k: f.top, which: "largest", maxSteps: f.lanczosSteps, vectors: true, seed: s.seed, confirm: false, onProgress: lanczosProgress("Lanczos H steps") });
      ctx.log(`f: Lanczos, top ${f.top} of the Gauss-Newton matrix`);
      const lg = await lanczosEigs(G, { k: f.top, which: "largest", maxSteps: f.lanczosSteps, vectors: true, seed: s.seed, confirm: false, onProgress: lanczosProgress("Lanczos G steps") });
      ctx.log(`f: SLQ density, ${f.slqProbes} probes x ${f.slqSteps} steps`);
      const slq = await spectralDensity(H, { probes: f.slqProbes, steps: f.slqSteps, seed: s.seed, onProgress: stepProgress(ctx, "SLQ products") });
      const n = tm.model.size;
      const proxy = proxySpectrum(lh.eigenvalues, slq.quadrature, n);
      const reading = readingSummary(readStudySpectrum(proxy, { maxOutliers: f.top - 1 }));
      const m = Math.max(1, Math.min(f.top, reading.outlierCount));
      const match = matchEigenvalues(lh.eigenvalues, lg.eigenvalues, { m });
      const ov = subspaceOverlap((lh.vectors ?? []).slice(0, m), (lg.vectors ?? []).slice(0, m));
      const lmax = lh.eigenvalues[0];
      let nearZeroMass = 0;
      for (const q of slq.quadrature) q.nodes.forEach((x, i) => { if (Math.abs(x) <= 0.01 * lmax) nearZeroMass += q.weights[i] / slq.quadrature.length; });
      const d: PartFData = {
        model, data, parameters: n, trainLoss: tm.loss, trainAccuracy: tm.accuracy,
        topH: lh.eigenvalues, topG: lg.eigenvalues, residualsH: lh.residuals, reading, m,
        maxRelDiff: match.maxRelDiff, overlap: ov.overlap, chance: ov.chance,
        density: { x: slq.density.x, y: slq.density.y }, slqTrace: slq.trace.estimate, nearZeroMass,
        matvecs: { lanczosH: lh.matvecs, lanczosG: lg.matvecs, slq: slq.matvecs },
      };
      const verdicts = mnistVerdicts(d, s.loss, f.top);
      return {
        id: "f",
        title: PART_TITLES.f,
        intro:
          `${model} (${n} parameters) trained on ${f.n} MNIST digits (${s.loss === "mse" ? "squared error" : "cross-entropy"}, ${f.epochs} epochs, batch ${f.batchSize}, lr ${f.lr}): ` +
          `train loss ${sig(tm.loss, 3)}, accuracy ${(100 * tm.accuracy).toFixed(1)}%. Lanczos (full reorthogonalization, up to ${f.lanczosSteps} steps) and SLQ (${f.slqProbes} probes x ${f.slqSteps} steps), float32.`,
        verdicts,
        tables: [{
          title: "Top eigenvalues (Lanczos)",
          rows: lh.eigenvalues.map((x, i) => ({ rank: i + 1, H: sig(x, 5), "H residual": sig(lh.residuals[i], 2), G: sig(lg.eigenvalues[i], 5) })),
        }],
        data: d,
        settings: { model, data, ...f, dtype: "float32", matvecs: d.matvecs },
        seconds: (performance.now() - t0) / 1000,
      };
    } finally {
      H.dispose();
      G.dispose();
      problem.dispose();
    }
  },
  figures(r) {
    const d = r.data;
    return [
      {
        name: "f-density",
        title: "Spectral density (SLQ)",
        caption: `Smoothed Hessian spectral density of ${d.model} on ${d.data} by stochastic Lanczos quadrature (log density axis), with the Lanczos top eigenvalues marked.`,
        spec: densityChart({ grid: d.density.x, density: d.density.y, title: "Hessian spectral density", subtitle: `${d.model}, ${d.parameters} parameters`, logY: true, eigenvalues: d.topH }),
      },
      {
        name: "f-top",
        title: "Top eigenvalues, H and G",
        caption: "The largest eigenvalues of the Hessian and of the Gauss-Newton matrix (Lanczos), in order.",
        spec: rankPlot({ series: [{ name: "H", eigenvalues: d.topH }, { name: "G", eigenvalues: d.topG }], title: "Largest eigenvalues, MNIST", logY: true }),
      },
    ];
  },
};
