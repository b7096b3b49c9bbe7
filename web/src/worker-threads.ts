/**
 * Imported first by the compute worker, before the engine: jax-js builds its Wasm backend (and
 * decides on a worker pool) when it loads, from `navigator.hardwareConcurrency` and the presence
 * of `Worker`. The page passes the thread count in the worker's name ("... threads=N"). The
 * default is 1: for the lab's small models every kernel is tiny and the pool's messages cost
 * more than they save (measured in Node on the quick study's MLP, 244 parameters: Hessian
 * columns 0.66 s on 1 thread vs 1.82 s on 2, SLQ 2.7 s vs 5.4 s). `?threads=N` in the page's URL
 * asks for a pool, which pays off on large models (MNIST).
 */
const threads = Math.max(1, Math.min(16, Number(/threads=(\d+)/.exec(self.name)?.[1] ?? 1) || 1));
Object.defineProperty(self.navigator, "hardwareConcurrency", { value: threads, configurable: true });
if (threads === 1) (self as unknown as { Worker?: unknown }).Worker = undefined;
export const WORKER_THREADS = threads;
