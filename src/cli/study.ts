/**
 * `curvlab study <name>`: a study (src/studies/<name>) from one command, with a report
 * (report.html, figures/*.png|svg, results.json) in --out. The output folder is also the
 * study's journal: running the same command again resumes an interrupted study (finished parts
 * and trained models are read back), and --parts runs parts alone into the same folder.
 */
import { join } from "node:path";
import { InputError } from "../errors.ts";
import type { StudyDefinition } from "../studies/study.ts";
import { parseArgs, formatHelp, type OptionSpecs } from "./args.ts";
import { openRunDirectory } from "./run-directory.ts";

/** The studies, loaded on demand. */
const STUDIES: Record<string, () => Promise<StudyDefinition<any>>> = {
  hessian: async () => (await import("../studies/hessian/definition.ts")).hessianStudy,
  coherence: async () => (await import("../studies/coherence/definition.ts")).coherenceStudy,
  "intrinsic-dim": async () => (await import("../studies/intrinsic-dim/definition.ts")).intrinsicDimStudy,
  sharpness: async () => (await import("../studies/sharpness/definition.ts")).sharpnessStudy,
  "batch-size": async () => (await import("../studies/batch-size/definition.ts")).batchSizeStudy,
};

function options(study: StudyDefinition<any>): OptionSpecs {
  return {
    quick: { type: "boolean", help: "small settings, minutes on 2 cores (the default of npm start for the hessian study)" },
    full: { type: "boolean", help: "the study at the paper's sizes (the default)" },
    parts: study.partIds.length > 1
      ? { type: "string", meta: "a,b,...", help: `parts to run: ${study.partIds.join(",")} or all (default: all)` }
      : { type: "string", meta: "all", help: "this study has one part (all)" },
    out: { type: "string", path: "out", meta: "DIR", help: `report and journal folder (default: runs/${study.name}-study-quick or -full); re-running resumes` },
    seed: { type: "int", bounds: { min: 0 }, meta: "INT", help: "seed of data, initializations and probes (default: 0)" },
    json: { type: "boolean", help: "print the verdicts as JSON on stdout" },
    quiet: { type: "boolean", help: "no progress on stderr" },
    ...(study.options ?? {}),
  };
}

/** "all" or a comma list of the study's part ids, in the study's order. */
export function parseStudyParts(study: StudyDefinition<any>, value: string): string[] {
  const ids = study.partIds;
  if (value === "all") return [...ids];
  const wanted = value.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0);
  if (wanted.length === 0) throw new InputError("--parts", `expected parts among ${ids.join(",")}, got "${value}"`);
  for (const p of wanted) {
    if (!ids.includes(p)) throw new InputError("--parts", `unknown part "${p}"; expected parts among ${ids.join(",")} or "all"`);
  }
  return ids.filter((p) => wanted.includes(p));
}

function mainHelp(): string {
  return [
    "usage: curvlab study <name> [--quick|--full] [--parts ...] [--out DIR] [--seed INT]",
    "                            [--json] [--quiet] [the study's own options]",
    "",
    `studies: ${Object.keys(STUDIES).join(", ")}`,
    "Run `curvlab study <name> --help` for what a study does and its options.",
    "",
  ].join("\n");
}

export async function studyCommand(argv: readonly string[]): Promise<number> {
  const [which, ...rest] = argv;
  if (which === undefined || which === "--help" || which === "-h") {
    process.stdout.write(mainHelp());
    return which === undefined ? 2 : 0;
  }
  const load = STUDIES[which];
  if (!load) throw new InputError(which, `unknown study; expected one of ${Object.keys(STUDIES).join(", ")}`);
  const study = await load();
  const name = `study ${study.name}`;
  const OPTIONS = options(study);
  const opts = parseArgs(rest, OPTIONS, name);
  if (opts.help) {
    process.stdout.write(formatHelp(name, study.summary, OPTIONS, study.examples));
    return 0;
  }
  if (opts.quick && opts.full) throw new InputError("--quick", "give --quick or --full, not both");
  const preset = opts.quick ? "quick" : "full";
  const seed = (opts.seed as number | undefined) ?? 0;
  if (seed < 0) throw new InputError("--seed", `expected an integer >= 0, got ${seed}`);
  const own: Record<string, string | number> = {};
  for (const name of Object.keys(study.options ?? {})) {
    const v = opts[name];
    if (v !== undefined && typeof v !== "boolean") own[name] = v;
  }
  const base = { ...study.presets[preset], seed };
  const settings = study.configure && Object.keys(own).length > 0 ? study.configure(base, own) : base;
  const parts = parseStudyParts(study, (opts.parts as string | undefined) ?? "all");
  const dir = (opts.out as string | undefined) ?? join("runs", `${study.name}-study-${preset}`);
  const { journal, resumed } = openRunDirectory(dir, { study: study.name, settings }, `--out ${dir}`);
  const quiet = !!opts.quiet;
  const log = (m: string) => {
    if (!quiet) process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);
  };
  if (resumed) log(`resuming the study in ${dir}`);

  const { startEngine, engineInfo } = await import("../engine/start.ts");
  await startEngine({ device: "wasm" });
  const { writeReport } = await import("../report/html.ts");
  const { progress } = await import("./progress.ts");
  const bar = (label: string) => {
    const p = progress(`  ${label}`, { quiet });
    return (done: number, total: number) => {
      p.update(done, total);
      if (done >= total) p.done();
    };
  };
  const r = await study.run(settings, { parts, journal, log, progress: bar, engine: engineInfo() });
  log(`rendering the report (${r.report.sections.reduce((s, x) => s + x.figures.length, 0)} figures)`);
  const written = await writeReport(dir, r.report);
  const verdicts = r.report.sections.flatMap((s) => s.verdicts.map((v) => ({ part: s.id, ...v })));
  if (opts.json) {
    process.stdout.write(JSON.stringify({ command: name, preset, dir, seconds: r.report.seconds, verdicts }) + "\n");
  } else {
    for (const v of verdicts) {
      const mark = v.holds === true ? "holds" : v.holds === false ? "does not hold" : "inconclusive";
      process.stdout.write(`${v.part}  ${mark.padEnd(14)} ${v.claim}\n    ${v.text}\n`);
    }
    process.stdout.write(`report: ${join(dir, "report.html")} (${written.figures.length} figures)\n`);
  }
  return 0;
}
