/**
 * `curvlab hessian --dense`: all eigenvalues of a curvature operator (Hessian, Gauss-Newton,
 * empirical Fisher, gradient covariance, residual; optionally one layer's block), by
 * materializing it and decomposing it exactly. For models up to a few thousand parameters.
 * With --out: hessian.json, eigenvalues.csv (index, eigenvalue; ascending, index = position in
 * the JSON array) and the histogram spectrum.svg/png.
 */
import { InputError } from "../errors.ts";
import type { DeviceName } from "../engine/start.ts";
import type { OperatorName } from "../curvature/make.ts";
import { exactSpectrum } from "../linalg/exact-spectrum.ts";
import type { DTypeName } from "../engine/dtype.ts";
import type { LossName } from "../nn/loss.ts";
import { formatHelp, parseArgs, type OptionSpecs } from "./args.ts";
import { buildOperator, curvatureOptions, prepareCurvature } from "./curvature-options.ts";
import { progress } from "./progress.ts";
import { writeOutputs } from "./output.ts";
import { eigenvalueHistogram } from "../report/figures.ts";
import { toPng, toSvg } from "../report/render.ts";
import { columnsToCsv } from "../report/csv.ts";
import { describeReading, readingOf, type SpectrumReadingSummary } from "./reading.ts";

/** Above this many parameters a dense matrix is refused: use matrix-free spectra instead. */
export const MAX_DENSE_SIZE = 8000;

const OPTIONS: OptionSpecs = {
  ...curvatureOptions("float64"),
  dense: { type: "boolean", help: "materialize the operator and compute all eigenvalues exactly (required; matrix-free spectra: curvlab spectrum)" },
  out: { type: "string", path: "out", help: "write hessian.json, eigenvalues.csv and a histogram (PNG, SVG) into this directory", meta: "DIR" },
};

export const HESSIAN_HELP = formatHelp(
  "hessian",
  "All eigenvalues of the Hessian (or another curvature operator) of a model's loss on a dataset, exactly.",
  OPTIONS,
  [
    "curvlab hessian --model mlp:20-32-5:tanh --data gmm:k=5,d=20,n=200,sep=3,seed=0 --dense --json",
    "curvlab hessian --model mlp:20-32-5:tanh --data gmm:k=5 --weights run/model.safetensors --dense --operator ggn --out out/",
  ],
);

/** The result of `curvlab hessian --dense` (hessian.json, and stdout with --json). */
export interface HessianResult {
  readonly command: "hessian";
  readonly operator: OperatorName;
  readonly block: string | null;
  readonly model: string;
  readonly data: string;
  readonly examples: number;
  readonly weights: string;
  readonly loss: LossName;
  readonly dtype: DTypeName;
  readonly device: DeviceName;
  readonly exact: boolean;
  readonly size: number;
  /** All eigenvalues, ascending. */
  readonly eigenvalues: readonly number[];
  readonly summary: {
    readonly min: number;
    readonly max: number;
    readonly trace: number;
    readonly negative: number;
    readonly nearZero: number;
    readonly nearZeroThreshold: number;
  };
  /** The bulk / outlier reading of the eigenvalues with the split's defaults. */
  readonly reading: SpectrumReadingSummary;
  readonly method: string;
  readonly asymmetry: number;
  readonly cost: { readonly matvecs: number; readonly seconds: number; readonly secondsMatrix: number; readonly secondsEigen: number };
}

export async function hessianCommand(argv: readonly string[]): Promise<number> {
  const opts = parseArgs(argv, OPTIONS, "hessian");
  if (opts.help) {
    process.stdout.write(HESSIAN_HELP);
    return 0;
  }
  if (!opts.dense) {
    throw new InputError("--dense", "curvlab hessian computes exact spectra and needs --dense (matrix-free spectra: curvlab spectrum)");
  }
  const setup = prepareCurvature(opts, argv, "hessian");
  const { loaded, operator, block, size, dtype, device, exact } = setup;
  if (size > MAX_DENSE_SIZE) {
    throw new InputError(
      block ? "--block" : "--model",
      `${size} parameters is too many for a dense matrix (at most ${MAX_DENSE_SIZE}); pick a --block or use matrix-free spectra`,
    );
  }
  const t0 = performance.now();
  const { problem, op } = await buildOperator(setup, opts);
  const bar = progress(`${operator} ${size}x${size}`, { quiet: !!opts.quiet });
  const spectrum = await exactSpectrum(op, { onProgress: (d, n) => bar.update(d, n) });
  bar.done();
  op.dispose();
  problem.dispose();
  const ev = spectrum.eigenvalues;
  const maxAbs = Math.max(...ev.map(Math.abs));
  const threshold = 1e-6 * maxAbs;
  const result: HessianResult = {
    command: "hessian",
    operator,
    block,
    model: loaded.model.spec,
    data: loaded.data.name,
    examples: loaded.data.y.length,
    weights: loaded.weights,
    loss: setup.loss,
    dtype,
    device,
    exact,
    size,
    eigenvalues: ev,
    summary: {
      min: ev[0],
      max: ev[ev.length - 1],
      trace: ev.reduce((a, b) => a + b, 0),
      negative: ev.filter((l) => l < -threshold).length,
      nearZero: ev.filter((l) => Math.abs(l) <= threshold).length,
      nearZeroThreshold: threshold,
    },
    reading: readingOf(ev),
    method: spectrum.method,
    asymmetry: spectrum.asymmetry,
    cost: {
      matvecs: spectrum.cost.matvecs,
      seconds: (performance.now() - t0) / 1000,
      secondsMatrix: spectrum.cost.secondsMatrix,
      secondsEigen: spectrum.cost.secondsEigen,
    },
  };
  if (opts.out !== undefined) {
    const spec = eigenvalueHistogram({
      eigenvalues: ev,
      title: `${operator} spectrum: ${loaded.model.spec}`,
      subtitle: `${loaded.data.name}, ${size} eigenvalues`,
    });
    const [svg, png] = await Promise.all([toSvg(spec), toPng(spec)]);
    writeOutputs(String(opts.out), {
      "hessian.json": JSON.stringify(result, null, 2) + "\n",
      // index = position in the JSON array (ascending eigenvalues).
      "eigenvalues.csv": columnsToCsv({ index: ev.map((_, i) => i), eigenvalue: ev }),
      "spectrum.svg": svg,
      "spectrum.png": png,
    });
  }
  if (opts.json) process.stdout.write(JSON.stringify(result) + "\n");
  else process.stdout.write(formatSummary(result, opts.out as string | undefined));
  return 0;
}

function fmt(x: number): string {
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(4) : x.toExponential(3);
}

function formatSummary(r: HessianResult, out?: string): string {
  const top = r.eigenvalues.slice(-5).reverse().map(fmt).join(", ");
  const bottom = r.eigenvalues.slice(0, 3).map(fmt).join(", ");
  return [
    `${r.operator}${r.block ? ` (block ${r.block})` : ""} of ${r.loss} for ${r.model} on ${r.data} (${r.examples} examples)`,
    `  ${r.size} eigenvalues, ${r.dtype} on ${r.device}${r.exact ? " (exact)" : ""}, weights ${r.weights}`,
    `  largest:  ${top}`,
    `  smallest: ${bottom}`,
    `  trace ${fmt(r.summary.trace)}; ${r.summary.negative} negative, ${r.summary.nearZero} with |l| <= ${r.summary.nearZeroThreshold.toExponential(1)}`,
    `  ${describeReading(r.reading)}`,
    `  ${r.cost.matvecs} products, ${r.cost.seconds.toFixed(1)} s (matrix ${r.cost.secondsMatrix.toFixed(1)} s, eigenvalues ${r.cost.secondsEigen.toFixed(2)} s)`,
    ...(out ? [`  wrote ${out}/hessian.json, eigenvalues.csv, spectrum.png, spectrum.svg`] : []),
    "",
  ].join("\n");
}
