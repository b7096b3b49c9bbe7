/**
 * Running benchmark modules (see contract.ts): each variant of a module in a fresh Node process
 * (child.ts), results merged into one; and `runIfMain`, which lets a module run alone and print
 * its result as Markdown:  node --import tsx bench/<name>.ts [--quick]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchResult, BenchVariant } from "./contract.ts";
import { mergeResults, renderResult } from "./markdown.ts";

const CHILD = fileURLToPath(new URL("./child.ts", import.meta.url));

function runChild(file: string, out: string, which: string, quick: boolean, env: Record<string, string>): Promise<void> {
  const args = ["--import", "tsx", CHILD, file, out, which, ...(quick ? ["--quick"] : [])];
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, ...env } });
    p.on("error", rej);
    p.on("exit", (code, signal) =>
      code === 0 ? res() : rej(new Error(`${file} (${which}) failed: ${signal ?? `exit code ${code}`}`)),
    );
  });
}

/** Runs every variant of the module `file` (or one run if it has none) and merges the results. */
export async function runBenchFile(file: string, opts: { quick?: boolean } = {}): Promise<BenchResult> {
  const quick = !!opts.quick;
  const dir = mkdtempSync(join(tmpdir(), "curvlab-bench-"));
  try {
    const describe = join(dir, "describe.json");
    await runChild(file, describe, "describe", quick, {});
    const { variants } = JSON.parse(readFileSync(describe, "utf8")) as { variants: BenchVariant[] };
    const results: BenchResult[] = [];
    const runs = variants.length ? variants.map((v, i) => ({ which: String(i), env: v.env })) : [{ which: "none", env: {} }];
    for (const r of runs) {
      const out = join(dir, `result-${r.which}.json`);
      await runChild(file, out, r.which, quick, { ...r.env });
      results.push((JSON.parse(readFileSync(out, "utf8")) as { result: BenchResult }).result);
    }
    return mergeResults(results);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Call at the top level of a benchmark module with its `import.meta.url`: when that file is the
 * program (not imported), runs it through runBenchFile and prints Markdown to stdout.
 */
export function runIfMain(moduleUrl: string): void {
  const self = fileURLToPath(moduleUrl);
  if (!process.argv[1] || resolve(process.argv[1]) !== self) return;
  const quick = process.argv.includes("--quick");
  runBenchFile(self, { quick }).then(
    (r) => process.stdout.write(renderResult(r) + "\n"),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
