/**
 * Memory estimates before allocation, from the specs and file headers alone: the data (float64
 * features and int labels), the parameters (theta, gradient and a few work vectors), a dense
 * matrix (hessian --dense: N^2 float64 values plus its eigendecomposition's copy) and a Krylov
 * basis (Lanczos: steps + 1 vectors of N). A run whose estimate exceeds the limit (the machine's
 * available memory, or --memory-limit GiB) is refused with one line: the estimate, the limit and
 * how to lower it. The estimates are lower bounds of what a run holds: they catch absurd sizes
 * (mlp:20-1000000000-5, gmm:n=2000000000) before a typed array is allocated, not tight budgets.
 */
import { freemem, totalmem } from "node:os";
import { statSync } from "node:fs";
import { InputError } from "../errors.ts";
import type { DataSpec } from "../data/spec.ts";

const GiB = 1024 ** 3;

/** Bytes of a dataset from its spec: generated ones by n x d, files by their sizes on disk. */
export function estimateDataBytes(p: DataSpec): number {
  const fileSize = (f: string): number => {
    try {
      return statSync(f).size;
    } catch {
      return 0; // the reader reports a missing file
    }
  };
  switch (p.kind) {
    case "gmm":
      return p.n * p.d * 8 + p.n * 4;
    case "mnist":
      return p.n * (784 * 8 + 4);
    case "npy":
      // float32 and integer files widen to float64 features: at most 8x a one-byte file.
      return 8 * (fileSize(p.x) + fileSize(p.y));
    case "npz":
    case "csv":
      return 8 * fileSize(p.file);
    case "cifar10":
      return (p.n ?? 50000) * (3 * 32 * 32 * 8 + 4);
  }
}

export interface MemoryNeeds {
  readonly dataBytes: number;
  /** Parameters of the model (or of the operator's block). */
  readonly parameters: number;
  /** A dense N x N matrix of the operator (hessian --dense). */
  readonly dense?: boolean;
  /** Vectors of length N kept at once (a Krylov basis), beyond the parameters' own. */
  readonly vectors?: number;
}

/** Bytes the needs take: data, 6 parameter-sized float64 vectors, the dense matrix twice, the basis. */
export function estimateBytes(n: MemoryNeeds): number {
  const vec = n.parameters * 8;
  return n.dataBytes + 6 * vec + (n.dense ? 2 * n.parameters * n.parameters * 8 : 0) + (n.vectors ?? 0) * vec;
}

/** The limit in bytes: --memory-limit GiB, else the memory available now (and under a cgroup cap). */
export function memoryLimitBytes(limitGiB: number | undefined): number {
  if (limitGiB !== undefined) return limitGiB * GiB;
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.() ?? 0;
  const available = Math.max(freemem(), 0.25 * totalmem());
  return constrained > 0 ? Math.min(available, constrained) : available;
}

function gib(bytes: number): string {
  return `${(bytes / GiB).toPrecision(3)} GiB`;
}

/** Refuses (InputError naming `input`) a run estimated beyond the limit. */
export function checkMemory(input: string, needs: MemoryNeeds, limitGiB: number | undefined): void {
  const bytes = estimateBytes(needs);
  const limit = memoryLimitBytes(limitGiB);
  if (bytes <= limit) return;
  const parts = [
    needs.dataBytes > 0.25 * bytes ? `data ${gib(needs.dataBytes)}` : "",
    `${needs.parameters.toLocaleString("en-US")} parameters`,
    needs.dense ? `dense ${needs.parameters} x ${needs.parameters} matrix ${gib(2 * needs.parameters ** 2 * 8)}` : "",
    needs.vectors ? `${needs.vectors} Krylov vectors` : "",
  ].filter((s) => s);
  const how = needs.dense
    ? "use matrix-free spectra (curvlab spectrum) or a --block instead of --dense"
    : needs.dataBytes > 0.5 * bytes
      ? "use fewer examples (n=) or a smaller dataset"
      : needs.vectors
        ? "use fewer steps or a smaller model"
        : "use a smaller model";
  throw new InputError(input, `needs an estimated ${gib(bytes)} (${parts.join(", ")}), over the memory limit of ${gib(limit)}; ${how}, or raise the limit with --memory-limit GIB`);
}
