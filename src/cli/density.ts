/**
 * `curvlab density`: the spectral density of a curvature operator by stochastic Lanczos quadrature.
 * With --out (or --resume): density.json, density.csv (x, density: the broadened density on its
 * grid), nodes.csv (probe, node, weight: each probe's Gauss quadrature rule, the raw SLQ output),
 * with --log density-log.csv (x, positive, negative), and the figures as SVG and PNG.
 */
import { spectralDensity, summarizeSlq, SLQ_DEFAULTS, type SpectralDensity } from "../linalg/slq.ts";
import { lineChart } from "../report/figures.ts";
import { columnsToCsv } from "../report/csv.ts";
import type { ParsedOptions } from "./args.ts";
import type { LinearOperator } from "../curvature/operator.ts";
import type { Journal } from "../linalg/journal.ts";
import {
  fmt, matrixFreeOptions, miniBatchSettings, MINI_BATCH_OPTIONS,
  type MatrixFreeCommand, type MatrixFreeOutput, type MatrixFreeResultBase, type MatrixFreeRunFile, type MiniBatchRecord,
} from "./matrix-free.ts";

/** The options of `curvlab density`, as its result and its run directory record them. */
export type DensitySettings = {
  /** Random probe vectors. */
  readonly probes: number;
  /** Lanczos steps per probe. */
  readonly steps: number;
  /** --sigma, or null for the default broadening (the result's density.settings.sigma is the one used). */
  readonly sigma: number | null;
  /** Points of the density grid. */
  readonly grid: number;
  /** Whether the density of log10|eigenvalue| was asked for. */
  readonly log: boolean;
  readonly seed: number;
  /** --batches K, or null (the whole data). */
  readonly batches: number | null;
  /** Rows per mini-batch with --batches (--batch-size), or null. */
  readonly miniBatchSize: number | null;
};

/** run.json of `curvlab density --resume DIR`. */
export interface DensityRunFile extends MatrixFreeRunFile<"density", DensitySettings> {}

/** The result of `curvlab density` (density.json, and stdout with --json). */
export interface DensityResult extends MatrixFreeResultBase<"density">, DensitySettings {
  /**
   * The SLQ estimate: quadrature rules, the broadened density on a grid, trace and ||.||_F^2.
   * With --batches, the rules of every batch pooled (`probes` per batch, batch by batch in
   * `quadrature`): the expected spectral density of a mini-batch matrix, and the mean of their
   * traces.
   */
  readonly density: SpectralDensity;
  /** The mini-batches of --batches, or null. */
  readonly miniBatches: MiniBatchRecord | null;
}

export const densityCommand: MatrixFreeCommand = {
  name: "density",
  summary: "Spectral density of the Hessian (or another curvature operator) by stochastic Lanczos quadrature, with tr and ||.||_F^2 estimates.",
  options: matrixFreeOptions({
    probes: { type: "int", bounds: { min: 1 }, help: "random probe vectors", default: SLQ_DEFAULTS.probes },
    steps: { type: "int", bounds: { min: 1 }, help: "Lanczos steps per probe", default: SLQ_DEFAULTS.steps },
    sigma: { type: "number", bounds: { above: 0 }, help: "Gaussian broadening width (default: the node range / steps)" },
    grid: { type: "int", bounds: { min: 2 }, help: "points of the density grid", default: SLQ_DEFAULTS.grid },
    log: { type: "boolean", help: "also the density of log10|eigenvalue| (positive and negative parts)" },
    ...MINI_BATCH_OPTIONS,
  }),
  examples: [
    "curvlab density --model mlp:784-128-10:tanh --data mnist:n=1000 --probes 10 --steps 80 --out out/density",
    "curvlab density --model mlp:20-32-5:tanh --data gmm:k=5 --weights runs/gmm --operator ggn --log --json",
    "curvlab density --model mlp:20-32-5:tanh --data gmm:k=5 --weights runs/gmm --batch-size 32 --batches 8 --probes 2",
  ],
  settings: (o): DensitySettings => ({ probes: Number(o.probes), steps: Number(o.steps), sigma: (o.sigma as number | undefined) ?? null, grid: Number(o.grid), log: !!o.log, seed: Number(o.seed), ...miniBatchSettings(o) }),
  async run({ opts, op, journal, bar }) {
    const d = await density(op, opts, journal, (done, total) => bar.update(done, total));
    return outputOf(d, op.description, null);
  },
  async runBatches({ opts, batches, bar }) {
    const t0 = performance.now();
    const runs: SpectralDensity[] = [];
    for (const [j, b] of batches.entries()) {
      runs.push(await density(b.op, opts, b.journal, (done, total) => bar.update(j * total + done, batches.length * total, `batch ${j + 1} of ${batches.length}`)));
    }
    const first = runs[0];
    const quadrature = runs.flatMap((r) => r.quadrature);
    const summary = summarizeSlq(first.size, quadrature, {
      steps: first.settings.steps, sigma: opts.sigma as number | undefined, grid: Number(opts.grid), logScale: !!opts.log, logFloor: first.settings.logFloor,
    });
    const pooled: SpectralDensity = {
      ...first,
      method: `${first.method}, on each of ${batches.length} mini-batches of ${batches[0].data.y.length} rows, rules pooled`,
      settings: { ...first.settings, sigma: summary.density.sigma, logSigma: summary.logDensity?.sigma ?? null },
      quadrature,
      ...summary,
      matvecs: runs.reduce((s, r) => s + r.matvecs, 0),
      seconds: (performance.now() - t0) / 1000,
    };
    const record: MiniBatchRecord = { size: batches[0].data.y.length, count: batches.length, seed: Number(opts.seed), data: batches.map((b) => b.data.name) };
    return outputOf(pooled, `${batches[0].op.description} (${batches.length} mini-batches of ${record.size} rows)`, record);
  },
};

function density(op: LinearOperator, opts: ParsedOptions, journal: Journal | undefined, onProgress: (done: number, total: number) => void): Promise<SpectralDensity> {
  return spectralDensity(op, {
    probes: Number(opts.probes),
    steps: Number(opts.steps),
    seed: Number(opts.seed),
    sigma: opts.sigma as number | undefined,
    grid: Number(opts.grid),
    logScale: !!opts.log,
    journal,
    onProgress,
  });
}

function outputOf(d: SpectralDensity, description: string, miniBatches: MiniBatchRecord | null): MatrixFreeOutput {
  const figures: Record<string, ReturnType<typeof lineChart>> = {
    density: lineChart({
      title: `spectral density (SLQ, ${d.settings.probes} probes x ${d.settings.steps} steps)`,
      subtitle: description,
      xTitle: "eigenvalue",
      yTitle: "density",
      logY: true,
      series: [{ name: "density", x: d.density.x, y: d.density.y }],
    }),
  };
  if (d.logDensity) {
    figures["density-log"] = lineChart({
      title: "density of log10 |eigenvalue|",
      subtitle: `zero mass ${d.logDensity.zeroMass.toFixed(3)}`,
      xTitle: "log10 |eigenvalue|",
      yTitle: "density per decade",
      series: [
        { name: "positive", x: d.logDensity.x, y: d.logDensity.positive },
        { name: "negative", x: d.logDensity.x, y: d.logDensity.negative },
      ],
    });
  }
  // CSV: the grid density, the quadrature nodes (probe, node, weight) and the log density.
  const tables: Record<string, string> = {
    "density.csv": columnsToCsv({ x: d.density.x, density: d.density.y }),
    "nodes.csv": columnsToCsv({
      probe: d.quadrature.flatMap((q, j) => q.nodes.map(() => j)),
      node: d.quadrature.flatMap((q) => q.nodes),
      weight: d.quadrature.flatMap((q) => q.weights),
    }),
  };
  if (d.logDensity) {
    tables["density-log.csv"] = columnsToCsv({ x: d.logDensity.x, positive: d.logDensity.positive, negative: d.logDensity.negative });
  }
  const se = (x: number | null) => (x === null ? "" : ` +- ${fmt(x)}`);
  return {
    result: { density: d, miniBatches },
    figures,
    tables,
    summary: [
      `${d.method}`,
      `eigenvalue range [${fmt(d.range.min)}, ${fmt(d.range.max)}], broadening ${fmt(d.density.sigma)}`,
      `trace ${fmt(d.trace.estimate)}${se(d.trace.standardError)}, ||.||_F^2 ${fmt(d.frobeniusSquared.estimate)}${se(d.frobeniusSquared.standardError)}`,
      `${d.matvecs} products, ${d.seconds.toFixed(1)} s`,
      ...(miniBatches ? [`pooled over ${miniBatches.count} mini-batches of ${miniBatches.size} rows`] : []),
    ],
  };
}
