/**
 * Chunks of examples for per-chunk device programs: a problem's batches cut into pieces small
 * enough that one piece's program fits a memory budget, so that sums over them (awaited one at a
 * time, operator.ts sumOverAsync) hold one piece's buffers at a time. jax-js allocates every
 * buffer of a jitted program before the first is freed, so a program's memory is about the sum of
 * its intermediates: for a convolutional network, a number of floats per activation of an
 * example, measured per kind of program (hessian.ts, problem.ts) against the model's own count
 * of activations (Model.activationsPerExample). Models that give no count run whole batches.
 *
 * Why the sizes of the chunks matter as much as their number: jax-js's Wasm allocator (0.1.25)
 * keeps freed blocks on a free list per size class and never merges or returns them, so memory
 * freed by a program of one chunk size serves only buffers of the same sizes. Every distinct
 * chunk size costs its own program's memory for the rest of the process (resnet:20, gradient on
 * 256 images in chunks of 52 and 48: 3.0 GB resident, then a product in chunks of 16 ran out of
 * Wasm's 4 GiB). So batches are cut into equal pieces where a divisor allows, and the chunk size
 * is chosen so that the programs of all distinct sizes fit the budget together, counting those
 * that earlier programs of the process already hold (planChunkRows's ledger: a gradient in chunks
 * of 62 and a product in chunks of 16 of resnet:20 on 256 images, each within the total alone,
 * ran out of Wasm's 4 GiB together).
 */
import type { Array as JaxArray } from "../engine/jax.ts";
import type { DTypeName } from "../engine/dtype.ts";
import type { DeviceBatch } from "../data/device-batches.ts";
import type { Model } from "../nn/model.ts";

/** What the planning reads of a loss problem (problem.ts's LossProblem is one). */
export interface ChunkedProblem {
  readonly model: Pick<Model, "activationsPerExample" | "buffers">;
  readonly batches: readonly Pick<DeviceBatch, "x" | "targets" | "n">[];
  readonly dtype: DTypeName;
}

/** Memory the programs of one kind (all its distinct chunk sizes) may take, so that another kind finds room. */
export const CHUNK_BUDGET = 1.5 * 2 ** 30;
/** Memory the chunk programs of the process may take together (module comment). */
export const CHUNKS_TOTAL_BUDGET = 2.5 * 2 ** 30;

export interface Chunk {
  readonly x: JaxArray;
  readonly targets: JaxArray;
}

/**
 * Sizes of the pieces a batch of n examples is cut into, at most `rows` each: equal pieces of the
 * largest divisor of n in [0.8 rows, rows] when there is one (one program size), else pieces of
 * `rows` and the remainder (two sizes, which rowsWithinBudget accounts for). Larger chunks run
 * faster per example (resnet:20 products: 73 ms an image in chunks of 16, 91 in chunks of 8), so
 * a divisor much below `rows` is not worth its one program.
 */
export function pieceSizes(n: number, rows: number): number[] {
  if (n <= rows) return [n];
  for (let d = rows; d >= Math.ceil(0.8 * rows); d--) if (n % d === 0) return Array.from({ length: n / d }, () => d);
  const sizes = Array.from({ length: Math.floor(n / rows) }, () => rows);
  if (n % rows > 0) sizes.push(n % rows);
  return sizes;
}

const wholeBatches = (problem: ChunkedProblem) => problem.model.buffers?.batchNorm === "batch";

/** The distinct chunk sizes of the problem cut at `rows`. */
function distinctSizes(problem: ChunkedProblem, rows: number): number[] {
  const sizes = new Set<number>();
  for (const b of problem.batches) for (const s of wholeBatches(problem) ? [b.n] : pieceSizes(b.n, rows)) sizes.add(s);
  return [...sizes];
}

/**
 * Memory that chunk programs of this process already hold, by size class (ChunkLedger keys): the
 * Wasm allocator keeps it for the rest of the process, and a program of the same kind and chunk
 * size reuses it.
 */
export type ChunkLedger = Map<string, number>;

const processLedger: ChunkLedger = new Map();

const perExampleBytes = (problem: ChunkedProblem, act: number, floatsPerActivation: number) =>
  act * floatsPerActivation * (problem.dtype === "float64" ? 8 : 4);

/** The ledger key of one program size: the model's activations, the kind's floats, dtype, chunk size. */
const ledgerKey = (problem: ChunkedProblem, act: number, floatsPerActivation: number, size: number) =>
  `${act}|${floatsPerActivation}|${problem.dtype}|${size}`;

/**
 * The most examples a chunk may have for a program holding `floatsPerActivation` floats per
 * activation of an example: the programs of all its distinct chunk sizes within `budget`, and
 * within `total` together with what `committed` already holds (sizes it holds for this kind cost
 * nothing more); at least 1; the largest batch when the model gives no count.
 */
export function rowsWithinBudget(
  problem: ChunkedProblem,
  floatsPerActivation: number,
  budget = CHUNK_BUDGET,
  total = CHUNKS_TOTAL_BUDGET,
  committed: ReadonlyMap<string, number> = new Map(),
): number {
  const act = problem.model.activationsPerExample;
  const largest = Math.max(...problem.batches.map((b) => b.n));
  if (act === undefined) return largest;
  const perExample = perExampleBytes(problem, act, floatsPerActivation);
  const held = [...committed.values()].reduce((a, b) => a + b, 0);
  for (let rows = Math.min(largest, Math.floor(budget / perExample)); rows > 1; rows--) {
    const sizes = distinctSizes(problem, rows);
    const own = sizes.reduce((a, s) => a + s * perExample, 0);
    const added = sizes.filter((s) => !committed.has(ledgerKey(problem, act, floatsPerActivation, s))).reduce((a, s) => a + s * perExample, 0);
    if (own <= budget && held + added <= total) return rows;
  }
  return 1;
}

/**
 * rowsWithinBudget against the memory the process's earlier chunk programs hold, recording the
 * sizes chosen (the caller is about to run them). Tests pass their own ledger.
 */
export function planChunkRows(problem: ChunkedProblem, floatsPerActivation: number, ledger: ChunkLedger = processLedger): number {
  const rows = rowsWithinBudget(problem, floatsPerActivation, CHUNK_BUDGET, CHUNKS_TOTAL_BUDGET, ledger);
  const act = problem.model.activationsPerExample;
  if (act !== undefined) {
    const perExample = perExampleBytes(problem, act, floatsPerActivation);
    for (const s of distinctSizes(problem, rows)) ledger.set(ledgerKey(problem, act, floatsPerActivation, s), s * perExample);
  }
  return rows;
}

/**
 * The problem's batches cut into chunks of at most `rows` examples (pieceSizes); whole batches
 * when the model's BatchNorm uses batch statistics (a batch defines its statistics). The chunks
 * own their arrays: dispose them.
 */
export function chunksOf(problem: ChunkedProblem, rows: number): Chunk[] {
  const out: Chunk[] = [];
  for (const b of problem.batches) {
    if (wholeBatches(problem) || b.n <= rows) {
      out.push({ x: b.x.ref, targets: b.targets.ref });
      continue;
    }
    let a = 0;
    for (const size of pieceSizes(b.n, rows)) {
      out.push({ x: b.x.ref.slice([a, a + size]).mul(1), targets: b.targets.ref.slice([a, a + size]).mul(1) });
      a += size;
    }
  }
  return out;
}

export function disposeChunks(chunks: readonly Chunk[]): void {
  for (const c of chunks) c.x.dispose(), c.targets.dispose();
}
