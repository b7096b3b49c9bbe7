/**
 * `runSharpnessStudy`: the parts of the sharpness study (settings.ts) in order, each finished part
 * kept in the journal ("part-<id>") and read back on a re-run; inside a part, every trained run is
 * journaled too (eos.ts, batch.ts), so an interrupted part trains nothing twice. Figures and
 * sections are rebuilt from the stored numbers.
 */
import type { Report, ReportSection } from "../../report/html.ts";
import { runJournaledParts, studyReport, type StudyRunOptions } from "../study.ts";
import { runEos, eosSection, type EosPartResult } from "./eos.ts";
import { runBatch, batchSection, type BatchPartResult } from "./batch.ts";
import { PART_IDS, type PartId, type SharpnessStudySettings } from "./settings.ts";

export type SharpnessPartResult = EosPartResult | BatchPartResult;

export interface SharpnessStudyOptions extends Omit<StudyRunOptions, "parts"> {
  readonly parts?: readonly PartId[];
}

export interface SharpnessStudyResult {
  readonly report: Report;
  readonly results: readonly SharpnessPartResult[];
  /** Parts read back from the journal. */
  readonly resumed: readonly PartId[];
  /** Training runs done now (0 on a full resume). */
  readonly trained: number;
}

function sectionOf(r: SharpnessPartResult): ReportSection {
  return r.id === "eos" ? eosSection(r) : batchSection(r);
}

export async function runSharpnessStudy(settings: SharpnessStudySettings, opts: SharpnessStudyOptions): Promise<SharpnessStudyResult> {
  let trained = 0;
  const { results, resumed } = await runJournaledParts(opts.parts ?? PART_IDS, opts, async (id): Promise<SharpnessPartResult> => {
    const r = id === "eos" ? await runEos(settings, opts) : await runBatch(settings, opts);
    trained += r.trained;
    return r;
  });
  const report = studyReport(
    "Sharpness: the edge of stability and large-batch minima",
    'Cohen, Kaur, Li, Kolter & Talwalkar (2021), "Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability", and ' +
      'Keskar, Mudigere, Nocedal, Smelyanskiy & Tang (2017), "On Large-Batch Training for Deep Learning: Generalization Gap and Sharp Minima"; ' +
      `curvlab (${settings.preset} preset).`,
    results.map(sectionOf),
    settings,
    opts.engine,
    results.reduce((s, r) => s + r.seconds, 0),
  );
  return { report, results, resumed, trained };
}
