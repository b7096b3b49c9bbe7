/**
 * Starting the engine (@jax-js/jax) in Node or a browser. Nothing else in curvlab calls jax-js's
 * `init`. Devices:
 * - `wasm` (default): WebAssembly, float32 and float64. In Node the kernels run on a pool of
 *   worker threads (see node-workers.ts) when `threads > 1`; jax-js then completes work
 *   asynchronously, so host reads go through `await array.data()`. The thread count is fixed
 *   when jax-js loads: set CURVLAB_THREADS (the CLI's --threads does) before importing curvlab.
 * - `webgpu`: float32 only. In Node through the npm package `webgpu` (Dawn; an optional
 *   dependency), loaded on demand. Where no GPU adapter exists and Debian's chromium is installed,
 *   Dawn runs on chromium's SwiftShader (a Vulkan driver on the CPU): the GPU path's numbers,
 *   slowly. This file is where that choice reads the environment (VK_ICD_FILENAMES,
 *   VK_DRIVER_FILES: the user's own driver choice, kept; CURVLAB_WEBGPU_SOFTWARE=0: no fallback).
 * - `cpu`: jax-js's interpreter; slow, but its float64 arithmetic and transcendentals are exact
 *   (Wasm's exp/log/tanh are float32-precise even on float64 arrays). The `exact` path uses it.
 */
import { init, defaultDevice } from "./jax.ts";
import { requestedThreads, wasmMemories } from "./setup.ts";
import { optionError } from "../errors.ts";

export type DeviceName = "wasm" | "webgpu" | "cpu";
export const DEVICES: readonly DeviceName[] = ["wasm", "webgpu", "cpu"];

export interface EngineInfo {
  readonly device: DeviceName;
  /** Worker threads of the Wasm backend (1 = kernels run on the calling thread). */
  readonly threads: number;
  readonly runtime: "node" | "browser";
  /** The GPU adapter, for webgpu. */
  readonly adapter?: string;
  /** For webgpu: the adapter is a software one (SwiftShader on the CPU): right numbers, slow. */
  readonly software?: boolean;
}

export interface EngineOptions {
  readonly device?: DeviceName;
}

let started: EngineInfo | null = null;
const isNode = typeof process !== "undefined" && !!process.versions?.node;

/**
 * The software adapter: Debian's chromium package ships Google's SwiftShader, a Vulkan driver that
 * runs on the CPU, with its own Vulkan loader. Dawn finds an adapter on it (not on Mesa's
 * lavapipe: "shaderUniform*ArrayDynamicIndexing required"). It gives the GPU path's numbers
 * without a GPU, slowly (a dense 837x837 Hessian: 41.7 s against Wasm's 7.4 s).
 */
const SOFTWARE_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";
const SOFTWARE_LOADER = "/usr/lib/chromium/libvulkan.so.1";
const SOFTWARE_HINT =
  "without a GPU, install Debian's chromium (apt-get install chromium) for its SwiftShader software adapter, " +
  `which curvlab then uses by itself; or set VK_ICD_FILENAMES=${SOFTWARE_ICD} and XDG_RUNTIME_DIR to a writable folder ` +
  "(and LD_LIBRARY_PATH=/usr/lib/chromium where libvulkan1 is not installed)";

interface GpuLike {
  requestAdapter(): Promise<{ info?: { description?: string; device?: string } } | null>;
}

/** Whether the dynamic linker finds a system Vulkan loader (libvulkan.so.1). */
async function systemVulkanLoader(): Promise<boolean> {
  const { existsSync, readFileSync } = await import("node:fs");
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean), "/lib", "/usr/lib", "/lib64", "/usr/lib64"];
  if (dirs.some((d) => existsSync(`${d}/libvulkan.so.1`))) return true;
  try {
    return readFileSync("/etc/ld.so.cache").includes("libvulkan.so.1");
  } catch {
    return false;
  }
}

/**
 * Whether any Vulkan driver is installed where the loader looks (an ICD manifest): without one a
 * hardware attempt can only fail, with Dawn's warnings on stderr.
 */
async function vulkanDriversInstalled(): Promise<boolean> {
  const { readdirSync } = await import("node:fs");
  const env = process.env;
  const bases = [
    ...(env.XDG_CONFIG_DIRS || "/etc/xdg").split(":"),
    "/usr/local/etc",
    "/etc",
    ...(env.HOME ? [`${env.HOME}/.local/share`] : []),
    ...(env.XDG_DATA_DIRS || "/usr/local/share:/usr/share").split(":"),
    "/usr/share",
  ];
  return bases.some((b) => {
    try {
      return readdirSync(`${b}/vulkan/icd.d`).some((f) => f.endsWith(".json"));
    } catch {
      return false;
    }
  });
}

/**
 * Loads chromium's Vulkan loader into the process, kept (RTLD_NODELETE) and global, so that
 * Dawn's later dlopen("libvulkan.so.1") finds it by its soname. process.dlopen then throws
 * "did not self-register" (it is not a Node addon), which is expected.
 */
async function preloadSoftwareLoader(): Promise<void> {
  const os = await import("node:os");
  const RTLD_NODELETE = 0x1000; // glibc, Linux
  const flags = os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE;
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, SOFTWARE_LOADER, flags);
  } catch {
    // Not an addon: the library stays loaded all the same.
  }
}

/**
 * navigator.gpu in Node from the npm package `webgpu` (Dawn; an optional dependency). A GPU
 * adapter first; where there is none and chromium's SwiftShader is installed, Dawn is pointed at
 * it (unless the user set VK_ICD_FILENAMES or VK_DRIVER_FILES, or CURVLAB_WEBGPU_SOFTWARE=0),
 * with one line on stderr saying so.
 */
async function startWebGpuInNode(): Promise<{ adapter: string; software: boolean }> {
  let mod: { create: (opts: string[]) => GpuLike; globals: Record<string, unknown> };
  try {
    mod = (await import("webgpu" as string)) as typeof mod;
  } catch {
    throw optionError("device", "webgpu needs the npm package `webgpu`, an optional dependency that is not installed here (npm install webgpu@0.6.2)");
  }
  const { existsSync, mkdirSync } = await import("node:fs");
  const linux = process.platform === "linux";
  const haveChromium = linux && existsSync(SOFTWARE_ICD) && existsSync(SOFTWARE_LOADER);
  if (haveChromium && !(await systemVulkanLoader())) await preloadSoftwareLoader();
  Object.assign(globalThis, mod.globals);
  const userChoseDriver = !!(process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES);
  let gpu = mod.create([]);
  let adapter = linux && !userChoseDriver && !(await vulkanDriversInstalled()) ? null : await gpu.requestAdapter();
  let software = false;
  if (!adapter && haveChromium && !userChoseDriver && process.env.CURVLAB_WEBGPU_SOFTWARE !== "0") {
    process.env.VK_ICD_FILENAMES = SOFTWARE_ICD;
    if (!process.env.XDG_RUNTIME_DIR) {
      const { tmpdir, userInfo } = await import("node:os");
      const dir = `${tmpdir()}/curvlab-runtime-${userInfo().uid}`;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      process.env.XDG_RUNTIME_DIR = dir;
    }
    gpu = mod.create([]);
    adapter = await gpu.requestAdapter();
    software = !!adapter;
    if (adapter) process.stderr.write("curvlab: no GPU adapter; webgpu runs on SwiftShader (chromium's CPU software adapter): right numbers, slowly\n");
  }
  if (!adapter) throw optionError("device", `webgpu: no GPU adapter found; ${SOFTWARE_HINT}`);
  Object.defineProperty(globalThis, "navigator", {
    value: { gpu, userAgent: "Node.js", hardwareConcurrency: 1 },
    configurable: true,
    writable: true,
  });
  const name = adapter.info?.description || adapter.info?.device || "unknown adapter";
  return { adapter: name, software: software || /swiftshader/i.test(name) };
}

/**
 * Starts the engine once per process; later calls must ask for the same device and return the
 * same info.
 */
export async function startEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  const device = opts.device ?? "wasm";
  if (!DEVICES.includes(device)) {
    throw optionError("device", `expected one of ${DEVICES.join(", ")}, got "${device}"`);
  }
  if (started) {
    if (started.device !== device) {
      throw new Error(`engine already started on ${started.device}; cannot switch to ${device}`);
    }
    return started;
  }
  const threads = requestedThreads;
  let gpu: { adapter: string; software: boolean } | undefined;
  if (isNode && device === "webgpu") gpu = await startWebGpuInNode();
  // The cpu device always starts too (it is cheap): exact float64 references beside any device.
  const toInit = [...new Set([device, "wasm", "cpu"])];
  const available = await init(...(toInit as DeviceName[]));
  if (!available.includes(device)) {
    throw optionError("device", `${device} is not available here (available: ${available.join(", ")})`);
  }
  defaultDevice(device);
  started = { device, threads: device === "wasm" ? threads : 1, runtime: isNode ? "node" : "browser", ...gpu };
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
