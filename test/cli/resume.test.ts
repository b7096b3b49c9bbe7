// A long run can be stopped (killed) and resumed: the second run takes the finished probes from
// the run directory, spends fewer products, and gives the same numbers as an uninterrupted run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, runCli } from "./run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "curvlab-resume-"));
const ARGS = ["density", "--model", "mlp:10-24-4:tanh", "--data", "gmm:k=4,d=10,n=100,sep=3,seed=0", "--probes", "8", "--steps", "30", "--json", "--quiet"];

async function killWhenJournalHas(runDir: string, units: number): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...ARGS, "--resume", runDir], { stdio: "ignore" });
  const journal = join(runDir, "journal");
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      const n = existsSync(journal) ? readdirSync(journal).filter((f) => f.endsWith(".json")).length : 0;
      if (n >= units) {
        clearInterval(timer);
        child.kill("SIGKILL");
      }
    }, 20);
    child.on("exit", () => {
      clearInterval(timer);
      resolve();
    });
    child.on("error", reject);
  });
}

test("density --resume: killed after some probes, resumed with the same result and fewer products", async () => {
  const whole = runCli([...ARGS, "--resume", join(dir, "whole")]);
  assert.equal(whole.status, 0, whole.stderr);
  const a = JSON.parse(whole.stdout);
  assert.equal(a.density.matvecs, 8 * 30);

  const runDir = join(dir, "interrupted");
  await killWhenJournalHas(runDir, 3);
  const saved = readdirSync(join(runDir, "journal")).filter((f) => f.endsWith(".json")).length;
  assert.ok(saved >= 3 && saved < 8, `killed with ${saved} probes saved`);
  const resumed = runCli([...ARGS, "--resume", runDir]);
  assert.equal(resumed.status, 0, resumed.stderr);
  const b = JSON.parse(resumed.stdout);
  assert.equal(b.density.matvecs, (8 - saved) * 30, "only the missing probes are computed");
  assert.deepEqual(b.density.quadrature, a.density.quadrature);
  assert.deepEqual(b.density.density.y, a.density.density.y);
  assert.equal(b.density.trace.estimate, a.density.trace.estimate);

  // Other settings in the same directory are refused.
  const other = runCli([...ARGS.map((x) => (x === "30" ? "20" : x)), "--resume", runDir]);
  assert.equal(other.status, 2);
  assert.match(other.stderr, /--resume .*other settings/);
});
