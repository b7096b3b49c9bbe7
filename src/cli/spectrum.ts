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
import { fmt, matrixFreeOptions, type MatrixFreeCommand, type MatrixFreeResultBase, type MatrixFreeRunFile } from "./matrix-free.ts";

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
};

/** run.json of `curvlab spectrum --resume DIR`. */
export interface SpectrumRunFile extends MatrixFreeRunFile<"spectrum", SpectrumSettings> {}

/** The shared settings of a spectrum result; the solver's `method` and `operator` (descriptions) replace the options' ones. */
type SpectrumResultBase = Omit<MatrixFreeResultBase<"spectrum">, "operator"> & Omit<SpectrumSettings, "method">;

/** `curvlab spectrum --method lanczos`: the settings, then the Lanczos result (`seconds` is the whole command's). */
export interface LanczosSpectrumResult extends SpectrumResultBase, Omit<LanczosResult, "vectors" | "seconds"> {}

/** `curvlab spectrum --method power`: the settings, then the power-iteration result (`seconds` is the whole command's). */
export interface PowerSpectrumResult extends SpectrumResultBase, Omit<PowerIterationResult, "vectors" | "seconds"> {}

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
  }),
  examples: [
    "curvlab spectrum --model mlp:784-128-10:tanh --data mnist:n=1000 --top 10 --json",
    "curvlab spectrum --model mlp:20-32-5:tanh --data gmm:k=5 --weights runs/gmm --bottom 5 --dtype float64",
  ],
  settings: (o): SpectrumSettings => ({ top: (o.top as number | undefined) ?? null, bottom: (o.bottom as number | undefined) ?? null, magnitude: (o.magnitude as number | undefined) ?? null, method: o.method as SpectrumSettings["method"], tol: (o.tol as number | undefined) ?? null, maxSteps: (o["max-steps"] as number | undefined) ?? null, seed: Number(o.seed) }),
  check: (opts, setup) => {
    askedK(opts, setup.size);
  },
  async run({ opts, setup, op, journal, bar }) {
    const { which, k } = askedK(opts, setup.size);
    const tol = opts.tol as number | undefined;
    const maxSteps = opts["max-steps"] as number | undefined;
    const seed = Number(opts.seed);
    // Lanczos and power iteration are journaled whole: a resumed run reuses a finished result.
    const r = await journaled<LanczosResult | PowerIterationResult>(journal, `spectrum-${opts.method}`, () =>
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
    return {
      result: { ...r, eigenvalues: r.eigenvalues },
      tables: {
        // One row per pair, in the result's order; index = position in the JSON arrays.
        "eigenvalues.csv": columnsToCsv({
          index: r.eigenvalues.map((_, i) => i),
          eigenvalue: r.eigenvalues,
          residual: r.residuals,
          converged: r.converged,
        }),
      },
      figures: {
        spectrum: lineChart({
          title: `${which} eigenvalues (${r.method})`,
          subtitle: setup.settings.model,
          xTitle: "index",
          yTitle: "eigenvalue",
          series: [{ name: "eigenvalue", x: r.eigenvalues.map((_, i) => i + 1), y: r.eigenvalues }],
        }),
      },
      summary: [
        `${r.method}: ${r.convergedCount}/${r.eigenvalues.length} converged, ${r.matvecs} products, ${r.seconds.toFixed(1)} s`,
        `${which}: ${r.eigenvalues.map(fmt).join(", ")}`,
      ],
    };
  },
};
