/**
 * Runs the benchmarks and writes BENCHMARKS.md at the repository root.
 *
 *   npm run bench [-- --only hvp,eigh] [--quick] [--out FILE]
 *   npm run bench -- --only conv --update      (re-run some, keep the rest of BENCHMARKS.md)
 *
 * A benchmark is any bench/<name>.ts that exports `run` (see lib/contract.ts); each runs in its
 * own Node process per variant (lib/harness.ts). The file gets the machine (CPU, cores, memory,
 * Node, jax-js, peers' versions), the date, the command and each benchmark's tables. Only a full
 * run (every benchmark, not --quick) that succeeds writes BENCHMARKS.md by default; otherwise, or
 * when a benchmark fails, the Markdown goes to stdout unless --out names a file. With `--only NAMES
 * --update`, the sections of those benchmarks in the existing BENCHMARKS.md (or --out FILE) are
 * replaced (found by their `<!-- bench: NAME -->` marker, else by their title; a new one is
 * appended), the other sections and the machine table are kept, and the machine table gains a
 * line saying which sections were re-run, when and with what command.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../src/data/files.ts";
import type { BenchResult } from "./lib/contract.ts";
import { runBenchFile } from "./lib/harness.ts";
import { machineInfo } from "./lib/machine.ts";
import { renderResult } from "./lib/markdown.ts";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
const ROOT = join(BENCH_DIR, "..");
/** `export async function run(`, `export function run(`, `export const run =`. */
const EXPORTS_RUN = /^export\s+(?:async\s+function\s*\*?\s*run\s*\(|function\s+run\s*\(|const\s+run\s*[:=])/m;

interface Args {
  only: string[] | null;
  quick: boolean;
  out: string | null;
  update: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { only: null, quick: false, out: null, update: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") args.quick = true;
    else if (a === "--update") args.update = true;
    else if (a === "--only" || a === "--out") {
      const value = argv[++i];
      if (!value) throw new Error(`${a}: missing value`);
      if (a === "--only") args.only = value.split(",").map((s) => s.trim().replace(/\.ts$/, ""));
      else args.out = value;
    } else throw new Error(`unknown option ${a} (expected --only NAMES, --quick, --out FILE, --update)`);
  }
  if (args.update && !args.only) throw new Error("--update needs --only NAMES (the benchmarks to re-run)");
  return args;
}

/** bench/*.ts files that export `run`, and those that do not (skipped). */
function discover(dir = BENCH_DIR): { modules: string[]; skipped: string[] } {
  const modules: string[] = [];
  const skipped: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith(".ts") || name.endsWith(".d.ts") || name === "run.ts") continue;
    const file = join(dir, name);
    (EXPORTS_RUN.test(readFileSync(file, "utf8")) ? modules : skipped).push(file);
  }
  return { modules, skipped };
}

function command(argv: string[]): string {
  const rest = argv.length ? ` ${argv.join(" ")}` : "";
  return process.env.npm_lifecycle_event === "bench" ? `npm run bench${rest ? ` --${rest}` : ""}` : `node --import tsx bench/run.ts${rest}`;
}

function machineSection(results: readonly BenchResult[], date: Date, cmd: string, seconds: number, load: [number, number]): string {
  const m = machineInfo();
  const peers: Record<string, string> = {};
  for (const r of results) Object.assign(peers, r.peers ?? {});
  const rows: [string, string][] = [
    ["CPU", m.cpu],
    ["Cores", String(m.cores)],
    ["Memory", `${m.memoryGiB} GiB`],
    ["OS", m.os],
    ["Node", m.node],
    ["@jax-js/jax", m.jaxjs],
    ...Object.entries(peers),
    ["Date", date.toISOString().replace(/\.\d+Z$/, "Z")],
    ["Command", `\`${cmd}\``],
    ["Wall time", `${Math.round(seconds)} s`],
    // Other work on the machine slows both sides; above about the core count, expect noise.
    ["Load average (1 min), start / end", `${load[0].toFixed(2)} / ${load[1].toFixed(2)}`],
  ];
  return ["## Machine", "", "| | |", "| --- | --- |", ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, "\\|")} |`)].join("\n");
}

/** A benchmark's section: its marker (so that --update finds it again), then its Markdown. */
function section(name: string, r: BenchResult): string {
  return `<!-- bench: ${name} -->\n${renderResult(r)}`;
}

interface Section {
  readonly lines: string[];
}

/**
 * Splits a BENCHMARKS.md into its head (title, machine table) and its sections, each starting at
 * its `<!-- bench: NAME -->` marker or, without one, at its `## ` heading.
 */
function splitSections(text: string): { head: string[]; sections: Section[] } {
  const lines = text.split("\n");
  const head: string[] = [];
  const sections: Section[] = [];
  let pastMachine = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const marker = line.startsWith("<!-- bench: ");
    const heading = line.startsWith("## ") && !(i > 0 && lines[i - 1]!.startsWith("<!-- bench: "));
    if (heading && line === "## Machine") pastMachine = true;
    else if (pastMachine && (marker || heading)) sections.push({ lines: [] });
    (sections.length ? sections[sections.length - 1]!.lines : head).push(line);
  }
  return { head, sections };
}

function sectionName(s: Section): string | null {
  const m = /^<!-- bench: (\S+) -->$/.exec(s.lines[0] ?? "");
  return m ? m[1]! : null;
}
function sectionTitle(s: Section): string | null {
  const h = s.lines.find((l) => l.startsWith("## "));
  return h ? h.slice(3).trim() : null;
}

/** The existing document with the re-run benchmarks' sections replaced (or appended). */
function updateDocument(old: string, results: readonly { name: string; result: BenchResult }[], note: string): string {
  const { head, sections } = splitSections(old);
  // Trailing lines written after the last section (skipped modules, failures) stay at the end.
  const tail: string[] = [];
  const last = sections[sections.length - 1];
  if (last) {
    const k = last.lines.findIndex((l) => l.startsWith("Not run (no `run` export)") || l === "## Failures");
    if (k >= 0) tail.push(...last.lines.splice(k));
  }
  for (const { name, result } of results) {
    const fresh: Section = { lines: [...section(name, result).split("\n")] };
    const at = sections.findIndex((s) => sectionName(s) === name || (sectionName(s) === null && sectionTitle(s) === result.title));
    if (at >= 0) sections[at] = fresh;
    else sections.push(fresh);
  }
  // The note goes in the machine table, after its last row, replacing an earlier one for the same benchmarks.
  const prefix = `| Re-run (--update) | ${results.map((r) => r.name).join(", ")} at `;
  for (let i = head.length - 1; i >= 0; i--) if (head[i]!.startsWith(prefix)) head.splice(i, 1);
  const m = head.indexOf("## Machine");
  let lastRow = -1;
  for (let i = m + 1; i < head.length; i++) if (head[i]!.startsWith("|")) lastRow = i;
  if (m >= 0 && lastRow >= 0) head.splice(lastRow + 1, 0, `| Re-run (--update) | ${note.replace(/\|/g, "\\|")} |`);
  return [...head, ...sections.flatMap((s) => s.lines), ...tail].join("\n");
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv);
  const { modules: all, skipped } = discover();
  const modules = args.only ? all.filter((f) => args.only!.includes(basename(f, ".ts"))) : all;
  if (args.only) {
    const missing = args.only.filter((n) => !all.some((f) => basename(f, ".ts") === n));
    if (missing.length) throw new Error(`--only: no benchmark named ${missing.join(", ")} (have: ${all.map((f) => basename(f, ".ts")).join(", ")})`);
  }
  for (const f of skipped) process.stderr.write(`skipping bench/${basename(f)}: it does not export run()\n`);
  const date = new Date();
  const loadBefore = loadavg()[0]!;
  const t0 = performance.now();
  const results: BenchResult[] = [];
  const names: string[] = [];
  const failures: string[] = [];
  for (const file of modules) {
    process.stderr.write(`== bench/${basename(file)}\n`);
    try {
      results.push(await runBenchFile(file, { quick: args.quick }));
      names.push(basename(file, ".ts"));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      failures.push(`bench/${basename(file)}: ${msg}`);
      process.stderr.write(`FAILED ${msg}\n`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const doc = [
    "# Benchmarks",
    "",
    "Written by `bench/run.ts` (`npm run bench`); re-run it to update, do not edit by hand. Timings are " +
      "medians of runs interleaved with the peer's in the same process run, on a machine that may be shared: " +
      "compare ratios, not absolute times, across machines.",
    "",
    machineSection(results, date, command(argv), seconds, [loadBefore, loadavg()[0]!]),
    "",
    ...(args.quick ? ["**Quick run (--quick): smoke-test figures, too few repetitions to quote.**", ""] : []),
    ...results.map((r, i) => section(names[i]!, r)),
    ...(skipped.length ? [`Not run (no \`run\` export): ${skipped.map((f) => `bench/${basename(f)}`).join(", ")}.`, ""] : []),
    ...(failures.length ? ["## Failures", "", ...failures.map((f) => `- ${f}`), ""] : []),
  ].join("\n");
  if (args.update) {
    const target = args.out ?? join(ROOT, "BENCHMARKS.md");
    if (failures.length) {
      process.stdout.write(doc + "\n");
      process.stderr.write(`not updating ${target}: a benchmark failed\n`);
      process.exitCode = 1;
      return;
    }
    if (!existsSync(target)) throw new Error(`--update: ${target} does not exist (run the full benchmark first)`);
    const when = date.toISOString().replace(/\.\d+Z$/, "Z");
    const note =
      `${names.join(", ")} at ${when} (\`${command(argv)}\`, ${Math.round(seconds)} s, load ${loadBefore.toFixed(2)} / ` +
      `${loadavg()[0]!.toFixed(2)}${args.quick ? ", quick" : ""}); the other sections are from the date above`;
    writeFileAtomic(target, [new TextEncoder().encode(updateDocument(readFileSync(target, "utf8"), names.map((name, i) => ({ name, result: results[i]! })), note))]);
    process.stderr.write(`updated ${target} (${names.join(", ")})\n`);
    return;
  }
  const complete = !args.only && !args.quick && failures.length === 0;
  const out = args.out ?? (complete ? join(ROOT, "BENCHMARKS.md") : null);
  if (out && failures.length === 0) {
    writeFileAtomic(out, [new TextEncoder().encode(doc)]);
    process.stderr.write(`wrote ${out}\n`);
  } else process.stdout.write(doc + "\n");
  if (failures.length) process.exitCode = 1;
}

await main();
