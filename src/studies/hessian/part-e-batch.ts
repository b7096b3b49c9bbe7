/**
 * Part e: small-batch vs large-batch training from the same start (Sagun et al. 2017, section
 * 4; Keskar et al. 2017 for the sharp / flat debate). Both runs start at the same
 * initialization with the same learning rate and momentum: minibatches of 32 for 10 epochs, and
 * the full batch (gradient descent) for 200 steps, so that both reach similar train losses (a
 * batch of 8 at lr 0.1 stays noisy, its loss twice the other's, and the comparison would be
 * between a converged and an unconverged point). Along the straight line theta(alpha) = (1 - alpha) theta_SB +
 * alpha theta_LB, alpha from -0.5 to 1.5: train loss and accuracy at every alpha, and at a few
 * points in [0, 1] the top Hessian eigenvalue (Lanczos) and the trace (Hutchinson).
 *
 * Barrier = max over alpha in [0, 1] of L(alpha) minus the straight line between the endpoint
 * losses (barrierOf). It is judged against the depth of the basin, L(init) - min(L(0), L(1)):
 * the two solutions are "joined by a flat region" when the barrier is below 5% of that depth.
 * The data decide; the verdict says which way.
 *
 * The paper's own protocol follows (Sagun et al. 2017, section 4): continue the large-batch
 * solution with small batches (batch 32, the small run's epochs and learning rate) and measure the
 * line from the large-batch point to where the small batches took it, judged as above against
 * the depth of the same basin; the top eigenvalue at both ends says whether the small batches
 * moved it to a flatter point.
 *
 * The mixture is the base one with fewer points (settings.batches.n, 200 per cluster): the
 * claim is about the loss along a path, not about outliers, and 200 full-batch epochs on the
 * 5,000 points of the spectral parts would be most of the quick study's time.
 */
import { lanczosEigs } from "../../linalg/lanczos.ts";
import { hutchinsonTrace } from "../../linalg/hutchinson.ts";
import { pathChart } from "../../report/path-figures.ts";
import { interpolate, interpolatePath } from "../../landscape/interpolation.ts";
import { modelObjective } from "../../landscape/objective.ts";
import { parseModel } from "../../nn/spec.ts";
import { cachedData, modelKey, sig, trainedModel, type StudyContext } from "./context.ts";
import type { StudyPart } from "./part.ts";
import type { ReportVerdict } from "../../report/html.ts";
import { gmmSpecOf, mlpSpecOf, PART_TITLES, type HessianStudySettings } from "./settings.ts";

export interface PathCurvature {
  readonly alpha: number;
  readonly lambdaMax: number;
  readonly trace: number;
  readonly traceStandardError: number | null;
}

export interface PartEData {
  readonly model: string;
  readonly data: string;
  readonly alphas: readonly number[];
  readonly loss: readonly number[];
  readonly accuracy: readonly number[];
  readonly initLoss: number;
  readonly barrier: number;
  readonly barrierAlpha: number;
  readonly depth: number;
  readonly barrierFraction: number;
  readonly curvature: readonly PathCurvature[];
  readonly distance: number;
  /** The paper's protocol: the large-batch solution, then small batches from there. */
  readonly continued: ContinuedPath;
}

export interface ContinuedPath {
  /** Train loss and accuracy where the small batches ended. */
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly loss: readonly number[];
  readonly barrier: number;
  readonly barrierAlpha: number;
  readonly barrierFraction: number;
  readonly distance: number;
  /** Top eigenvalue and trace at the large-batch start (alpha 0) and at the continued end (alpha 1). */
  readonly curvature: readonly PathCurvature[];
}

/**
 * Along the line from the small-batch to the large-batch solution: the loss at the study's
 * alphas (landscape/interpolation.ts), the loss at the shared initialization (the basin's
 * depth), and the top eigenvalue and trace at a few points in [0, 1].
 */
async function measurePath(
  ctx: StudyContext, model: string, data: string, thetaSmall: Float64Array, thetaLarge: Float64Array, points = ctx.settings.batches.curvaturePoints,
) {
  const s = ctx.settings, b = s.batches;
  const m = parseModel(model);
  const objective = modelObjective(m, cachedData(data), { dtype: "float64", loss: s.loss });
  try {
    const initLoss = (await objective.evaluate(m.init(s.seed))).loss;
    ctx.log(`e: loss along the path (${b.alphas.length} points)`);
    const path = await interpolatePath(objective, thetaSmall, thetaLarge, { alphas: b.alphas });
    const curvature: PathCurvature[] = [];
    for (let i = 0; i < points; i++) {
      const alpha = points === 1 ? 0 : i / (points - 1);
      ctx.log(`e: top eigenvalue and trace at alpha = ${sig(alpha, 3)}`);
      const op = objective.curvature(interpolate(thetaSmall, thetaLarge, alpha));
      try {
        const top = await lanczosEigs(op, { k: 1, which: "largest", tol: 1e-6, seed: s.seed, confirm: false });
        const tr = await hutchinsonTrace(op, { matvecs: b.traceProbes, seed: s.seed });
        curvature.push({ alpha, lambdaMax: top.eigenvalues[0], trace: tr.estimate, traceStandardError: tr.standardError });
      } finally {
        op.dispose();
      }
    }
    return { initLoss, path, curvature };
  } finally {
    objective.dispose();
  }
}

/** Part e's verdicts from its numbers alone (tested on paths where each must fail). */
export function pathVerdicts(data_: PartEData, b: Pick<HessianStudySettings["batches"], "small" | "large" | "smallEpochs">): ReportVerdict[] {
  const { alphas, loss, barrier, barrierAlpha, depth, barrierFraction, curvature, continued } = data_;
  const i0 = alphas.indexOf(0), i1 = alphas.indexOf(1);
  const [cStart, cEnd] = continued.curvature;
  const contJoined = continued.barrierFraction <= 0.05;
  const sb = curvature[0], lb = curvature[curvature.length - 1];
  const joined = barrierFraction <= 0.05;
  return [
    {
      claim: "Small-batch and large-batch solutions are joined through a flat region (no barrier on the line between them)",
      holds: joined,
      text: joined
        ? (barrier === 0
            ? `The loss along the line never rises above the straight line between its ends (barrier 0; basin depth ${sig(depth, 3)}); `
            : `The loss along the line rises at most ${sig(barrier, 3)} above the straight line between its ends (${(100 * barrierFraction).toFixed(2)}% of the basin depth ${sig(depth, 3)}); `) +
          `endpoints: batch ${b.small} loss ${sig(loss[i0], 3)}, batch ${b.large} loss ${sig(loss[i1], 3)}, ${sig(data_.distance, 3)} apart.`
        : `A barrier of ${sig(barrier, 3)} at alpha = ${sig(barrierAlpha, 2)} (${(100 * barrierFraction).toFixed(1)}% of the basin depth ${sig(depth, 3)}) separates the two solutions.`,
    },
    {
      claim: "Continued with small batches (the paper's protocol), the large-batch solution moves through a flat region",
      holds: contJoined,
      text:
        `From the batch-${b.large} solution, ${b.smallEpochs} epochs of batch ${b.small} move ${sig(continued.distance, 3)} (train loss ${sig(loss[i1], 3)} -> ${sig(continued.trainLoss, 3)}); ` +
        `the loss on the line between rises at most ${sig(continued.barrier, 3)} above the straight line between its ends ` +
        `(${(100 * continued.barrierFraction).toFixed(2)}% of the basin depth ${sig(depth, 3)}; flat below 5%). ` +
        `Top eigenvalue ${sig(cStart.lambdaMax, 3)} -> ${sig(cEnd.lambdaMax, 3)} (x${sig(cEnd.lambdaMax / cStart.lambdaMax, 3)}).`,
    },
    {
      claim: "The large-batch solution is sharper",
      holds: lb.lambdaMax > sb.lambdaMax,
      text:
        `Top eigenvalue ${sig(sb.lambdaMax, 3)} at the small-batch end and ${sig(lb.lambdaMax, 3)} at the large-batch end ` +
        `(x${sig(lb.lambdaMax / sb.lambdaMax, 3)}); trace ${sig(sb.trace, 3)} vs ${sig(lb.trace, 3)}.`,
    },
  ];
}

export const partE: StudyPart<PartEData> = {
  id: "e",
  async run(ctx: StudyContext) {
    const t0 = performance.now();
    const s = ctx.settings;
    const b = s.batches;
    const model = mlpSpecOf(s);
    const data = gmmSpecOf(s, { n: b.n });
    const key = `${modelKey(model, data)}-${s.loss}`;
    const common = { model, data, seed: s.seed, lr: b.lr, momentum: s.training.momentum, loss: s.loss };
    const small = await trainedModel(ctx, { ...common, key: `${key}-batch${b.small}`, batchSize: b.small, epochs: b.smallEpochs });
    const large = await trainedModel(ctx, { ...common, key: `${key}-batch${b.large}`, batchSize: b.large, epochs: b.largeEpochs });
    const { initLoss, path, curvature } = await measurePath(ctx, model, data, small.theta, large.theta);
    const { alphas, loss, barrier, barrierAlpha, distance } = path;
    const accuracy = path.accuracy.map((v) => v ?? NaN);
    const i0 = alphas.indexOf(0), i1 = alphas.indexOf(1);
    const depth = initLoss - Math.min(loss[i0], loss[i1]);
    const barrierFraction = depth > 0 ? barrier / depth : Infinity;
    // The paper's protocol: small batches from the large-batch solution.
    const cont = await trainedModel(ctx, { ...common, key: `${key}-batch${b.large}-then${b.small}`, batchSize: b.small, epochs: b.smallEpochs, initTheta: large.theta });
    ctx.log(`e: the line from the large-batch solution to its small-batch continuation`);
    const c = await measurePath(ctx, model, data, large.theta, cont.theta, 2);
    const continued: ContinuedPath = {
      trainLoss: cont.loss, trainAccuracy: cont.accuracy, loss: [...c.path.loss], barrier: c.path.barrier, barrierAlpha: c.path.barrierAlpha,
      barrierFraction: depth > 0 ? c.path.barrier / depth : Infinity, distance: c.path.distance, curvature: c.curvature,
    };
    const data_: PartEData = {
      model, data, alphas: [...alphas], loss: [...loss], accuracy, initLoss, barrier, barrierAlpha, depth, barrierFraction, curvature,
      distance, continued,
    };
    const verdicts = pathVerdicts(data_, b);
    return {
      id: "e",
      title: PART_TITLES.e,
      intro:
        `${model} on ${data}, both from the same initialization (seed ${s.seed}), lr ${b.lr}, momentum ${s.training.momentum}: ` +
        `batch ${b.small} for ${b.smallEpochs} epochs (train loss ${sig(small.loss, 3)}, accuracy ${(100 * small.accuracy).toFixed(1)}%) and ` +
        `batch ${b.large} for ${b.largeEpochs} epochs (train loss ${sig(large.loss, 3)}, accuracy ${(100 * large.accuracy).toFixed(1)}%); ` +
        `then, as the paper does, batch ${b.small} for ${b.smallEpochs} epochs from the large-batch solution (train loss ${sig(cont.loss, 3)}, accuracy ${(100 * cont.accuracy).toFixed(1)}%).`,
      verdicts,
      tables: [{
        title: "Curvature along the path",
        rows: curvature.map((c) => ({ alpha: sig(c.alpha, 3), "lambda max": sig(c.lambdaMax, 4), trace: sig(c.trace, 4), "trace s.e.": c.traceStandardError === null ? null : sig(c.traceStandardError, 2) })),
      }],
      data: data_,
      settings: { model, data, ...b, momentum: s.training.momentum, seed: s.seed },
      seconds: (performance.now() - t0) / 1000,
    };
  },
  figures(r) {
    const d = r.data;
    const s = (r.settings as { small: number; large: number });
    const markers = [{ alpha: 0, label: `batch ${s.small}` }, { alpha: 1, label: `batch ${s.large}` }];
    return [
      {
        name: "e-path",
        title: "Loss and accuracy along the line",
        caption: `theta(alpha) = (1 - alpha) theta_small + alpha theta_large; train loss (log scale) and accuracy.`,
        spec: pathChart({
          alpha: d.alphas, title: "Small batch to large batch", markers,
          panels: [
            { yTitle: "train loss", series: [{ name: "loss", values: d.loss }], logY: true },
            { yTitle: "train accuracy", series: [{ name: "accuracy", values: d.accuracy }] },
          ],
        }),
      },
      {
        name: "e-continued",
        title: "From the large-batch solution to its small-batch continuation",
        caption: `theta(alpha) = (1 - alpha) theta_large + alpha theta_continued, the paper's protocol; train loss (log scale).`,
        spec: pathChart({
          alpha: d.alphas, title: "Large batch, then small batch",
          markers: [{ alpha: 0, label: `batch ${s.large}` }, { alpha: 1, label: `then batch ${s.small}` }],
          panels: [{ yTitle: "train loss", series: [{ name: "loss", values: d.continued.loss }], logY: true }],
        }),
      },
      {
        name: "e-curvature",
        title: "Curvature along the line",
        caption: "Top Hessian eigenvalue (Lanczos) and trace (Hutchinson) between the two solutions.",
        spec: pathChart({
          alpha: d.curvature.map((c) => c.alpha), title: "Sharpness along the path", markers,
          panels: [
            { yTitle: "top eigenvalue", series: [{ name: "lambda max", values: d.curvature.map((c) => c.lambdaMax) }] },
            { yTitle: "trace", series: [{ name: "trace", values: d.curvature.map((c) => c.trace) }] },
          ],
        }),
      },
    ];
  },
};
