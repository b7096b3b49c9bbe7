/**
 * `curvlab study hessian`: the Hessian study (src/studies/hessian) from one command, with a
 * report (report.html, figures/*.png|svg, results.json) in --out. The output folder is also
 * the study's journal: running the same command again resumes an interrupted study (finished
 * parts and trained models are read back), and --parts runs parts alone into the same folder.
 */
import { join } from "node:path";
import { InputError } from "../errors.ts";
import { parseArgs, formatHelp, type OptionSpecs } from "./args.ts";
import { openRunDirectory } from "./run-directory.ts";

const OPTIONS: OptionSpecs = {
  quick: { type: "boolean", help: "small settings: every part in about 3 minutes on 2 cores (the default of npm start)" },
  full: { type: "boolean", help: "the study at the paper's sizes (the default)" },
  parts: { type: "string", meta: "a,b,...", help: "parts to run: letters among a,b,c,d,e,f or all (default: all)" },
  out: { type: "string", meta: "DIR", help: "report and journal folder (default: runs/hessian-study-quick or -full); re-running resumes" },
  seed: { type: "int", meta: "INT", help: "seed of data, initializations and probes (default: 0)" },
  json: { type: "boolean", help: "print the verdicts as JSON on stdout" },
  quiet: { type: "boolean", help: "no progress on stderr" },
};

const SUMMARY =
  "Reproduce the empirical analysis of the Hessian of over-parametrized networks (Sagun et al. 2017): bulk and outliers, width and data sweeps, H = G + R, small vs large batch, MNIST.";

export async function studyCommand(argv: readonly string[]): Promise<number> {
  const [which, ...rest] = argv;
  if (which === undefined || which === "--help" || which === "-h") {
    process.stdout.write(formatHelp("study hessian", SUMMARY, OPTIONS, ["curvlab study hessian --quick", "curvlab study hessian --parts a,d --out runs/h"]));
    return which === undefined ? 2 : 0;
  }
  if (which !== "hessian") throw new InputError(which, "unknown study; expected: hessian");
  const opts = parseArgs(rest, OPTIONS, "study hessian");
  if (opts.help) {
    process.stdout.write(formatHelp("study hessian", SUMMARY, OPTIONS, ["curvlab study hessian --quick", "curvlab study hessian --parts a,d --out runs/h"]));
    return 0;
  }
  if (opts.quick && opts.full) throw new InputError("--quick", "give --quick or --full, not both");
  const { PRESETS, parseParts } = await import("../studies/hessian/settings.ts");
  const preset = opts.quick ? "quick" : "full";
  const seed = (opts.seed as number | undefined) ?? 0;
  if (seed < 0) throw new InputError("--seed", `expected an integer >= 0, got ${seed}`);
  const settings = { ...PRESETS[preset], seed };
  const parts = parseParts((opts.parts as string | undefined) ?? "all");
  const dir = (opts.out as string | undefined) ?? join("runs", `hessian-study-${preset}`);
  const { journal, resumed } = openRunDirectory(dir, { study: "hessian", settings }, `--out ${dir}`);
  const quiet = !!opts.quiet;
  const log = (m: string) => {
    if (!quiet) process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);
  };
  if (resumed) log(`resuming the study in ${dir}`);

  const { startEngine, engineInfo } = await import("../engine/start.ts");
  await startEngine({ device: ((opts.device as string | undefined) ?? "wasm") as "wasm" });
  const { runHessianStudy } = await import("../studies/hessian/run.ts");
  const { writeReport } = await import("../report/html.ts");
  const { progress } = await import("./progress.ts");
  const bar = (label: string) => {
    const p = progress(`  ${label}`, { quiet });
    return (done: number, total: number) => {
      p.update(done, total);
      if (done >= total) p.done();
    };
  };
  const r = await runHessianStudy(settings, { parts, journal, log, progress: bar, engine: engineInfo() });
  log(`rendering the report (${r.report.sections.reduce((s, x) => s + x.figures.length, 0)} figures)`);
  const written = await writeReport(dir, r.report);
  const verdicts = r.report.sections.flatMap((s) => s.verdicts.map((v) => ({ part: s.id, ...v })));
  if (opts.json) {
    process.stdout.write(JSON.stringify({ command: "study hessian", preset, dir, seconds: r.report.seconds, verdicts }) + "\n");
  } else {
    for (const v of verdicts) {
      const mark = v.holds === true ? "holds" : v.holds === false ? "does not hold" : "inconclusive";
      process.stdout.write(`${v.part}  ${mark.padEnd(14)} ${v.claim}\n    ${v.text}\n`);
    }
    process.stdout.write(`report: ${join(dir, "report.html")} (${written.figures.length} figures)\n`);
  }
  return 0;
}
