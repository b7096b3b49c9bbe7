/**
 * Starting the engine (@jax-js/jax) in Node or a browser. Nothing else in curvlab calls jax-js's
 * `init`. Devices:
 * - `wasm` (default): WebAssembly, float32 and float64. In Node the kernels run on a pool of
 *   worker threads (see node-workers.ts) when `threads > 1`; jax-js then completes work
 *   asynchronously, so host reads go through `await array.data()`. The thread count is fixed
 *   when jax-js loads: set CURVLAB_THREADS (the CLI's --threads does) before importing curvlab.
 * - `webgpu`: float32 only. In Node through the npm package `webgpu` (Dawn), loaded on demand.
 * - `cpu`: jax-js's interpreter; slow, but its float64 arithmetic and transcendentals are exact
 *   (Wasm's exp/log/tanh are float32-precise even on float64 arrays). The `exact` path uses it.
 */
import { init, defaultDevice } from "./jax.ts";
import { requestedThreads, wasmMemories } from "./setup.ts";
import { InputError } from "../errors.ts";

export type DeviceName = "wasm" | "webgpu" | "cpu";
export const DEVICES: readonly DeviceName[] = ["wasm", "webgpu", "cpu"];

export interface EngineInfo {
  readonly device: DeviceName;
  /** Worker threads of the Wasm backend (1 = kernels run on the calling thread). */
  readonly threads: number;
  readonly runtime: "node" | "browser";
  /** The GPU adapter, for webgpu. */
  readonly adapter?: string;
}

export interface EngineOptions {
  readonly device?: DeviceName;
}

let started: EngineInfo | null = null;
const isNode = typeof process !== "undefined" && !!process.versions?.node;

async function startWebGpuInNode(): Promise<string> {
  let mod: { create: (opts: string[]) => unknown; globals: Record<string, unknown> };
  try {
    mod = (await import("webgpu" as string)) as typeof mod;
  } catch {
    throw new InputError("--device", "webgpu needs the npm package `webgpu` (npm i webgpu)");
  }
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create([]) as { requestAdapter(): Promise<{ info?: { description?: string; device?: string } } | null> };
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new InputError("--device", "webgpu: no GPU adapter found on this machine");
  Object.defineProperty(globalThis, "navigator", {
    value: { gpu, userAgent: "Node.js", hardwareConcurrency: 1 },
    configurable: true,
    writable: true,
  });
  return adapter.info?.description || adapter.info?.device || "unknown adapter";
}

/**
 * Starts the engine once per process; later calls must ask for the same device and return the
 * same info.
 */
export async function startEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  const device = opts.device ?? "wasm";
  if (!DEVICES.includes(device)) {
    throw new InputError("--device", `expected one of ${DEVICES.join(", ")}, got "${device}"`);
  }
  if (started) {
    if (started.device !== device) {
      throw new Error(`engine already started on ${started.device}; cannot switch to ${device}`);
    }
    return started;
  }
  const threads = requestedThreads;
  let adapter: string | undefined;
  if (isNode) {
    if (device === "webgpu") adapter = await startWebGpuInNode();
  }
  // The cpu device always starts too (it is cheap): exact float64 references beside any device.
  const toInit = [...new Set([device, "wasm", "cpu"])];
  const available = await init(...(toInit as DeviceName[]));
  if (!available.includes(device)) {
    throw new InputError("--device", `${device} is not available here (available: ${available.join(", ")})`);
  }
  defaultDevice(device);
  started = { device, threads: device === "wasm" ? threads : 1, runtime: isNode ? "node" : "browser", adapter };
  return started;
}

export function engineInfo(): EngineInfo {
  if (!started) throw new Error("engine not started: call startEngine() first");
  return started;
}

/** Bytes of WebAssembly memory the engine holds (grows only when live buffers grow). */
export function engineMemoryBytes(): number {
  return wasmMemories.reduce((s, m) => s + m.buffer.byteLength, 0);
}
