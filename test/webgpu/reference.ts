/**
 * The wasm side of the webgpu tests, run as a child process by device.ts's wasmReference:
 * `node --import tsx test/webgpu/reference.ts DTYPE JOB...` starts the engine on wasm, runs the
 * named jobs of jobs.ts and prints their results as one JSON object on stdout.
 */
import { startEngine } from "../../src/engine/start.ts";
import { JOBS, type JobName } from "./jobs.ts";
import type { DTypeName } from "../../src/engine/dtype.ts";

const [dtype, ...names] = process.argv.slice(2) as [DTypeName, ...JobName[]];
await startEngine({ device: "wasm" });
const out: Record<string, unknown> = {};
for (const name of names) {
  if (!(name in JOBS)) throw new Error(`unknown job ${name}`);
  out[name] = await JOBS[name](dtype);
}
process.stdout.write(JSON.stringify(out));
