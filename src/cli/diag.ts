/** `curvlab diag`: the diagonal of a curvature operator (Hutchinson, XDiag, or exact), with per-layer summaries. */
import { hutchinsonDiagonal, type DiagonalEstimate } from "../linalg/hutchinson.ts";
import { xdiag } from "../linalg/xtrace.ts";
import { exactDiagonal } from "../linalg/exact-diagonal.ts";
import { journaled } from "../linalg/journal.ts";
import { lineChart } from "../report/figures.ts";
import { blockRange } from "../tree/layout.ts";
import { fmt, matrixFreeOptions, type MatrixFreeCommand, type MatrixFreeResultBase, type MatrixFreeRunFile } from "./matrix-free.ts";

const METHODS = ["hutchinson", "xdiag", "exact"] as const;
type Method = (typeof METHODS)[number];

/** The options of `curvlab diag`, as its result and its run directory record them. */
export type DiagSettings = {
  readonly method: Method;
  /** Products to spend, or null for exact (one per parameter). */
  readonly matvecs: number | null;
  readonly seed: number;
};

/** run.json of `curvlab diag --resume DIR`. */
export interface DiagRunFile extends MatrixFreeRunFile<"diag", DiagSettings> {}

/** Mean and largest diagonal entry of one named parameter (within the block, with --block). */
export interface DiagLayerSummary {
  /** PyTorch state_dict name, e.g. "0.weight". */
  readonly name: string;
  readonly size: number;
  readonly mean: number;
  readonly max: number;
}

/** The result of `curvlab diag` (diag.json, and stdout with --json). */
export interface DiagResult extends MatrixFreeResultBase<"diag">, DiagSettings {
  readonly diagonal: DiagonalEstimate;
  readonly layers: readonly DiagLayerSummary[];
}

export const diagCommand: MatrixFreeCommand = {
  name: "diag",
  summary: "Diagonal of the Hessian (or another curvature operator): Hutchinson (Bekas et al. 2007), XDiag (Epperly et al. 2024), or exact (one product per parameter).",
  options: matrixFreeOptions({
    method: { type: "string", help: "estimator", choices: METHODS, default: "xdiag" },
    matvecs: { type: "int", bounds: { min: 1 }, help: "products to spend (not used by exact)", default: 100 },
  }),
  examples: ["curvlab diag --model mlp:20-32-5:tanh --data gmm:k=5 --weights runs/gmm --method exact --out out/diag"],
  settings: (o): DiagSettings => ({ method: o.method as Method, matvecs: o.method === "exact" ? null : Number(o.matvecs), seed: Number(o.seed) }),
  async run({ opts, setup, op, journal, bar }) {
    const method = opts.method as Method;
    const progress = (d: number, t: number) => bar.update(d, t);
    const d: DiagonalEstimate = await journaled(journal, `diag-${method}`, () =>
      method === "exact"
        ? exactDiagonal(op, { onProgress: progress })
        : (method === "xdiag" ? xdiag : hutchinsonDiagonal)(op, { matvecs: Number(opts.matvecs), seed: Number(opts.seed), onProgress: progress }),
    );
    // Per-layer means of the diagonal (over the whole model, or within the chosen block).
    const offset = setup.block ? blockRange(setup.loaded.model.layout, setup.block).offset : 0;
    const layers = setup.loaded.model.layout
      .filter((p) => p.offset >= offset && p.offset + p.size <= offset + d.diagonal.length)
      .map((p): DiagLayerSummary => {
        const part = d.diagonal.slice(p.offset - offset, p.offset - offset + p.size);
        return { name: p.name, size: p.size, mean: part.reduce((a, b) => a + b, 0) / p.size, max: Math.max(...part) };
      });
    return {
      result: { diagonal: d, layers },
      figures: {
        diagonal: lineChart({
          title: `diagonal of the ${setup.operator} (${d.method})`,
          subtitle: setup.settings.model,
          xTitle: "parameter index",
          yTitle: "diagonal entry",
          series: [{ name: "diagonal", x: d.diagonal.map((_, i) => offset + i), y: d.diagonal }],
        }),
      },
      summary: [
        `${d.method}: sum ${fmt(d.sum)} (${d.matvecs} products, ${d.seconds.toFixed(1)} s)`,
        ...layers.map((l) => `${l.name.padEnd(12)} ${String(l.size).padStart(8)} params, mean ${fmt(l.mean)}, max ${fmt(l.max)}`),
      ],
    };
  },
};
