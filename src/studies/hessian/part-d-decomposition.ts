/**
 * Part d: H = G + R, with G = J^T H_L J the generalized Gauss-Newton matrix and
 * R = sum_i (dl/df_i) grad^2 f_i the residual. Sagun et al.: the outliers are linked to the
 * covariance of the gradients of the model outputs (the G part); the bulk comes from the rest.
 * On the base model of part a, the dense spectra (with the top eigenvectors) of H, G, R and the
 * centred covariance of the per-example loss gradients (gradcov, reported for comparison) and the
 * (uncentred) covariance of the output gradients grad f_c(x_i) (outcov-uncentered, the matrix the
 * paper names: centring it would remove the k mean output gradients, which carry the top group
 * of outliers; measured overlap with G's top 8 then 0.38). Compared: the top m
 * eigenvalues (m = H's outlier count) pair by pair, and the overlap of the top-m eigenspaces
 * (mean squared cosine of the principal angles; 1 = the same subspace, m/n = chance).
 */
import { makeProblem } from "../../curvature/problem.ts";
import type { LossName } from "../../nn/loss.ts";
import type { ReportVerdict } from "../../report/html.ts";
import type { OperatorName } from "../../curvature/make.ts";
import { matchEigenvalues } from "../../spectrum/matching.ts";
import { subspaceOverlap } from "../../spectrum/overlap.ts";
import { rankPlot, spectrumOverlay } from "../../report/spectrum-figures.ts";
import { denseSpectrum, sig, stepProgress, trainedModel, type StudyContext } from "./context.ts";
import { readStudySpectrum, readingSummary, type ReadingSummary, type StudyPart } from "./part.ts";
import { baseTraining } from "./part-a-spectrum.ts";
import { PART_TITLES } from "./settings.ts";

const OPERATORS: readonly { readonly op: OperatorName; readonly name: string }[] = [
  { op: "hessian", name: "H (Hessian)" },
  { op: "ggn", name: "G (Gauss-Newton)" },
  { op: "residual", name: "R = H - G" },
  { op: "gradcov", name: "gradient covariance" },
  { op: "outcov-uncentered", name: "output-gradient covariance" },
];

export interface Comparison {
  readonly a: string;
  readonly b: string;
  readonly m: number;
  readonly maxRelDiff: number | null;
  readonly overlap: number;
  readonly chance: number;
}

export interface PartDData {
  readonly model: string;
  readonly data: string;
  readonly parameters: number;
  readonly spectra: readonly { readonly name: string; readonly operator: OperatorName; readonly eigenvalues: readonly number[]; readonly reading: ReadingSummary }[];
  readonly m: number;
  readonly comparisons: readonly Comparison[];
  /** Largest |eigenvalue| of R, and H's smallest outlier and bulk top. */
  readonly residualNorm: number;
  readonly smallestOutlier: number;
  readonly bulkTop: number;
  readonly minH: number;
  readonly minR: number;
  readonly minG: number;
}

/** Part d's verdicts from its numbers alone (tested on numbers where each must fail). */
export function decompositionVerdicts(data: PartDData, objective: LossName): ReportVerdict[] {
  const { m, comparisons, residualNorm, smallestOutlier } = data;
  const hReading = data.spectra[0].reading;
  const [hg, gc, hc, , go, ho] = comparisons;
  const pct = (x: number | null) => (x === null ? "n/a" : `${(100 * x).toFixed(1)}%`);
  return [
    {
      claim: "The outliers of H come from the Gauss-Newton part G",
      holds: hg.maxRelDiff !== null && hg.maxRelDiff <= 0.1 && hg.overlap >= 0.9,
      text:
        `Top ${m} eigenvalues of H and G differ by at most ${pct(hg.maxRelDiff)}; their top-${m} eigenspaces overlap ` +
        `${sig(hg.overlap, 3)} (chance ${sig(hg.chance, 2)}).`,
    },
    {
      claim: "G's outliers match the top of the covariance of the output gradients",
      holds: go.overlap >= 0.8,
      text:
        `Top-${m} eigenspaces of G and of (1/N) sum_i sum_c grad f_c(x_i) grad f_c(x_i)^T overlap ${sig(go.overlap, 3)} ` +
        `(H vs that matrix ${sig(ho.overlap, 3)}). ` +
        (objective === "mse"
          ? "With the squared error G is exactly twice this matrix (the output Hessian is 2 I / N), so here the check is of the identity; with cross-entropy G weighs the outputs by diag(p) - p p^T and the two can differ. "
          : "With cross-entropy G weighs the outputs by diag(p) - p p^T, so the two can differ. ") +
        `Not the paper's matrix, for comparison: the centred covariance of the per-example LOSS gradients overlaps G's top ${m} by ${sig(gc.overlap, 3)} ` +
        `(H ${sig(hc.overlap, 3)}): the loss gradients weigh each example by its residual, which the trained fit makes small and uneven.`,
    },
    {
      claim: "The residual H - G stays in the bulk",
      holds: residualNorm < smallestOutlier,
      text:
        `||R|| = ${sig(residualNorm, 3)}, below H's smallest outlier ${sig(smallestOutlier, 3)} ` +
        `(H's bulk top ${sig(hReading.bulkMax, 3)}); H's negative eigenvalues come from R (G is positive semidefinite): ` +
        `min eig H = ${sig(data.minH, 3)}, R = ${sig(data.minR, 3)}, G = ${sig(data.minG, 3)}.`,
    },
  ];
}

export const partD: StudyPart<PartDData> = {
  id: "d",
  async run(ctx: StudyContext) {
    const t0 = performance.now();
    const s = ctx.settings;
    const req = baseTraining(ctx);
    const tm = await trainedModel(ctx, req);
    const problem = makeProblem(tm.model, tm.data, tm.theta, { dtype: "float64", loss: tm.objective });
    const results = [];
    try {
      for (const o of OPERATORS) {
        ctx.log(`d: dense ${o.name} of ${req.model} (${tm.model.size} parameters)`);
        results.push({ ...o, spec: await denseSpectrum(problem, o.op, { vectors: s.compareTop, onProgress: stepProgress(ctx, `${o.name} columns`) }) });
      }
    } finally {
      problem.dispose();
    }
    const spectra = results.map((r) => {
      const eigenvalues = Array.from(r.spec.eigenvalues);
      return { name: r.name, operator: r.op, eigenvalues, reading: readingSummary(readStudySpectrum(eigenvalues)) };
    });
    const [H, G, R, C, O] = results;
    const hReading = spectra[0].reading;
    const m = Math.min(s.compareTop, Math.max(1, hReading.outlierCount));
    const compare = (x: typeof H, y: typeof H): Comparison => {
      const match = matchEigenvalues(x.spec.eigenvalues, y.spec.eigenvalues, { m });
      const ov = subspaceOverlap(x.spec.top.slice(0, m), y.spec.top.slice(0, m));
      return { a: x.name, b: y.name, m, maxRelDiff: match.maxRelDiff, overlap: ov.overlap, chance: ov.chance };
    };
    const comparisons = [compare(H, G), compare(G, C), compare(H, C), compare(H, R), compare(G, O), compare(H, O)];
    const rEig = spectra[2].eigenvalues;
    const residualNorm = Math.max(Math.abs(rEig[0]), Math.abs(rEig[rEig.length - 1]));
    const smallestOutlier = hReading.outliers.length ? hReading.outliers[hReading.outliers.length - 1] : NaN;
    const data: PartDData = {
      model: req.model, data: req.data, parameters: tm.model.size, spectra, m, comparisons,
      residualNorm, smallestOutlier, bulkTop: hReading.bulkMax,
      minH: spectra[0].eigenvalues[0], minR: rEig[0], minG: spectra[1].eigenvalues[0],
    };
    const verdicts = decompositionVerdicts(data, tm.objective);
    return {
      id: "d",
      title: PART_TITLES.d,
      intro: `The base model of part a (${req.model} on ${req.data}); dense spectra and top-${s.compareTop} eigenvectors of H, G, R, the covariance of the per-example loss gradients and the covariance of the output gradients (the paper's link).`,
      verdicts,
      tables: [
        { title: "Spectra", rows: spectra.map((x) => ({ operator: x.name, outliers: x.reading.outlierCount, "lambda max": x.reading.lambdaMax, "lambda min": x.reading.lambdaMin, trace: x.reading.trace, "bulk scale": x.reading.bulkScale })) },
        { title: `Top-${m} comparisons`, rows: comparisons.map((c) => ({ a: c.a, b: c.b, "max rel. diff": c.maxRelDiff === null ? null : sig(c.maxRelDiff, 3), overlap: sig(c.overlap, 3), chance: sig(c.chance, 2) })) },
      ],
      data,
      settings: { ...req, operators: OPERATORS.map((o) => o.op), compareTop: s.compareTop },
      seconds: (performance.now() - t0) / 1000,
    };
  },
  figures(r) {
    const d = r.data;
    const named = d.spectra.map((x) => ({ name: x.name, eigenvalues: x.eigenvalues }));
    return [
      {
        name: "d-overlay",
        title: "H, G, R and the two gradient covariances",
        caption: "Eigenvalue distributions of the five operators (counts per bin, symmetric-log axis): G carries the outliers, R is spread around zero.",
        spec: spectrumOverlay({ spectra: named, title: "H = G + R", subtitle: `${d.model}, ${d.parameters} parameters`, xScale: "symlog", normalize: "count" }),
      },
      {
        name: "d-top",
        title: "Top eigenvalues of each operator",
        caption: "The largest eigenvalues of H, G, R and the two gradient covariances, in order (log scale).",
        spec: rankPlot({ series: named, title: "Largest eigenvalues", top: 30, logY: true }),
      },
    ];
  },
};
