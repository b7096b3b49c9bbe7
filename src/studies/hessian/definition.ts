/** The Hessian study as `curvlab study hessian` runs it (src/studies/study.ts). */
import type { StudyDefinition } from "../study.ts";
import { runHessianStudy } from "./run.ts";
import { PART_IDS, PRESETS, parseParts, type HessianStudySettings } from "./settings.ts";

export const hessianStudy: StudyDefinition<HessianStudySettings> = {
  name: "hessian",
  summary:
    "Reproduce the empirical analysis of the Hessian of over-parametrized networks (Sagun et al. 2017): bulk and outliers, width and data sweeps, H = G + R, small vs large batch, MNIST.",
  partIds: PART_IDS,
  presets: PRESETS,
  examples: ["curvlab study hessian --quick", "curvlab study hessian --parts a,d --out runs/h"],
  run: (settings, opts) => runHessianStudy(settings, { ...opts, parts: opts.parts ? parseParts(opts.parts.join(",")) : undefined }),
};
