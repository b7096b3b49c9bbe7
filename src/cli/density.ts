/** `curvlab density`: the spectral density of a curvature operator by stochastic Lanczos quadrature. */
import { spectralDensity, SLQ_DEFAULTS, type SpectralDensity } from "../linalg/slq.ts";
import { lineChart } from "../report/figures.ts";
import { fmt, matrixFreeOptions, type MatrixFreeCommand } from "./matrix-free.ts";

export const densityCommand: MatrixFreeCommand = {
  name: "density",
  summary: "Spectral density of the Hessian (or another curvature operator) by stochastic Lanczos quadrature, with tr and ||.||_F^2 estimates.",
  options: matrixFreeOptions({
    probes: { type: "int", help: "random probe vectors", default: SLQ_DEFAULTS.probes },
    steps: { type: "int", help: "Lanczos steps per probe", default: SLQ_DEFAULTS.steps },
    sigma: { type: "number", help: "Gaussian broadening width (default: the node range / steps)" },
    grid: { type: "int", help: "points of the density grid", default: SLQ_DEFAULTS.grid },
    log: { type: "boolean", help: "also the density of log10|eigenvalue| (positive and negative parts)" },
  }),
  examples: [
    "curvlab density --model mlp:784-128-10:tanh --data mnist:n=1000 --probes 10 --steps 80 --out out/density",
    "curvlab density --model mlp:20-32-5:tanh --data gmm:k=5 --weights runs/gmm --operator ggn --log --json",
  ],
  settings: (o) => ({ probes: o.probes, steps: o.steps, sigma: o.sigma ?? null, grid: o.grid, log: !!o.log, seed: o.seed }),
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
    const se = (x: number | null) => (x === null ? "" : ` +- ${fmt(x)}`);
    return {
      result: { density: d },
      figures,
      summary: [
        `${d.method}`,
        `eigenvalue range [${fmt(d.range.min)}, ${fmt(d.range.max)}], broadening ${fmt(d.density.sigma)}`,
        `trace ${fmt(d.trace.estimate)}${se(d.trace.standardError)}, ||.||_F^2 ${fmt(d.frobeniusSquared.estimate)}${se(d.frobeniusSquared.standardError)}`,
        `${d.matvecs} products, ${d.seconds.toFixed(1)} s`,
      ],
    };
  },
};
