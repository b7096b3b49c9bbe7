/**
 * `curvlab spectrum --top K | --bottom K`: extreme eigenvalues of a curvature operator,
 * matrix-free, by Lanczos with full reorthogonalization (default) or deflated power iteration
 * (the method of PyHessian, as a baseline). With --json, `eigenvalues` are in descending order
 * for --top (ascending for --bottom), beside `matvecs`. With --out (or --resume), spectrum.json,
 * eigenvalues.csv (index, eigenvalue, residual, converged; in the JSON's order, index = position in
 * its arrays) and the figure spectrum.svg/png.
 */
import { InputError } from "../errors.ts";
import { checkInteger } from "../validate.ts";
import type { ParsedOptions } from "./args.ts";
import { lanczosEigs, type LanczosResult } from "../linalg/lanczos.ts";
import { powerIteration, type PowerIterationResult } from "../linalg/power-iteration.ts";
import { journaled } from "../linalg/journal.ts";
import { lineChart } from "../report/figures.ts";
import { columnsToCsv } from "../report/csv.ts";
import {
  fmt, matrixFreeOptions, miniBatchSettings, MINI_BATCH_OPTIONS,
  type MatrixFreeCommand, type MatrixFreeOutput, type MatrixFreeResultBase, type MatrixFreeRunFile, type MiniBatchRecord,
} from "./matrix-free.ts";
import type { LinearOperator } from "../curvature/operator.ts";
import type { Journal } from "../linalg/journal.ts";
import type { Progress } from "./progress.ts";
import type { CurvatureSetup } from "./curvature-options.ts";

/** The options of `curvlab spectrum`, as its result and its run directory record them. */
export type SpectrumSettings = {
  /** K of --top K (the K largest eigenvalues), or null. */
  readonly top: number | null;
  /** K of --bottom K (the K smallest), or null. */
  readonly bottom: number | null;
  /** K of --magnitude K (the K largest in absolute value), or null. */
  readonly magnitude: number | null;
  readonly method: "lanczos" | "power";
  /** --tol, or null for the method's default. */
  readonly tol: number | null;
  /** --max-steps, or null for the method's default. */
  readonly maxSteps: number | null;
  readonly seed: number;
  /** --batches K, or null (the whole data). */
  readonly batches: number | null;
  /** Rows per mini-batch with --batches (--batch-size), or null. */
  readonly miniBatchSize: number | null;
};

/**
 * With --batches: the batches, and each one's eigenvalues (in the result's order). The result's
 * own fields then combine the K runs: eigenvalues averaged position by position (the mean k-th
 * largest eigenvalue of a mini-batch matrix), residuals the largest, converged where every run
 * converged, products and steps summed.
 */
export interface SpectrumBatches extends MiniBatchRecord {
  readonly eigenvalues: readonly (readonly number[])[];
}

/** run.json of `curvlab spectrum --resume DIR`. */
export interface SpectrumRunFile extends MatrixFreeRunFile<"spectrum", SpectrumSettings> {}

/** The shared settings of a spectrum result; the solver's `method` and `operator` (descriptions) replace the options' ones. */
type SpectrumResultBase = Omit<MatrixFreeResultBase<"spectrum">, "operator"> & Omit<SpectrumSettings, "method">;

/** `curvlab spectrum --method lanczos`: the settings, then the Lanczos result (`seconds` is the whole command's). */
export interface LanczosSpectrumResult extends SpectrumResultBase, Omit<LanczosResult, "vectors" | "seconds"> {
  readonly miniBatches: SpectrumBatches | null;
}

/** `curvlab spectrum --method power`: the settings, then the power-iteration result (`seconds` is the whole command's). */
export interface PowerSpectrumResult extends SpectrumResultBase, Omit<PowerIterationResult, "vectors" | "seconds"> {
  readonly miniBatches: SpectrumBatches | null;
}

/** The result of `curvlab spectrum` (spectrum.json, and stdout with --json). */
export type SpectrumResult = LanczosSpectrumResult | PowerSpectrumResult;

/**
 * Which eigenvalues and how many, checked against the operator size N: K at most N - 1 (Lanczos
 * needs a vector beyond the K wanted; all N eigenvalues are `curvlab hessian`'s, exactly).
 */
function askedK(opts: ParsedOptions, size: number): { which: "largest" | "smallest" | "magnitude"; k: number } {
  const asked = (["top", "bottom", "magnitude"] as const).filter((w) => opts[w] !== undefined);
  if (asked.length !== 1) throw new InputError("--top", "give exactly one of --top K, --bottom K, --magnitude K");
  const which = asked[0] === "top" ? "largest" : asked[0] === "bottom" ? "smallest" : "magnitude";
  const k = Number(opts[asked[0]]);
  if (size < 2) throw new InputError(`--${asked[0]}`, `the operator has ${size} parameter; use curvlab hessian for its eigenvalue`);
  checkInteger(`--${asked[0]}`, k, { min: 1, max: size - 1, maxWhy: `below the operator size ${size}; curvlab hessian gives all ${size} eigenvalues exactly` });
  if (opts.method === "power" && which !== "largest" && which !== "magnitude") {
    throw new InputError("--method", "power iteration finds the largest-magnitude eigenvalues; use lanczos for --bottom");
  }
  return { which, k };
}

export const spectrumCommand: MatrixFreeCommand = {
  name: "spectrum",
  summary: "The K largest (--top) or smallest (--bottom) eigenvalues of the Hessian (or another curvature operator), matrix-free.",
  options: matrixFreeOptions({
    top: { type: "int", bounds: { min: 1 }, help: "the K largest eigenvalues", meta: "K" },
    bottom: { type: "int", bounds: { min: 1 }, help: "the K smallest eigenvalues", meta: "K" },
    magnitude: { type: "int", bounds: { min: 1 }, help: "the K largest in absolute value", meta: "K" },
    method: { type: "string", help: "lanczos (full reorthogonalization) or power (deflated power iteration, as PyHessian)", choices: ["lanczos", "power"], default: "lanczos" },
    tol: { type: "number", bounds: { above: 0 }, help: "relative tolerance (default: lanczos 1e-8 in float64, 1e-4 in float32; power 1e-3)" },
    "max-steps": { type: "int", bounds: { min: 1 }, help: "cap on Lanczos steps (or power iterations per eigenvalue)", meta: "N" },
    ...MINI_BATCH_OPTIONS,
  }),
  examples: [
    "curvlab spectrum --model mlp:784-128-10:tanh --data mnist:n=1000 --top 10 --json",
    "curvlab spectrum --model mlp:20-32-5:tanh --data gmm:k=5 --weights runs/gmm --bottom 5 --dtype float64",
    "curvlab spectrum --model mlp:20-32-5:tanh --data gmm:k=5 --weights runs/gmm --top 3 --batch-size 32 --batches 10",
  ],
  settings: (o): SpectrumSettings => ({ top: (o.top as number | undefined) ?? null, bottom: (o.bottom as number | undefined) ?? null, magnitude: (o.magnitude as number | undefined) ?? null, method: o.method as SpectrumSettings["method"], tol: (o.tol as number | undefined) ?? null, maxSteps: (o["max-steps"] as number | undefined) ?? null, seed: Number(o.seed), ...miniBatchSettings(o) }),
  check: (opts, setup) => {
    askedK(opts, setup.size);
  },
  async run({ opts, setup, op, journal, bar }) {
    const { which } = askedK(opts, setup.size);
    const r = await solve(op, opts, setup, journal, bar);
    return outputOf({ ...r, eigenvalues: r.eigenvalues }, which, setup, null);
  },
  async runBatches({ opts, setup, batches, bar }) {
    const { which } = askedK(opts, setup.size);
    const t0 = performance.now();
    const runs: (LanczosResult | PowerIterationResult)[] = [];
    for (const [j, b] of batches.entries()) {
      bar.done(`batch ${j + 1} of ${batches.length}: ${b.data.name}`);
      runs.push(await solve(b.op, opts, setup, b.journal, bar));
    }
    const record: SpectrumBatches = {
      size: batches[0].data.y.length, count: batches.length, seed: Number(opts.seed), data: batches.map((b) => b.data.name),
      eigenvalues: runs.map((r) => r.eigenvalues),
    };
    return outputOf(combineRuns(runs, (performance.now() - t0) / 1000), which, setup, record);
  },
};

/** Lanczos or power iteration on one operator, journaled whole: a resumed run reuses a finished result. */
function solve(op: LinearOperator, opts: ParsedOptions, setup: CurvatureSetup, journal: Journal | undefined, bar: Progress): Promise<LanczosResult | PowerIterationResult> {
  const { which, k } = askedK(opts, setup.size);
  const tol = opts.tol as number | undefined;
  const maxSteps = opts["max-steps"] as number | undefined;
  const seed = Number(opts.seed);
  return journaled<LanczosResult | PowerIterationResult>(journal, `spectrum-${opts.method}`, () =>
    opts.method === "power"
      ? powerIteration(op, { k, tol, maxIter: maxSteps, seed, onProgress: (p) => bar.update(p.matvecs, k * (maxSteps ?? 100)) })
      : lanczosEigs(op, {
          k,
          which,
          tol,
          maxSteps,
          seed,
          onProgress: (p) => bar.update(p.converged, p.wanted, `step ${p.step}, ${p.matvecs} products`),
        }),
  );
}

/** K runs of one solver as one result (SpectrumBatches says how). */
export function combineRuns<R extends LanczosResult | PowerIterationResult>(runs: readonly R[], seconds: number): R {
  const first = runs[0];
  const k = Math.min(...runs.map((r) => r.eigenvalues.length));
  const eigenvalues = Array.from({ length: k }, (_, i) => runs.reduce((s, r) => s + r.eigenvalues[i], 0) / runs.length);
  const residuals = Array.from({ length: k }, (_, i) => Math.max(...runs.map((r) => r.residuals[i])));
  const converged = Array.from({ length: k }, (_, i) => runs.every((r) => r.converged[i]));
  const sum = (f: (r: R) => number) => runs.reduce((s, r) => s + f(r), 0);
  const common = {
    ...first,
    method: `${first.method}, on each of ${runs.length} mini-batches, eigenvalues averaged`,
    eigenvalues, residuals, converged, convergedCount: converged.filter(Boolean).length,
    matvecs: sum((r) => r.matvecs), seconds,
  };
  if ("runSteps" in first) {
    const ls = runs as readonly LanczosResult[];
    return {
      ...common,
      steps: ls.reduce((s, r) => s + r.steps, 0), runSteps: ls.flatMap((r) => r.runSteps),
      restarts: ls.reduce((s, r) => s + r.restarts, 0), secondPasses: ls.reduce((s, r) => s + r.secondPasses, 0),
      confirmed: ls.every((r) => r.confirmed),
    } as R;
  }
  const ps = runs as readonly PowerIterationResult[];
  return { ...common, iterations: Array.from({ length: k }, (_, i) => ps.reduce((s, r) => s + r.iterations[i], 0)) } as R;
}

function outputOf(r: LanczosResult | PowerIterationResult, which: string, setup: CurvatureSetup, miniBatches: SpectrumBatches | null): MatrixFreeOutput {
  return {
    result: { ...r, eigenvalues: r.eigenvalues, miniBatches },
    tables: {
      // One row per pair, in the result's order; index = position in the JSON arrays.
      "eigenvalues.csv": columnsToCsv({
        index: r.eigenvalues.map((_, i) => i),
        eigenvalue: r.eigenvalues,
        residual: r.residuals,
        converged: r.converged,
      }),
      ...(miniBatches ? {
        "batch-eigenvalues.csv": columnsToCsv({
          batch: miniBatches.eigenvalues.flatMap((e, j) => e.map(() => j)),
          index: miniBatches.eigenvalues.flatMap((e) => e.map((_, i) => i)),
          eigenvalue: miniBatches.eigenvalues.flatMap((e) => [...e]),
        }),
      } : {}),
    },
    figures: {
      spectrum: lineChart({
        title: `${which} eigenvalues (${r.method})`,
        subtitle: setup.settings.model,
        xTitle: "index",
        yTitle: "eigenvalue",
        series: [
          { name: miniBatches ? "mean over batches" : "eigenvalue", x: r.eigenvalues.map((_, i) => i + 1), y: r.eigenvalues },
          ...(miniBatches ? miniBatches.eigenvalues.map((e, j) => ({ name: `batch ${j + 1}`, x: e.map((_, i) => i + 1), y: [...e], dashed: true })) : []),
        ],
      }),
    },
    summary: [
      `${r.method}: ${r.convergedCount}/${r.eigenvalues.length} converged, ${r.matvecs} products, ${r.seconds.toFixed(1)} s`,
      `${which}: ${r.eigenvalues.map(fmt).join(", ")}`,
      ...(miniBatches ? [`over ${miniBatches.count} mini-batches of ${miniBatches.size} rows; batch 1: ${miniBatches.eigenvalues[0].map(fmt).join(", ")}`] : []),
      ...(which === "largest" ? [topGapLine(r.eigenvalues)] : []),
    ],
  };
}

/**
 * The reading available from the top K alone: the largest ratio between consecutive positive
 * values. The bulk is not seen, so this is no outlier count (the split needs the whole spectrum:
 * `curvlab hessian --dense`, or `density` for its shape).
 */
export function topGapLine(values: readonly number[]): string {
  let best = -1, ratio = 0;
  for (let j = 0; j + 1 < values.length; j++) {
    if (values[j + 1] > 0 && values[j] / values[j + 1] > ratio) { ratio = values[j] / values[j + 1]; best = j; }
  }
  return best < 0
    ? "gaps: fewer than two positive values"
    : `largest gap among these: after the ${best + 1}${best === 0 ? "st" : best === 1 ? "nd" : best === 2 ? "rd" : "th"} value, ratio ${ratio.toFixed(2)}` +
      ` (${ratio >= 2.5 ? "at least" : "below"} the split's 2.5; the bulk is not seen here: curvlab hessian --dense reads the whole spectrum)`;
}
