/**
 * The Hessian of the dataset loss, H = sum over batches of the batch Hessians (each batch
 * weighted by its share of the mean, see problem.ts), as a matrix-free operator.
 *
 * How a Hessian-vector product is formed matters several-fold on this engine (bench/hvp.ts,
 * BENCHMARKS.md; MLP 784-128-10 and 784-512-512-10, batch 1000, float32, Wasm): forward-over-reverse
 * `jvp(grad(f))` under jit ~14x the gradient's time; reverse-over-forward `grad(q -> jvp(f, q, v))`
 * under jit ~2.6x, but jax-js 0.1.25 computes it wrongly under jit in float64 (float32 agrees;
 * eager is right); `linearize(grad(f))` at theta once per batch, then each product replays the
 * linear part: 1.2-1.5x, which is the fewest matmuls an exact product needs (PyTorch's double
 * backward: 1.9-3.2x its gradient).
 * Methods:
 * - `linearize` (default): linearize every batch once and keep the linearizations (their
 *   residuals, i.e. activations and friends, stay on the device): the fastest products. On small
 *   problems each linear part is replayed through `jit` (problem.ts, replaysThroughJit): run
 *   eagerly it dispatches one operation at a time, and there that dispatch is most of the cost
 *   (3x faster products on an MLP of 837 parameters and 1,000 examples, the same values to the
 *   last bit); on large ones the compiled replay is slower than eager, so they stay eager.
 * - `relinearize`: linearize each batch anew in every product and drop it at once: about twice
 *   the time of a product, but holds one batch's residuals at a time, for datasets whose
 *   residuals do not fit in memory.
 * - `grad-of-jvp`: reverse-over-forward, `grad(q -> jvp(f, q, v))`, one jitted program per
 *   batch, each product recomputing the forward pass. On convolutional networks it is the fast
 *   one (resnet:20, 8 images, 1 thread: 0.62 s against 2.9 s for a linearized replay, and 0.9 GB
 *   of memory against 1.9 GB); on MLPs linearize is (see above). jax-js 0.1.25 computes it
 *   wrongly under jit in float64, so it is float32 only.
 * - `auto` (default): `linearize`, unless the model says how many activations an example has
 *   (Model.activationsPerExample) and the linearizations of the whole dataset would not fit in
 *   LINEARIZE_BUDGET; then `grad-of-jvp` in float32 and `relinearize` in float64.
 * The per-batch methods cut each batch into chunks of at most `chunkRows` examples (by default
 * what fits in chunks.ts's CHUNK_BUDGET by the model's activations), except with BatchNorm on batch
 * statistics, whose batches define the statistics; `matvecAsync` waits for each chunk, so the
 * memory in use is one chunk's (operator.ts).
 */
import { grad, jit, jvp, linearize, type Array, type OwnedFunction } from "../engine/jax.ts";
import { makeOperator, sumOver, sumOverAsync, type LinearOperator } from "./operator.ts";
import { batchLoss, describeProblem, replaysThroughJit, type LossProblem } from "./problem.ts";
import { chunksOf, disposeChunks as disposeAll, planChunkRows, type Chunk } from "./chunks.ts";

export type HvpMethod = "auto" | "linearize" | "relinearize" | "grad-of-jvp";
export const HVP_METHODS: readonly HvpMethod[] = ["auto", "linearize", "relinearize", "grad-of-jvp"];

export interface HessianOptions {
  /** How products are formed (module comment); default "auto". */
  readonly method?: HvpMethod;
  /** Examples per device program of the per-batch methods (module comment). */
  readonly chunkRows?: number;
}

/** Memory the linearizations of the whole dataset may take before `auto` goes per batch. */
export const LINEARIZE_BUDGET = 2 ** 30;
/**
 * Floats of device memory per activation float of one example, measured on resnet:20 (200,704
 * activations an image; float32, Wasm): a linearization holds ~257 (1.9 GB for 8 images); the
 * jitted grad-of-jvp program ~110 (2.9 GB for 32 images; jax-js allocates every buffer of a
 * program before the first of them is freed).
 */
const FLOATS_PER_ACTIVATION = { linearize: 257, "grad-of-jvp": 110, relinearize: 257 } as const;

const bytesOf = (problem: LossProblem) => (problem.dtype === "float64" ? 8 : 4);

/** The method `auto` stands for on this problem (module comment). */
export function resolveHvpMethod(problem: LossProblem, method: HvpMethod = "auto"): Exclude<HvpMethod, "auto"> {
  if (method !== "auto") return method;
  const act = problem.model.activationsPerExample;
  if (act === undefined) return "linearize";
  if (problem.n * act * FLOATS_PER_ACTIVATION.linearize * bytesOf(problem) <= LINEARIZE_BUDGET) return "linearize";
  return problem.dtype === "float32" ? "grad-of-jvp" : "relinearize";
}

/** Examples per chunk of a per-batch method: the option, else what fits CHUNK_BUDGET, else a batch. */
export function chunkRowsFor(problem: LossProblem, method: "relinearize" | "grad-of-jvp", chunkRows?: number): number {
  return chunkRows ?? planChunkRows(problem, FLOATS_PER_ACTIVATION[method]);
}

export function hessianOperator(problem: LossProblem, opts: HessianOptions = {}): LinearOperator {
  const method = resolveHvpMethod(problem, opts.method);
  if (opts.chunkRows !== undefined && !(Number.isInteger(opts.chunkRows) && opts.chunkRows >= 1)) {
    throw new Error(`hessianOperator: chunkRows must be a positive integer, got ${opts.chunkRows}`);
  }
  const L = batchLoss(problem);
  const description = `Hessian of the ${describeProblem(problem)}`;
  const gradAt = (b: LossProblem["batches"][number]) => (t: Array) => grad(L)(t, b.x.ref, b.targets.ref);
  if (method === "linearize") {
    const owned: { dispose(): void }[] = [];
    const useJit = replaysThroughJit(problem);
    const lins: OwnedFunction<(v: Array) => Array>[] = problem.batches.map((b) => {
      const [g, lin] = linearize(gradAt(b), [problem.theta.ref]);
      g.dispose();
      owned.push(lin);
      if (!useJit) return lin;
      const replay = jit((v: Array) => lin(v));
      owned.push(replay);
      return replay;
    });
    return makeOperator(
      problem.model.size,
      problem.dtype,
      description,
      (v) => sumOver(lins, (lin) => lin(v.ref)),
      () => owned.forEach((f) => f.dispose()),
      (v) => sumOverAsync(lins, (lin) => lin(v.ref)),
    );
  }
  const chunks = chunksOf(problem, chunkRowsFor(problem, method, opts.chunkRows));
  const disposeChunks = () => disposeAll(chunks);
  if (method === "grad-of-jvp") {
    if (problem.dtype !== "float32") {
      disposeChunks();
      throw new Error(`hessianOperator: the grad-of-jvp method is float32 only (jax-js computes it wrongly under jit in float64); got ${problem.dtype}`);
    }
    const hvpAt = jit((t: Array, x: Array, targets: Array, v: Array) => {
      const hv = grad((q: Array) => {
        const [l, dl] = jvp((p: Array) => L(p, x.ref, targets.ref), [q], [v.ref]);
        l.dispose();
        return dl;
      })(t);
      x.dispose(), targets.dispose(), v.dispose();
      return hv;
    });
    const term = (v: Array) => (c: Chunk) => hvpAt(problem.theta.ref, c.x.ref, c.targets.ref, v.ref);
    return makeOperator(
      problem.model.size,
      problem.dtype,
      description,
      (v) => sumOver(chunks, term(v)),
      () => (hvpAt.dispose(), disposeChunks()),
      (v) => sumOverAsync(chunks, term(v)),
    );
  }
  const term = (v: Array) => (c: Chunk) => {
    const [g, lin] = linearize((t: Array) => grad(L)(t, c.x.ref, c.targets.ref), [problem.theta.ref]);
    g.dispose();
    const hv = lin(v.ref);
    lin.dispose();
    return hv;
  };
  return makeOperator(
    problem.model.size,
    problem.dtype,
    description,
    (v) => sumOver(chunks, term(v)),
    disposeChunks,
    (v) => sumOverAsync(chunks, term(v)),
  );
}
