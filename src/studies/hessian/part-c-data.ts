/**
 * Part c: model fixed, data swept. Sagun et al.: "fixing the dimension and changing the data
 * (adding more clusters or making the data less separable) only affects the outliers". The
 * hidden layer stays; the output layer has one unit per class (cluster). Two sweeps at a fixed
 * total number of points: the number of clusters k, and the separation of the clusters at the
 * base k. For each, the dense Hessian spectrum and its bulk / outlier reading.
 *
 * The relation between k and the outlier count is a prediction the data can refute. The outliers
 * come from the Gauss-Newton part G = J^T H_L J (part d), and G's output-layer block is
 * E[h h^T] (x) H_L (h the last hidden features): every eigenvalue of the features' second moment
 * appears once per direction of the output Hessian H_L. With the squared error H_L = (2/n) I has
 * rank k, so the outliers come in groups of k; with cross-entropy the softmax Hessian
 * diag(p) - p p^T has the all-ones logit direction in its null space (adding a constant to every
 * logit changes no probability), so they come in groups of k - 1. The features of k clusters
 * have at most k strong directions (their mean and the k - 1 differences of the class means), so
 * the count is m groups with 1 <= m <= k: k ... k^2 for the squared error (k - 1 ... k(k - 1)
 * for cross-entropy); m = k once the class means stand clear of the within-class spread.
 */
import { scatterChart } from "../../report/scatter-figures.ts";
import { rankPlot, spectrumOverlay } from "../../report/spectrum-figures.ts";
import type { LossName } from "../../nn/loss.ts";
import type { ReportVerdict } from "../../report/html.ts";
import type { StudyContext } from "./context.ts";
import { sig } from "./context.ts";
import { flatRow, sweepPoint, type StudyPart, type SweepPoint } from "./part.ts";
import { spreadFactor, topMean } from "./part-b-width.ts";
import { gmmSpecOf, mlpSpecOf, PART_TITLES } from "./settings.ts";

export interface Relation {
  /** The predicted size of an outlier group: k (squared error) or k - 1 (cross-entropy). */
  readonly name: "k" | "k-1";
  readonly offset: number;
  /** Points whose count is m groups, 1 <= m <= k. */
  readonly matches: number;
  readonly total: number;
  /** m = count / (k - offset) per point, null where the count is not such a multiple. */
  readonly groups: readonly (number | null)[];
}

/** Group size of the outliers for a loss (see the module comment). */
export function groupOffset(loss: LossName): number {
  return loss === "mse" ? 0 : 1;
}

/** How many (k, count) pairs are 1..k whole groups of k - offset outliers. */
export function outlierRelation(pairs: readonly { readonly k: number; readonly count: number }[], offset: number): Relation {
  const groups = pairs.map((p) => {
    const unit = p.k - offset;
    const m = p.count / unit;
    return unit >= 1 && Number.isInteger(m) && m >= 1 && m <= p.k ? m : null;
  });
  return { name: offset === 0 ? "k" : "k-1", offset, matches: groups.filter((m) => m !== null).length, total: pairs.length, groups };
}

export interface PartCData {
  readonly clusters: readonly (SweepPoint & { readonly k: number })[];
  readonly separations: readonly (SweepPoint & { readonly sep: number })[];
  readonly relation: Relation;
  readonly clusterOutlierMeans: readonly number[];
  readonly separationOutlierMeans: readonly number[];
  readonly clusterBulkScaleFactor: number;
  readonly separationBulkScaleFactor: number;
  readonly clusterOutlierFactor: number;
  readonly separationOutlierFactor: number;
}

/**
 * Part c's summary and verdicts from its points alone (tested on spectra where each must fail):
 * `baseK` is the clusters of the separation sweep.
 */
export function dataSweepVerdicts(
  clusters: readonly (SweepPoint & { readonly k: number })[], separations: readonly (SweepPoint & { readonly sep: number })[], baseK: number, loss: LossName,
): { data: PartCData; verdicts: ReportVerdict[] } {
  const relation = outlierRelation(clusters.map((p) => ({ k: p.k, count: p.reading.outlierCount })), groupOffset(loss));
  const clusterOutlierMeans = clusters.map((p) => topMean(p.eigenvalues, Math.max(1, p.k - relation.offset)));
  const m = Math.max(1, baseK - relation.offset);
  const separationOutlierMeans = separations.map((p) => topMean(p.eigenvalues, m));
  const data: PartCData = {
    clusters, separations, relation, clusterOutlierMeans, separationOutlierMeans,
    clusterBulkScaleFactor: spreadFactor(clusters.map((p) => p.reading.bulkRange90)),
    separationBulkScaleFactor: spreadFactor(separations.map((p) => p.reading.bulkRange90)),
    clusterOutlierFactor: spreadFactor(clusterOutlierMeans),
    separationOutlierFactor: spreadFactor(separationOutlierMeans),
  };
  const counts = clusters.map((p) => `${p.reading.outlierCount} for k = ${p.k}`).join(", ");
  const kMin = clusters[0].k, kMax = clusters[clusters.length - 1].k;
  const kFactor = kMax / kMin;
  const countFactor = Math.max(1, clusters[clusters.length - 1].reading.outlierCount) / Math.max(1, clusters[0].reading.outlierCount);
  const verdicts = [
    {
      claim: "The number of outliers follows the number of clusters",
      holds: relation.matches >= Math.ceil(0.8 * relation.total),
      text:
        `Outliers: ${counts}. ${relation.matches} of ${relation.total} counts are whole groups of ${relation.name === "k" ? "k" : "k - 1"} ` +
        `(groups: ${relation.groups.map((m, i) => `${m ?? "not whole"} at k = ${clusters[i].k}`).join(", ")}; 1 to k groups expected). ` +
        (relation.offset === 0
          ? `Squared error: the output Hessian has rank k, and G's output-layer block repeats each feature direction k times.`
          : `Cross-entropy: the softmax output Hessian has the all-ones logit direction in its null space, so each feature direction appears k - 1 times.`),
    },
    {
      claim: "Less separable data moves the outliers",
      holds: data.separationOutlierFactor >= 1.2,
      text:
        `Separations ${separations.map((p) => p.sep).join(", ")}: the mean of the top ${m} eigenvalues is ` +
        `${separationOutlierMeans.map((x) => sig(x, 3)).join(", ")} (x${sig(data.separationOutlierFactor, 3)} over the sweep); ` +
        `outlier counts ${separations.map((p) => p.reading.outlierCount).join(", ")}.`,
    },
    {
      claim: "Adding clusters moves the outliers and leaves the bulk nearly in place",
      holds: data.clusterBulkScaleFactor < Math.min(kFactor, data.clusterOutlierFactor),
      text:
        `From k = ${kMin} to ${kMax} the outlier count goes ${clusters[0].reading.outlierCount} -> ${clusters[clusters.length - 1].reading.outlierCount} ` +
        `(x${sig(countFactor, 3)}) while the range of the bulk's central 90% (p05 to p95) changes x${sig(data.clusterBulkScaleFactor, 3)} ` +
        `(${clusters.map((p) => sig(p.reading.bulkRange90, 2)).join(", ")}), against the clusters' x${sig(kFactor, 3)} and the top group's mean ` +
        `x${sig(data.clusterOutlierFactor, 3)} (${clusterOutlierMeans.map((x) => sig(x, 3)).join(", ")}). ` +
        `Over the separations the bulk range changes x${sig(data.separationBulkScaleFactor, 3)} and the outliers x${sig(data.separationOutlierFactor, 3)}.`,
    },
  ];
  return { data, verdicts };
}

export const partC: StudyPart<PartCData> = {
  id: "c",
  async run(ctx: StudyContext) {
    const t0 = performance.now();
    const s = ctx.settings;
    const clusters: (SweepPoint & { k: number })[] = [];
    for (const k of s.clusters) {
      clusters.push({ k, ...(await sweepPoint(ctx, `c: k = ${k}`, mlpSpecOf(s, { k }), gmmSpecOf(s, { k }))) });
    }
    const separations: (SweepPoint & { sep: number })[] = [];
    for (const sep of s.separations) {
      separations.push({ sep, ...(await sweepPoint(ctx, `c: separation ${sep}`, mlpSpecOf(s), gmmSpecOf(s, { sep }))) });
    }
    const { data, verdicts } = dataSweepVerdicts(clusters, separations, s.gmm.k, s.loss);
    return {
      id: "c",
      title: PART_TITLES.c,
      intro:
        `Hidden width ${s.hidden}, the same training; clusters k = ${s.clusters.join(", ")} at separation ${s.gmm.sep}, ` +
        `then separations ${s.separations.join(", ")} at k = ${s.gmm.k}; ${s.gmm.k * s.gmm.n} points in ${s.gmm.d} dimensions each time.`,
      verdicts,
      tables: [
        { title: "Cluster sweep", rows: clusters.map((p) => ({ k: p.k, parameters: p.parameters, "train acc": sig(p.trainAccuracy, 3), ...flatRow(p.reading) })) },
        { title: "Separation sweep", rows: separations.map((p) => ({ separation: p.sep, "train acc": sig(p.trainAccuracy, 3), ...flatRow(p.reading) })) },
      ],
      data,
      settings: { clusters: s.clusters, separations: s.separations, hidden: s.hidden, gmm: s.gmm, training: s.training },
      seconds: (performance.now() - t0) / 1000,
    };
  },
  figures(r) {
    const d = r.data;
    const maxK = Math.max(...d.clusters.map((p) => p.k));
    return [
      {
        name: "c-outliers-vs-k",
        title: "Outlier count vs clusters",
        caption: `Outliers found by the bulk/outlier split for each number of clusters k, with the line of one group (count = ${d.relation.name === "k" ? "k" : "k - 1"}) and the points of k groups (count = ${d.relation.name === "k" ? "k^2" : "k(k - 1)"}).`,
        spec: scatterChart({
          points: [
            ...d.clusters.map((p) => ({ x: p.k, y: p.reading.outlierCount, series: "outliers" })),
            ...d.clusters.map((p) => ({ x: p.k, y: p.k * (p.k - d.relation.offset), series: d.relation.offset === 0 ? "k groups: k^2" : "k groups: k(k - 1)" })),
          ],
          xTitle: "clusters k", yTitle: "outliers", title: "Outliers follow the clusters",
          referenceLines: d.relation.offset === 0
            ? [{ name: "k", slope: 1, intercept: 0 }]
            : [{ name: "k - 1", slope: 1, intercept: -1 }],
          line: false,
        }),
      },
      {
        name: "c-top-vs-k",
        title: "Top eigenvalues vs clusters",
        caption: `The largest eigenvalues for each k (log scale): the group above the gap grows with k.`,
        spec: rankPlot({ series: d.clusters.map((p) => ({ name: `k = ${p.k}`, eigenvalues: p.eigenvalues })), title: "Largest eigenvalues, model fixed", top: Math.max(20, Math.ceil(1.2 * maxK * (maxK - d.relation.offset))), logY: true }),
      },
      {
        name: "c-overlay-k",
        title: "Spectra across clusters, on the paper's axes",
        caption: "Eigenvalue histograms for each k, as Sagun et al. draw them: counts per bin on a log axis against the eigenvalue on a linear axis. The bulk stays piled at zero; the right tail, the outliers, moves out and fills as k grows.",
        spec: spectrumOverlay({ spectra: d.clusters.map((p) => ({ name: `k = ${p.k}`, eigenvalues: p.eigenvalues })), title: "Hessian spectra, model fixed, clusters swept", xScale: "linear", normalize: "count" }),
      },
      {
        name: "c-overlay-separation",
        title: "Spectra across separations",
        caption: "Eigenvalue distributions for each separation (fraction per bin, symmetric-log axis): the tail moves, the mass near zero stays.",
        spec: spectrumOverlay({ spectra: d.separations.map((p) => ({ name: `sep ${p.sep}`, eigenvalues: p.eigenvalues })), title: "Hessian spectra, model fixed", xScale: "symlog", normalize: "fraction" }),
      },
    ];
  },
};
