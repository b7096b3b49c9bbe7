// Bad input, table-driven: every command x option kind x file kind. Each case must exit with code
// 2, print one stderr line naming the input, nothing on stdout, and create no file or folder. The
// cases fail before the engine starts, so they call main(argv) in-process (a process per case
// would cost 1-2 s each); a few spawn the real bin for exit codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { lockRunDirectory } from "../../src/cli/run-directory.ts";
import { runCli } from "./run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "curvlab-table-"));
const afile = join(dir, "a-file.txt");
writeFileSync(afile, "not a folder\n");
const afolder = join(dir, "a-folder");
mkdirSync(afolder);
const fifo = join(dir, "a-fifo");
execFileSync("mkfifo", [fifo]);

async function capture(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

const M = "mlp:4-5-3:tanh";
const D = "gmm:k=3,d=4,n=10,sep=3,seed=0";
const BASE: Record<string, string[]> = {
  spectrum: ["--model", M, "--data", D, "--top", "1"],
  density: ["--model", M, "--data", D],
  trace: ["--model", M, "--data", D],
  diag: ["--model", M, "--data", D],
  hessian: ["--model", M, "--data", D, "--dense"],
  sharpness: ["--model", M, "--data", D],
  landscape: ["--model", M, "--data", D],
  train: ["--model", M, "--data", D],
  align: ["--model", M, "--data", D, "--data2", D],
};

/** [option, bad value, what the message must mention] */
const NUMERIC: readonly (readonly [string, string])[] = [
  ["threads", "0"], ["threads", "-1"], ["threads", "two"], ["seed", "-1"], ["seed", "1.5"],
  ["batch-size", "0"], ["batch-size", "-5"], ["probes", "-1"], ["probes", "0"], ["steps", "0"],
  ["grid", "1"], ["matvecs", "0"], ["top", "0"], ["bottom", "-1"], ["tol", "0"], ["tol", "-1"],
  ["sigma", "0"], ["momentum", "1"], ["test-fraction", "1"], ["lr", "0"], ["epochs", "0"],
  ["points", "0"], ["dims", "3"], ["memory-limit", "0"], ["memory-limit", "-2"], ["max-steps", "0"],
  ["epsilon", "-1"], ["rho", "0"], ["every", "0"], ["eval-every", "-3"],
  ["device", "tpu"], ["dtype", "float16"], ["operator", "bogus"], ["loss", "hinge"],
];

const help = new Map<string, string>();
async function has(command: string, option: string): Promise<boolean> {
  if (!help.has(command)) help.set(command, (await capture([command, "--help"])).stdout);
  return new RegExp(`--${option}\\b`).test(help.get(command)!);
}

interface Case {
  readonly name: string;
  readonly argv: string[];
  readonly mention: readonly string[];
}

async function cases(): Promise<Case[]> {
  const all: Case[] = [];
  for (const [cmd, base] of Object.entries(BASE)) {
    for (const [opt, value] of NUMERIC) {
      if (!(await has(cmd, opt))) continue;
      all.push({ name: `${cmd} --${opt} ${value}`, argv: [cmd, ...base, `--${opt}`, value], mention: [`--${opt}`, value] });
    }
    all.push({ name: `${cmd} unknown option`, argv: [cmd, ...base, "--frobnicate", "1"], mention: ["--frobnicate"] });
    all.push({ name: `${cmd} missing value`, argv: [cmd, ...base, "--seed"], mention: ["--seed"] });
    if (await has(cmd, "weights")) {
      all.push({ name: `${cmd} --weights /dev/zero`, argv: [cmd, ...base, "--weights", "/dev/zero"], mention: ["/dev/zero", "device"] });
      all.push({ name: `${cmd} --weights FIFO`, argv: [cmd, ...base, "--weights", fifo], mention: [fifo, "FIFO"] });
      all.push({ name: `${cmd} --weights missing`, argv: [cmd, ...base, "--weights", join(dir, "none.safetensors")], mention: ["none.safetensors", "not found"] });
      all.push({ name: `${cmd} --weights folder without model`, argv: [cmd, ...base, "--weights", afolder], mention: [afolder, "model.safetensors"] });
    }
    if (await has(cmd, "out")) {
      all.push({ name: `${cmd} --out a file`, argv: [cmd, ...base, "--out", afile], mention: [afile, "not a folder"] });
      all.push({ name: `${cmd} --out under a file`, argv: [cmd, ...base, "--out", join(afile, "sub")], mention: [join(afile, "sub"), "not a folder"] });
      all.push({ name: `${cmd} --out under /dev/null`, argv: [cmd, ...base, "--out", "/dev/null/x"], mention: ["/dev/null/x"] });
      // Node's recursive mkdirSync never returns on a folder under /proc; refused up front by file system.
      if (existsSync("/proc/self")) all.push({ name: `${cmd} --out under /proc`, argv: [cmd, ...base, "--out", "/proc/curvlab-x"], mention: ["/proc/curvlab-x", "procfs"] });
    }
    if (await has(cmd, "resume")) {
      all.push({ name: `${cmd} --resume a file`, argv: [cmd, ...base, "--resume", afile], mention: [afile, "not a folder"] });
      if (existsSync("/proc/self")) all.push({ name: `${cmd} --resume under /proc`, argv: [cmd, ...base, "--resume", "/proc/curvlab-x"], mention: ["/proc/curvlab-x", "procfs"] });
      all.push({ name: `${cmd} bad option before --resume`, argv: [cmd, ...base, "--seed", "-1", "--resume", join(dir, "never-made")], mention: ["--seed"] });
    }
    if (await has(cmd, "onnx")) {
      all.push({ name: `${cmd} --onnx a folder`, argv: [cmd, "--data", D, "--onnx", afolder], mention: [afolder, "folder"] });
      all.push({ name: `${cmd} --onnx /dev/zero`, argv: [cmd, "--data", D, "--onnx", "/dev/zero"], mention: ["/dev/zero"] });
    }
    all.push({ name: `${cmd} absurd model`, argv: [cmd, ...base.map((a) => (a === M ? "mlp:20-1000000000-5" : a === D ? "gmm:k=3,d=20,n=10" : a))], mention: ["mlp:20-1000000000-5", "memory"] });
    all.push({ name: `${cmd} absurd data`, argv: [cmd, ...base.map((a) => (a === D ? "gmm:k=3,d=4,n=2000000000" : a))], mention: ["n=2000000000", "memory"] });
    all.push({ name: `${cmd} unknown model`, argv: [cmd, ...base.map((a) => (a === M ? "transformer:tiny" : a))], mention: ["transformer:tiny"] });
    all.push({ name: `${cmd} unknown data`, argv: [cmd, ...base.map((a) => (a === D ? "imagenet:n=5" : a))], mention: ["imagenet"] });
  }
  all.push({ name: "spectrum --top K = size", argv: ["spectrum", "--model", M, "--data", D, "--top", "43"], mention: ["--top", "43", "1..42"] });
  all.push({ name: "spectrum --bottom beyond size", argv: ["spectrum", "--model", M, "--data", D, "--bottom", "500"], mention: ["--bottom", "500"] });
  all.push({ name: "unknown command", argv: ["spectral-magic"], mention: ["spectral-magic"] });
  return all;
}

test("bad inputs: exit 2, one line naming the input, nothing created", async () => {
  const list = await cases();
  assert.ok(list.length >= 150, `at least 150 cases, got ${list.length}`);
  const before = readdirSync(dir).sort().join(",");
  const cwdBefore = readdirSync(process.cwd()).sort().join(",");
  for (const c of list) {
    const out = join(dir, "out-never");
    const argv = c.argv.includes("--out") || c.argv.includes("--resume") || !(await has(c.argv[0]!, "out")) ? c.argv : [...c.argv, "--out", out];
    const r = await capture(argv);
    assert.equal(r.code, 2, `${c.name}: exit 2 expected, got ${r.code}; stderr: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `${c.name}: one stderr line expected, got ${r.stderr}`);
    assert.match(lines[0]!, /^curvlab: /, c.name);
    for (const m of c.mention) assert.ok(lines[0]!.includes(m), `${c.name}: "${m}" expected in: ${lines[0]}`);
    assert.equal(r.stdout, "", `${c.name}: nothing on stdout`);
    assert.equal(existsSync(out), false, `${c.name}: nothing written`);
    assert.equal(readdirSync(dir).sort().join(","), before, `${c.name}: no file or folder created`);
  }
  assert.equal(readdirSync(process.cwd()).sort().join(","), cwdBefore, "nothing created in the working folder");
});

test("run-folder lock: a live holder refuses, a dead one's lock is taken over", () => {
  const run = join(dir, "locked");
  mkdirSync(run);
  writeFileSync(join(run, "lock"), `${process.ppid}\n`); // a live process other than this one
  assert.throws(() => lockRunDirectory(run, "--resume locked"), /--resume locked: is in use by another curvlab run \(pid \d+/);
  writeFileSync(join(run, "lock"), "999999999\n"); // no such process
  const release = lockRunDirectory(run, "--resume locked");
  assert.equal(existsSync(join(run, "lock")), true);
  release();
  assert.equal(existsSync(join(run, "lock")), false);
});

test("the bin: exit code 2 for a device as weights, and for a bad option before --resume nothing is created", () => {
  const r = runCli(["spectrum", "--model", M, "--data", D, "--top", "1", "--weights", "/dev/zero"], { timeoutMs: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^curvlab: \/dev\/zero: is a character device/);
  const resume = join(dir, "resume-never");
  const d = runCli(["density", "--model", M, "--data", D, "--probes", "-1", "--resume", resume], { timeoutMs: 60_000 });
  assert.equal(d.status, 2, d.stderr);
  assert.match(d.stderr, /--probes: expected an integer >= 1, got -1/);
  assert.equal(existsSync(resume), false);
});
