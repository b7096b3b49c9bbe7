/**
 * The webgpu test files' start: the engine on webgpu (a GPU, or the SwiftShader software adapter
 * that src/engine/start.ts falls back to where Debian's chromium is installed), or a skip reason
 * where no adapter exists. CI (.ci/run) sets CURVLAB_REQUIRE_WEBGPU=1: there, no adapter fails
 * the file instead of skipping it, as CURVLAB_REQUIRE_BROWSER does for the browser lab's test.
 *
 * The engine starts once per process on one device, so a wasm reference runs in a child process
 * (reference.ts) on the same jobs (jobs.ts).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startEngine, type EngineInfo } from "../../src/engine/start.ts";
import { InputError } from "../../src/errors.ts";

export interface WebGpuStart {
  /** false when the engine runs on webgpu, else why the file's tests are skipped. */
  readonly skip: string | false;
  readonly info?: EngineInfo;
}

export async function startWebGpuOrSkip(): Promise<WebGpuStart> {
  try {
    const info = await startEngine({ device: "webgpu" });
    console.log(`# webgpu adapter: ${info.adapter}${info.software ? " (software)" : ""}`);
    return { skip: false, info };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const reason = `no WebGPU adapter here (${e.message})`;
    if (process.env.CURVLAB_REQUIRE_WEBGPU === "1") throw new Error(`CURVLAB_REQUIRE_WEBGPU=1 but ${reason}`);
    return { skip: reason };
  }
}

const REFERENCE = fileURLToPath(new URL("./reference.ts", import.meta.url));

/**
 * Runs jobs (names from jobs.ts) on wasm in a child process, float64 unless `dtype` says
 * otherwise; resolves to their JSON results by name. Started early, it runs beside the webgpu work.
 */
export function wasmReference<T = unknown>(jobs: readonly string[], dtype: "float64" | "float32" = "float64"): Promise<Record<string, T>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", REFERENCE, dtype, ...jobs], {
      env: { ...process.env, CURVLAB_THREADS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`wasm reference exited with ${code}: ${err.slice(-2000)}`));
      try {
        resolve(JSON.parse(out) as Record<string, T>);
      } catch (e) {
        reject(new Error(`wasm reference printed no JSON (${(e as Error).message}): ${out.slice(0, 500)}`));
      }
    });
  });
}
