/** The Hessian study as `curvlab study hessian` runs it (src/studies/study.ts). */
import type { StudyDefinition } from "../study.ts";
import { runHessianStudy } from "./run.ts";
import { PART_IDS, PRESETS, STUDY_ACTIVATIONS, parseParts, withOverrides, type HessianStudySettings } from "./settings.ts";
import { LOSSES } from "../../nn/loss.ts";

export const hessianStudy: StudyDefinition<HessianStudySettings> = {
  name: "hessian",
  summary:
    "Reproduce the empirical analysis of the Hessian of over-parametrized networks (Sagun et al. 2017): bulk and outliers, width and data sweeps, H = G + R, small vs large batch, MNIST.",
  partIds: PART_IDS,
  presets: PRESETS,
  examples: [
    "curvlab study hessian --quick",
    "curvlab study hessian --parts a,d --out runs/h",
    "curvlab study hessian --quick --parts a,b,c --k 4 --activation relu --depth 2 --out runs/h-relu",
  ],
  options: {
    k: { type: "int", meta: "K", help: "clusters of the base mixture (default 5; total points kept)" },
    hidden: { type: "int", meta: "W", help: "hidden width of the base model (default 32)" },
    widths: { type: "string", meta: "W,W,...", help: "part b's hidden widths (default quick 8,16,32,80; full 8,16,24,32,48,64,80)" },
    clusters: { type: "string", meta: "K,K,...", help: "part c's cluster counts (default quick 3,5,10; full 2..10)" },
    depth: { type: "int", meta: "L", help: "hidden layers of the mixture MLPs (default 1)" },
    activation: { type: "string", choices: STUDY_ACTIVATIONS, help: "hidden activation (default tanh)" },
    loss: { type: "string", choices: LOSSES, help: "training loss, also the loss measured (default mse: outliers in groups of k; cross-entropy: of k - 1)" },
  },
  configure: (settings, values) => withOverrides(settings, values as Parameters<typeof withOverrides>[1]),
  run: (settings, opts) => runHessianStudy(settings, { ...opts, parts: opts.parts ? parseParts(opts.parts.join(",")) : undefined }),
};
