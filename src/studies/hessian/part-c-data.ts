/**
 * Part c: model fixed, data swept. Sagun et al.: "fixing the dimension and changing the data
 * (adding more clusters or making the data less separable) only affects the outliers". The
 * hidden layer stays; the output layer has one unit per class (cluster). Two sweeps at a fixed
 * total number of points: the number of clusters k, and the separation of the clusters at the
 * base k. For each, the dense Hessian spectrum and its bulk / outlier reading.
 *
 * The relation between k and the outlier count is read from the data: the study checks k and
 * k - 1 and reports the one that more sweep points follow. Why k - 1 is expected with
 * cross-entropy: the Gauss-Newton part G = J^T H_L J dominates the outliers (part d), and the
 * softmax output Hessian H_L = diag(p) - p p^T has the all-ones logit direction in its null
 * space (adding a constant to every logit changes no probability), so the class-mean structure
 * of the output gradients that makes the outliers lives in k - 1 logit directions, not k. (With
 * the squared error, H_L = 2I/n has full rank k, and the top group has k members.)
 */
import { scatterChart } from "../../report/scatter-figures.ts";
import { rankPlot, spectrumOverlay } from "../../report/spectrum-figures.ts";
import type { StudyContext } from "./context.ts";
import { sig } from "./context.ts";
import { flatRow, sweepPoint, type StudyPart, type SweepPoint } from "./part.ts";
import { spreadFactor, topMean } from "./part-b-width.ts";
import { gmmSpecOf, mlpSpecOf, PART_TITLES } from "./settings.ts";

export interface Relation {
  readonly name: "k" | "k-1";
  readonly offset: number;
  readonly matches: number;
  readonly total: number;
}

/** Which of count = k and count = k - 1 the (k, count) pairs follow more often (ties: k - 1). */
export function outlierRelation(pairs: readonly { readonly k: number; readonly count: number }[]): Relation {
  const score = (offset: number) => pairs.filter((p) => p.count === p.k - offset).length;
  const km1 = score(1), k0 = score(0);
  return km1 >= k0
    ? { name: "k-1", offset: 1, matches: km1, total: pairs.length }
    : { name: "k", offset: 0, matches: k0, total: pairs.length };
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
    const relation = outlierRelation(clusters.map((p) => ({ k: p.k, count: p.reading.outlierCount })));
    const clusterOutlierMeans = clusters.map((p) => topMean(p.eigenvalues, Math.max(1, p.k - relation.offset)));
    const m = Math.max(1, s.gmm.k - relation.offset);
    const separationOutlierMeans = separations.map((p) => topMean(p.eigenvalues, m));
    const data: PartCData = {
      clusters, separations, relation, clusterOutlierMeans, separationOutlierMeans,
      clusterBulkScaleFactor: spreadFactor(clusters.map((p) => p.reading.bulkScale)),
      separationBulkScaleFactor: spreadFactor(separations.map((p) => p.reading.bulkScale)),
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
          `Outliers: ${counts}. The counts follow ${relation.name === "k" ? "k" : "k - 1"} for ${relation.matches} of ${relation.total} values of k ` +
          `(cross-entropy: the softmax output Hessian has the all-ones logit direction in its null space, so the class structure spans k - 1 directions).`,
      },
      {
        claim: "Less separable data moves the outliers",
        holds: data.separationOutlierFactor >= 1.2,
        text:
          `Separations ${s.separations.join(", ")}: the mean of the top ${m} eigenvalues is ` +
          `${separationOutlierMeans.map((x) => sig(x, 3)).join(", ")} (x${sig(data.separationOutlierFactor, 3)} over the sweep); ` +
          `outlier counts ${separations.map((p) => p.reading.outlierCount).join(", ")}.`,
      },
      {
        claim: "Adding clusters moves the outliers and leaves the bulk nearly in place",
        holds: data.clusterBulkScaleFactor < Math.min(kFactor, countFactor),
        text:
          `From k = ${kMin} to ${kMax} the outlier count goes ${clusters[0].reading.outlierCount} -> ${clusters[clusters.length - 1].reading.outlierCount} ` +
          `(x${sig(countFactor, 3)}) while the bulk's robust width changes x${sig(data.clusterBulkScaleFactor, 3)} ` +
          `(${clusters.map((p) => sig(p.reading.bulkScale, 2)).join(", ")}), less than the clusters (x${sig(kFactor, 3)}). ` +
          `Separation acts on the whole spectrum: as the clusters separate the loss falls and every eigenvalue shrinks ` +
          `(bulk width x${sig(data.separationBulkScaleFactor, 3)}, outliers x${sig(data.separationOutlierFactor, 3)} over the separations).`,
      },
    ];
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
        caption: `Outliers found by the bulk/outlier split for each number of clusters k, with the lines count = k and count = k - 1.`,
        spec: scatterChart({
          points: d.clusters.map((p) => ({ x: p.k, y: p.reading.outlierCount, series: "outliers" })),
          xTitle: "clusters k", yTitle: "outliers", title: "Outliers follow the clusters",
          referenceLines: [{ name: "k", slope: 1, intercept: 0 }, { name: "k - 1", slope: 1, intercept: -1 }],
          line: false,
        }),
      },
      {
        name: "c-top-vs-k",
        title: "Top eigenvalues vs clusters",
        caption: `The largest eigenvalues for each k (log scale): the group above the gap grows with k.`,
        spec: rankPlot({ series: d.clusters.map((p) => ({ name: `k = ${p.k}`, eigenvalues: p.eigenvalues })), title: "Largest eigenvalues, model fixed", top: Math.max(20, 2 * maxK), logY: true }),
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
