/** `curvlab trace`: the trace of a curvature operator by Hutchinson, Hutch++ or XTrace. */
import { hutchinsonTrace, type TraceEstimate } from "../linalg/hutchinson.ts";
import { hutchppTrace } from "../linalg/hutchpp.ts";
import { xtrace } from "../linalg/xtrace.ts";
import { journaled } from "../linalg/journal.ts";
import { fmt, matrixFreeOptions, type MatrixFreeCommand, type MatrixFreeResultBase, type MatrixFreeRunFile } from "./matrix-free.ts";

const METHODS = ["hutchinson", "hutchpp", "xtrace"] as const;
type Method = (typeof METHODS)[number];

/** The options of `curvlab trace`, as its result and its run directory record them. */
export type TraceSettings = {
  /** The estimator, or "all" to run the three. */
  readonly method: Method | "all";
  /** Products to spend per estimator. */
  readonly matvecs: number;
  readonly seed: number;
};

/** run.json of `curvlab trace --resume DIR`. */
export interface TraceRunFile extends MatrixFreeRunFile<"trace", TraceSettings> {}

/** The result of `curvlab trace` (trace.json, and stdout with --json). */
export interface TraceResult extends MatrixFreeResultBase<"trace">, TraceSettings {
  /** One estimate per method run, in the order hutchinson, hutchpp, xtrace. */
  readonly estimates: readonly TraceEstimate[];
}

export const traceCommand: MatrixFreeCommand = {
  name: "trace",
  summary: "Trace of the Hessian (or another curvature operator): Hutchinson (1990), Hutch++ (Meyer et al. 2021) or XTrace (Epperly et al. 2024), with standard errors.",
  options: matrixFreeOptions({
    method: { type: "string", help: "estimator(s): one, or all to compare", choices: [...METHODS, "all"], default: "hutchpp" },
    matvecs: { type: "int", bounds: { min: 1 }, help: "products to spend per estimator", default: 100 },
  }),
  examples: [
    "curvlab trace --model mlp:784-128-10:tanh --data mnist:n=1000 --method all --matvecs 100",
  ],
  settings: (o): TraceSettings => ({ method: o.method as TraceSettings["method"], matvecs: Number(o.matvecs), seed: Number(o.seed) }),
  async run({ opts, op, journal, bar }) {
    const methods: Method[] = opts.method === "all" ? [...METHODS] : [opts.method as Method];
    const run = { hutchinson: hutchinsonTrace, hutchpp: hutchppTrace, xtrace };
    const estimates: TraceEstimate[] = [];
    for (const [i, m] of methods.entries()) {
      const options = {
        matvecs: Number(opts.matvecs),
        seed: Number(opts.seed),
        onProgress: (d: number, t: number) => bar.update(i * t + d, methods.length * t, m),
      };
      // Hutchinson journals each probe; the others are journaled whole.
      estimates.push(
        m === "hutchinson"
          ? await run[m](op, { ...options, journal })
          : await journaled(journal, `trace-${m}`, () => run[m](op, options)),
      );
    }
    return {
      result: { estimates },
      figures: {},
      summary: estimates.map(
        (e) => `${e.method}: trace ${fmt(e.estimate)}${e.standardError === null ? "" : ` +- ${fmt(e.standardError)}`} (${e.matvecs} products, ${e.seconds.toFixed(1)} s)`,
      ),
    };
  },
};
