/**
 * `curvlab density`: the spectral density of a curvature operator by stochastic Lanczos quadrature.
 * With --out (or --resume): density.json, density.csv (x, density: the broadened density on its
 * grid), nodes.csv (probe, node, weight: each probe's Gauss quadrature rule, the raw SLQ output),
 * with --log density-log.csv (x, positive, negative), and the figures as SVG and PNG.
 */
import { spectralDensity, SLQ_DEFAULTS, type SpectralDensity } from "../linalg/slq.ts";
import { lineChart } from "../report/figures.ts";
import { columnsToCsv } from "../report/csv.ts";
import { fmt, matrixFreeOptions, type MatrixFreeCommand, type MatrixFreeResultBase, type MatrixFreeRunFile } from "./matrix-free.ts";

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
};

/** run.json of `curvlab density --resume DIR`. */
export interface DensityRunFile extends MatrixFreeRunFile<"density", DensitySettings> {}

/** The result of `curvlab density` (density.json, and stdout with --json). */
export interface DensityResult extends MatrixFreeResultBase<"density">, DensitySettings {
  /** The SLQ estimate: quadrature rules, the broadened density on a grid, trace and ||.||_F^2. */
  readonly density: SpectralDensity;
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
  }),
  examples: [
    "curvlab density --model mlp:784-128-10:tanh --data mnist:n=1000 --probes 10 --steps 80 --out out/density",
    "curvlab density --model mlp:20-32-5:tanh --data gmm:k=5 --weights runs/gmm --operator ggn --log --json",
  ],
  settings: (o): DensitySettings => ({ probes: Number(o.probes), steps: Number(o.steps), sigma: (o.sigma as number | undefined) ?? null, grid: Number(o.grid), log: !!o.log, seed: Number(o.seed) }),
  async run({ opts, op, journal, bar }) {
    const d: SpectralDensity = await spectralDensity(op, {
      probes: Number(opts.probes),
      steps: Number(opts.steps),
      seed: Number(opts.seed),
      sigma: opts.sigma as number | undefined,
      grid: Number(opts.grid),
      logScale: !!opts.log,
      journal,
      onProgress: (done, total) => bar.update(done, total),
    });
    const figures: Record<string, ReturnType<typeof lineChart>> = {
      density: lineChart({
        title: `spectral density (SLQ, ${d.settings.probes} probes x ${d.settings.steps} steps)`,
        subtitle: op.description,
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
      result: { density: d },
      figures,
      tables,
      summary: [
        `${d.method}`,
        `eigenvalue range [${fmt(d.range.min)}, ${fmt(d.range.max)}], broadening ${fmt(d.density.sigma)}`,
        `trace ${fmt(d.trace.estimate)}${se(d.trace.standardError)}, ||.||_F^2 ${fmt(d.frobeniusSquared.estimate)}${se(d.frobeniusSquared.standardError)}`,
        `${d.matvecs} products, ${d.seconds.toFixed(1)} s`,
      ],
    };
  },
};
