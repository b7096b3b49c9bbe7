/**
 * `runHessianStudy`: runs the requested parts of the Hessian study in order and assembles the
 * report. Each finished part is stored in the journal (key "part-<id>") and every trained model
 * too, so an interrupted study resumes where it stopped: finished parts are read back, trained
 * models are not retrained, and only the part that was running is redone.
 */
import { runJournaledParts, studyReport, type StudyRunOptions } from "../study.ts";
import type { Report } from "../../report/html.ts";
import type { StudyContext } from "./context.ts";
import { toSection, type PartResult, type StudyPart } from "./part.ts";
import { partA } from "./part-a-spectrum.ts";
import { partB } from "./part-b-width.ts";
import { partC } from "./part-c-data.ts";
import { partD } from "./part-d-decomposition.ts";
import { partE } from "./part-e-batch.ts";
import { partF } from "./part-f-mnist.ts";
import { PART_IDS, type HessianStudySettings, type PartId } from "./settings.ts";

export const PARTS: Readonly<Record<PartId, StudyPart<any>>> = { a: partA, b: partB, c: partC, d: partD, e: partE, f: partF };

/** The study options, with the parts named by their letters. */
export interface HessianStudyOptions extends Omit<StudyRunOptions, "parts"> {
  readonly parts?: readonly PartId[];
}

export interface HessianStudyResult {
  readonly report: Report;
  readonly results: readonly PartResult[];
  /** Parts found finished in the journal. */
  readonly resumed: readonly PartId[];
}

export async function runHessianStudy(settings: HessianStudySettings, opts: HessianStudyOptions): Promise<HessianStudyResult> {
  const parts = opts.parts ?? PART_IDS;
  const ctx: StudyContext = { settings, journal: opts.journal, log: opts.log ?? (() => {}), progress: opts.progress };
  const { results, resumed } = await runJournaledParts(parts, opts, (id) => PARTS[id].run(ctx));
  const seconds = results.reduce((s, r) => s + r.seconds, 0);
  const report = studyReport(
    "The Hessian of over-parametrized networks",
    "A reproduction of Sagun, Evci, Güney, Dauphin & Bottou (2017), \"Empirical Analysis of the Hessian of Over-Parametrized Neural Networks\", " +
      `with curvlab (${settings.preset} preset).`,
    results.map((r) => toSection(PARTS[r.id], r)),
    settings,
    opts.engine,
    seconds,
  );
  return { report, results, resumed };
}
