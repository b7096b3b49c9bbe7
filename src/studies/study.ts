/**
 * What `curvlab study <name>` runs: a study is a named, resumable computation from settings (two
 * presets, quick and full) to a report. The CLI (src/cli/study.ts) owns the output folder, the
 * journal, progress and printing; a study owns its settings, its parts and its verdicts.
 */
import type { Journal } from "../linalg/journal.ts";
import type { Report, ReportSection } from "../report/html.ts";
import { optionError } from "../errors.ts";

export type StudyPreset = "quick" | "full";

/** Rounds for reports: n significant digits (numbers stay numbers in JSON). */
export function sig(x: number, n = 4): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(n)) : x;
}

export interface StudyRunOptions {
  /** Part ids to run, in order (default: all of the study's parts). */
  readonly parts?: readonly string[];
  /** Where finished work is kept; a re-run reads it back (resume). */
  readonly journal: Journal;
  /** One progress line (the CLI prints it on stderr). */
  readonly log?: (message: string) => void;
  /** A progress callback per long step: (done, total). */
  readonly progress?: (label: string) => (done: number, total: number) => void;
  /** Engine description for the report. */
  readonly engine?: unknown;
}

/** One study-specific option (`curvlab study <name> --NAME VALUE`); the CLI parses and checks its type. */
export interface StudyOptionSpec {
  readonly type: "string" | "int" | "number";
  readonly help: string;
  readonly meta?: string;
  readonly choices?: readonly string[];
}

export interface StudyDefinition<S extends { readonly seed: number } = { readonly seed: number }> {
  /** The CLI name: `curvlab study <name>`. */
  readonly name: string;
  /** One line for `curvlab study --help`. */
  readonly summary: string;
  /** The study's parts, in order (a study without parts has one, "all"). */
  readonly partIds: readonly string[];
  readonly presets: Readonly<Record<StudyPreset, S>>;
  /** Usage examples for the help text. */
  readonly examples: readonly string[];
  /** Options of this study beyond the common ones, by name. */
  readonly options?: Readonly<Record<string, StudyOptionSpec>>;
  /** The settings with the given option values applied (errors name the option). */
  configure?(settings: S, values: Readonly<Record<string, string | number>>): S;
  run(settings: S, opts: StudyRunOptions): Promise<{ readonly report: Report }>;
}

/**
 * Runs a study's parts in order, each kept in the journal under "part-<id>": a part found there
 * is read back (a re-run resumes), the others are run and stored as soon as they finish.
 */
export async function runJournaledParts<Id extends string, R extends { readonly seconds: number }>(
  ids: readonly Id[],
  opts: Pick<StudyRunOptions, "journal" | "log">,
  run: (id: Id) => Promise<R>,
): Promise<{ results: R[]; resumed: Id[] }> {
  const results: R[] = [];
  const resumed: Id[] = [];
  for (const id of ids) {
    const key = `part-${id}`;
    let r = (await opts.journal.get(key)) as R | undefined;
    if (r) {
      resumed.push(id);
      opts.log?.(`part ${id}: done earlier (${r.seconds.toFixed(1)} s), read from the journal`);
    } else {
      opts.log?.(`part ${id}: starting`);
      r = await run(id);
      await opts.journal.put(key, r);
      opts.log?.(`part ${id}: done in ${r.seconds.toFixed(1)} s`);
    }
    results.push(r);
  }
  return { results, resumed };
}

/** A study's report, finished now: its sections, settings, engine and total time. */
export function studyReport(
  title: string, subtitle: string, sections: readonly ReportSection[], settings: unknown, engine: unknown, seconds: number,
): Report {
  return { title, subtitle, sections, settings, engine, createdAt: new Date().toISOString(), seconds };
}

/** The given part ids, checked against the study's and put in its order (InputError naming --parts). */
export function checkPartIds<Id extends string>(ids: readonly Id[], parts: readonly string[]): Id[] {
  for (const p of parts) {
    if (!(ids as readonly string[]).includes(p)) throw optionError("parts", `unknown part "${p}"; expected parts among ${ids.join(",")}`);
  }
  return ids.filter((p) => parts.includes(p));
}
