/**
 * The package as a user installs it: `npm pack` (which builds dist/ first, through prepack), the
 * tarball unpacked into a fresh project's node_modules/curvlab with the production dependencies
 * linked from this repository's node_modules (what `npm install curvlab` would put there, with
 * no network and no tsx), then, from that project:
 * - the README's library example, as written, from a plain .mjs file under Node (no tsx), gives
 *   the eigenvalues that the sources give in this process;
 * - the installed bin: `curvlab --version`, `--help`, and a dense Hessian equal to the sources';
 * - a TypeScript consumer type-checks against the installed .d.ts (module NodeNext), and calls
 *   that break the types are errors (so the types are real, not `any`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { startEngine, parseModel, loadData, makeProblem, curvatureOperator, exactSpectrum } from "../../src/index.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

/** Children run without this process's loaders (tsx) or NODE_OPTIONS: plain Node, as a user has. */
const env = { ...process.env, NODE_OPTIONS: "", npm_config_update_notifier: "false", CURVLAB_THREADS: "1" };

function run(cmd: string, args: readonly string[], cwd: string, timeout = 300_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: exit ${r.status}\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** The README's library example: the first ```ts or ```js block of the section "## The library". */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n## The library"));
  const block = /```(?:ts|js|javascript|typescript)\n([\s\S]*?)```/.exec(section);
  assert.ok(block, "README has a code block under '## The library'");
  return block[1];
}

/** Relative difference of two spectra, scaled by the largest |eigenvalue|. */
function spectrumDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let scale = 0, diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / scale;
}

async function sourceSpectrum(model: string, data: string): Promise<readonly number[]> {
  const m = parseModel(model);
  const problem = makeProblem(m, loadData(data), m.init(0), { dtype: "float64" });
  return (await exactSpectrum(curvatureOperator(problem, { operator: "hessian" }))).eigenvalues;
}

const CONSUMER_TS = `
import { startEngine, parseModel, loadData, makeProblem, curvatureOperator, exactSpectrum, InputError } from "curvlab";
import type { LinearOperator, Model, ExactSpectrum } from "curvlab";

await startEngine({ device: "wasm" });
const model: Model = parseModel("mlp:4-3-2:tanh");
const problem = makeProblem(model, loadData("gmm:k=2,d=4,n=20"), model.init(0), { dtype: "float64" });
const H: LinearOperator = curvatureOperator(problem, { operator: "ggn" });
const spectrum: ExactSpectrum = await exactSpectrum(H);
const top: number = spectrum.eigenvalues[spectrum.eigenvalues.length - 1];
const size: number = H.size;
console.log(top, size, new InputError("x", "y").message);

// Each call below is a type error; had the declarations not resolved (types silently any), the
// directives would be unused, and unused ones are errors.
// @ts-expect-error: the operator names are a closed union
curvatureOperator(problem, { operator: "not-an-operator" });
// @ts-expect-error: a device name
await startEngine({ device: "tpu" });
// @ts-expect-error: a spec is a string
parseModel(42);
// @ts-expect-error: eigenvalues are numbers
const wrong: string = spectrum.eigenvalues[0];
`;

test("the packed tarball installs and works without tsx: README example, bin, types", { timeout: 600_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), "curvlab-package-"));
  try {
    // 1. Pack (prepack builds dist/) and check what the tarball holds.
    const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", tmp], ROOT).stdout)[0];
    const files: string[] = packed.files.map((f: { path: string }) => f.path);
    for (const f of ["package.json", "README.md", "bin/curvlab.mjs", "dist/index.js", "dist/index.d.ts", "dist/cli/main.js"]) {
      assert.ok(files.includes(f), `tarball has ${f}`);
    }
    const stray = files.filter((f) => /^(src|test|bench|web|scripts|\.ci|\.github)\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts")));
    assert.deepEqual(stray, [], "no sources, tests, benches, CI or web files in the tarball");
    assert.ok(!("tsx" in (pkg.dependencies ?? {})), "tsx is not a run-time dependency");

    // 2. A fresh project: the tarball as node_modules/curvlab, the production dependencies (not
    // dev: no tsx, no typescript) linked from this checkout, and the bin where npm puts it.
    const project = join(tmp, "project");
    const nm = join(project, "node_modules");
    mkdirSync(join(nm, "curvlab"), { recursive: true });
    run("tar", ["-xzf", join(tmp, packed.filename), "-C", join(nm, "curvlab"), "--strip-components=1"], tmp);
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
    for (const [path, meta] of Object.entries(lock.packages as Record<string, { dev?: boolean }>)) {
      const name = path.replace(/^node_modules\//, "");
      if (!path.startsWith("node_modules/") || name.includes("node_modules/") || meta.dev) continue;
      if (!existsSync(join(ROOT, "node_modules", name))) continue; // optional builds for other platforms
      mkdirSync(dirname(join(nm, name)), { recursive: true });
      symlinkSync(join(ROOT, "node_modules", name), join(nm, name), "junction");
    }
    assert.ok(!existsSync(join(nm, "tsx")) && !existsSync(join(nm, "curvlab", "src")));
    // For the TypeScript consumer only: Node's types, as a TypeScript user has them.
    mkdirSync(join(nm, "@types"), { recursive: true });
    if (!existsSync(join(nm, "@types", "node"))) symlinkSync(join(ROOT, "node_modules", "@types", "node"), join(nm, "@types", "node"), "junction");
    mkdirSync(join(nm, ".bin"));
    symlinkSync("../curvlab/bin/curvlab.mjs", join(nm, ".bin", "curvlab"));
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));

    // 3. The README's library example, as written, plus one line that prints what it computed.
    writeFileSync(join(project, "example.mjs"), readmeExample() + "\nconsole.log(JSON.stringify(Array.from(eigenvalues)));\n");
    const example = run(process.execPath, ["example.mjs"], project);
    const fromDist: number[] = JSON.parse(example.stdout.trim().split("\n").at(-1)!);
    await startEngine({ device: "wasm" });
    const fromSrc = await sourceSpectrum("mlp:20-32-5:tanh", "gmm:k=5");
    assert.equal(fromDist.length, 837);
    assert.ok(spectrumDiff(fromDist, fromSrc) <= 1e-10, `README example (dist) vs sources: ${spectrumDiff(fromDist, fromSrc)}`);

    // 4. The installed bin, run by plain Node from outside the repository.
    const bin = join(nm, ".bin", "curvlab");
    assert.equal(run(process.execPath, [bin, "--version"], project).stdout, `curvlab ${pkg.version}\n`);
    assert.match(run(process.execPath, [bin, "--help"], project).stdout, /^usage: curvlab <command>/);
    const model = "mlp:4-3-2:tanh", data = "gmm:k=2,d=4,n=20,sep=3,seed=0";
    const h = JSON.parse(run(process.execPath, [bin, "hessian", "--model", model, "--data", data, "--dense", "--json", "--quiet"], project).stdout);
    assert.equal(h.size, 23);
    const tiny = await sourceSpectrum(model, data);
    assert.ok(spectrumDiff(h.eigenvalues, tiny) <= 1e-10, `bin (dist) vs sources: ${spectrumDiff(h.eigenvalues, tiny)}`);

    // 5. A TypeScript consumer against the installed declarations (skipLibCheck, as users set it:
    // the engine's own .d.ts needs WebGPU types).
    writeFileSync(join(project, "consumer.ts"), CONSUMER_TS);
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: ["node"] },
      files: ["consumer.ts"],
    }));
    run(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], project);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
