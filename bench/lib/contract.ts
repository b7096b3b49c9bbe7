/**
 * The contract between bench/run.ts and the benchmark modules in bench/.
 *
 * A benchmark is a file `bench/<name>.ts` that exports
 *
 *   export async function run(ctx: BenchContext): Promise<BenchResult>
 *
 * and, optionally, `export const variants: readonly BenchVariant[]`. bench/run.ts finds such
 * files by that export (it reads the source text; it never imports a file that does not export
 * `run`), runs each one in a fresh Node process per variant (so that settings fixed at import,
 * such as the engine's CURVLAB_THREADS, take effect and benchmarks do not share an engine), and
 * writes every result to BENCHMARKS.md. `runIfMain` (harness.ts) lets the same file run alone.
 *
 * Comparisons with peers (PyTorch, numpy) run in the same process run, interleaved with ours;
 * tables report medians and ratios. A peer that is missing is a note, not a failure: the
 * benchmark reports curvlab's own numbers alone.
 */

/** One table cell. Numbers are printed as given (round them where they are made). */
export type Cell = string | number | boolean | null;

/** A table: one object per row; the columns are the keys, in first-seen order. */
export interface BenchTable {
  readonly title: string;
  readonly rows: readonly Readonly<Record<string, Cell>>[];
  /** Printed under the table. */
  readonly notes?: readonly string[];
}

export interface BenchResult {
  /** Section title in BENCHMARKS.md, e.g. "Hessian-vector products (MLP, float32)". */
  readonly title: string;
  /** What is measured and how, in a sentence or two (printed under the title). */
  readonly summary?: string;
  /** The main table first; a benchmark may add more (accuracy, memory...). */
  readonly tables: readonly BenchTable[];
  /** Printed after the tables. */
  readonly notes?: readonly string[];
  /**
   * Peers compared with and their versions/settings, for the machine section,
   * e.g. { "PyTorch": "1.13.0, CPU, 2 threads, BLAS: OpenBLAS 0.3.21" }.
   */
  readonly peers?: Readonly<Record<string, string>>;
}

/** One run of a module: a label and environment variables set for its process. */
export interface BenchVariant {
  readonly label: string;
  readonly env: Readonly<Record<string, string>>;
}

export interface BenchContext {
  /** The variant this process runs (null when the module declares none). */
  readonly variant: BenchVariant | null;
  /** Fewer repetitions and sizes: a smoke run, not figures to publish. */
  readonly quick: boolean;
  /** Progress lines (to stderr). */
  log(message: string): void;
}

export interface BenchModule {
  run(ctx: BenchContext): Promise<BenchResult>;
  readonly variants?: readonly BenchVariant[];
}
