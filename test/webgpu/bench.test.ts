// bench/gpu.ts --quick runs end to end on whatever adapter exists (here: the software one), with
// the PyTorch peer where python3 has torch (on the CPU without CUDA), and prints its tables; its
// accuracy table (float32 on webgpu against float64 on wasm) stays within 1e-4 relative, the
// target of the float32 GPU path. 40 s to 3 minutes on 2 cores, so it runs with CURVLAB_HEAVY=1
// only, not in `npm test` or CI (which keeps the suite well under 15 minutes).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const heavy = process.env.CURVLAB_HEAVY === "1";
const BENCH = fileURLToPath(new URL("../../bench/gpu.ts", import.meta.url));

test("bench/gpu.ts --quick: every table, accuracy within 1e-4", { skip: !heavy, timeout: 900_000 }, () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", BENCH, "--quick"], { encoding: "utf8", timeout: 900_000 });
  assert.equal(r.status, 0, r.stderr);
  const md = r.stdout;
  if (/Not run: .*no GPU adapter/.test(md)) {
    if (process.env.CURVLAB_REQUIRE_WEBGPU === "1") assert.fail(md);
    return;
  }
  for (const t of ["### Matmul throughput", "### Hessian-vector products", "### Lanczos and SLQ", "### Accuracy: float32 on WebGPU"]) assert.ok(md.includes(t), `${t} missing:\n${md}`);
  const accuracy = md.slice(md.indexOf("### Accuracy"));
  const diffs = [...accuracy.matchAll(/^\|[^|\n]+\|[^|\n]*\|[^|\n]*\| ([0-9.e+-]+) \|$/gm)].map((m) => Number(m[1]));
  assert.ok(diffs.length >= 5, accuracy);
  for (const d of diffs) assert.ok(d <= 1e-4, `relative difference ${d}:\n${accuracy}`);
  const hvp = /\| mlp:[^|]+\|[^\n]*\| ([0-9.e+-]+) \|\n/.exec(md.slice(md.indexOf("### Hessian-vector"), md.indexOf("### Lanczos")));
  if (md.includes("HVP max rel diff")) assert.ok(hvp && Number(hvp[1]) <= 1e-4, `HVP against PyTorch:\n${md}`);
});
