/**
 * Runs before @jax-js/jax is first imported (see jax.ts):
 * - the Node 20 shims (shims.ts);
 * - a record of every WebAssembly.Memory created, to measure engine memory (leak tests);
 * - in Node, a browser-style `Worker` over worker_threads and `navigator.hardwareConcurrency`,
 *   so that the Wasm backend runs kernels on CURVLAB_THREADS threads (default: cores, at most 4;
 *   1 keeps everything on the main thread, synchronous).
 */
import "./shims.ts";
import { NodeWebWorker } from "./node-workers.ts";

export const wasmMemories: WebAssembly.Memory[] = [];

const W = WebAssembly as unknown as { Memory: typeof WebAssembly.Memory & { __tracked?: boolean } };
if (!W.Memory.__tracked) {
  const Original = W.Memory;
  const Tracked = function (desc: WebAssembly.MemoryDescriptor) {
    const m = new Original(desc);
    wasmMemories.push(m);
    return m;
  } as unknown as typeof WebAssembly.Memory & { __tracked?: boolean };
  Tracked.prototype = Original.prototype;
  Tracked.__tracked = true;
  W.Memory = Tracked;
}

const isNode = typeof process !== "undefined" && !!process.versions?.node;
export const requestedThreads: number = (() => {
  if (!isNode) return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  const env = process.env.CURVLAB_THREADS;
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  const n = env ? Number(env) : Math.min(cores ?? 2, 4);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 16) : 1;
})();

if (isNode) {
  const g = globalThis as Record<string, unknown>;
  Object.defineProperty(globalThis, "navigator", {
    value: { ...(g.navigator as object | undefined), hardwareConcurrency: requestedThreads, userAgent: "Node.js" },
    configurable: true,
    writable: true,
  });
  if (requestedThreads > 1 && typeof g.Worker === "undefined") g.Worker = NodeWebWorker;
}

/**
 * CURVLAB_JIT_REPLAY=always|never: forces whether linearized products replay through `jit`
 * (curvature/problem.ts, replaysThroughJit; tests check both paths against dense). Read at each
 * call, so a test may set it after its imports; undefined when unset, invalid or not in Node.
 */
export function jitReplaySetting(): "always" | "never" | undefined {
  const forced = typeof process !== "undefined" ? process.env?.CURVLAB_JIT_REPLAY : undefined;
  return forced === "always" || forced === "never" ? forced : undefined;
}

/** CURVLAB_DEBUG=1: the CLI prints stack traces with its error lines. Read at each call. */
export function debugSetting(): boolean {
  return typeof process !== "undefined" && process.env?.CURVLAB_DEBUG === "1";
}
