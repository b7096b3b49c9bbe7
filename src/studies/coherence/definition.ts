/**
 * The coherence study as `curvlab study coherence` runs it (src/studies/study.ts): gradient
 * coherence (Chatterjee 2020; Chatterjee & Zielinski 2022) over training with real vs random
 * labels, on a Gaussian mixture and an MNIST subset.
 */
import type { StudyDefinition } from "../study.ts";
import { runCoherenceStudy } from "./run.ts";
import { PART_IDS, PRESETS, checkParts, type CoherenceStudySettings } from "./settings.ts";

export const coherenceStudy: StudyDefinition<CoherenceStudySettings> = {
  name: "coherence",
  summary:
    "Coherent gradients (Chatterjee 2020): gradient coherence alpha/alpha_perp over training with real vs random labels, on a Gaussian mixture and MNIST.",
  partIds: PART_IDS,
  presets: PRESETS,
  examples: ["curvlab study coherence --quick", "curvlab study coherence --parts gmm --out runs/coh"],
  // async: a bad --parts value rejects the promise, as every other failure does.
  run: async (settings, opts) =>
    runCoherenceStudy(settings, {
      journal: opts.journal,
      log: opts.log,
      progress: opts.progress,
      engine: opts.engine,
      parts: opts.parts ? checkParts(opts.parts) : undefined,
    }),
};
