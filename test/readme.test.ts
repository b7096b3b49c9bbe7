/**
 * The README's commands run as written: every line of its ```sh blocks (a trailing `\` joins the
 * next line; `# ...` comments dropped), in order, from a temporary directory holding a link to
 * this repository's bin/ (so `./bin/curvlab.mjs` resolves and runs/ and out/ land in the
 * temporary directory, removed afterwards); each must exit 0. Commands that later ones depend on
 * (a `train --out runs/gmm` before a `--weights runs/gmm`) therefore run first.
 * Skipped, by the list below with reasons: those that take minutes, need the network or a
 * browser. CURVLAB_HEAVY=1 also runs HEAVY (each tens of seconds on 2 cores), which keeps the
 * rest near 2 minutes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

const heavy = process.env.CURVLAB_HEAVY === "1";
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Commands never run here, by their start, with why. */
const SKIPPED: readonly (readonly [prefix: string, why: string])[] = [
  ["npm ci", "installs from the registry (network) and runs the quick Hessian study (~3 min)"],
  ["npm test", "the whole test suite (7+ minutes), this file included"],
  ["npm run lab", "serves the browser lab until stopped"],
  ["npm pack", "builds dist/ and writes a tarball into the repository (test/package covers it)"],
  ["mkdir -p ../my-project && npm install", "installs dependencies from the registry (network)"],
  ["./bin/curvlab.mjs study ", "full studies take minutes (test/studies and test/cli/study cover them)"],
  ["./bin/curvlab.mjs train --model mlp:784-100-10:relu", "trains an MNIST MLP on 10,000 images (minutes)"],
  ["git clone https://github.com/amirgholami/PyHessian", "the network"],
  ["python3 bench/peers/pyhessian_job.py", "needs PyTorch and the PyHessian checkout"],
  ["./bin/curvlab.mjs spectrum --model resnet:20", "needs the CIFAR-10 files and PyHessian's checkpoint (and minutes)"],
  ["./bin/curvlab.mjs trace --model resnet:20", "needs the CIFAR-10 files and PyHessian's checkpoint (and minutes)"],
  ["./bin/curvlab.mjs density --model resnet:20", "needs the CIFAR-10 files and PyHessian's checkpoint (and minutes)"],
];

/** Commands run only with CURVLAB_HEAVY=1, by their start. */
const HEAVY: readonly string[] = [
  "./bin/curvlab.mjs hessian --model mlp:20-32-5:tanh", // dense GGN of 837 parameters: ~37 s
  "./bin/curvlab.mjs landscape   --model mlp:20-32-5:tanh --data gmm:k=5 --weights runs/gmm --dims 2", // 2-D slice: ~24 s
  "./bin/curvlab.mjs density --model mlp:784-128-10:tanh",
  "./bin/curvlab.mjs trace   --model mlp:784-128-10:tanh",
];

/** The commands of the README's ```sh blocks, in order. */
export function readmeCommands(text: string): string[] {
  const out: string[] = [];
  for (const block of text.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    const lines = block[1]!.split("\n");
    let pending = "";
    for (const raw of lines) {
      const line = raw.replace(/\s+#\s.*$/, "").replace(/^#.*$/, "").trimEnd();
      if (line.endsWith("\\")) {
        pending += line.slice(0, -1).trim() + " ";
        continue;
      }
      const cmd = (pending + line.trim()).trim();
      pending = "";
      if (cmd) out.push(cmd);
    }
  }
  return out;
}

const commands = readmeCommands(readFileSync(join(ROOT, "README.md"), "utf8"));

test("the README's commands contain no placeholders", () => {
  assert.ok(commands.length >= 20, `${commands.length} commands`);
  for (const c of commands) {
    assert.ok(!c.includes("..."), `"${c}" has a "..." placeholder`);
    assert.ok(!/\/path\/to\b/.test(c), `"${c}" has a /path/to placeholder`);
  }
  for (const [prefix] of SKIPPED) assert.ok(commands.some((c) => c.startsWith(prefix)), `skip list entry "${prefix}" matches no command`);
  for (const prefix of HEAVY) assert.ok(commands.some((c) => c.startsWith(prefix)), `heavy list entry "${prefix}" matches no command`);
});

test("the README's commands run as written, in order, each exiting 0", { timeout: 15 * 60_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "curvlab-readme-"));
  try {
    symlinkSync(join(ROOT, "bin"), join(dir, "bin"));
    for (const cmd of commands) {
      if (SKIPPED.some(([p]) => cmd.startsWith(p))) continue;
      if (!heavy && HEAVY.some((p) => cmd.startsWith(p))) continue;
      const t0 = performance.now();
      const r = spawnSync("bash", ["-c", cmd], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, NODE_OPTIONS: "" },
        timeout: 5 * 60_000,
        maxBuffer: 64 << 20,
      });
      assert.equal(r.status, 0, `${cmd}\nexit ${r.status}\n${r.stderr}`);
      t.diagnostic(`${((performance.now() - t0) / 1000).toFixed(1)} s: ${cmd}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
