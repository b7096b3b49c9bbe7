/**
 * curvlab's public API. Start the engine first (`await startEngine()`), then compose:
 * data + model -> problem -> curvature operator -> algorithm -> result.
 */
export { InputError } from "./errors.ts";
export { startEngine, engineInfo, engineMemoryBytes, type DeviceName, type EngineInfo } from "./engine/start.ts";
export { hostRng, type HostRng } from "./engine/host-rng.ts";
export type { DTypeName } from "./engine/dtype.ts";
export { makeLayout, layoutSize, blockRange, flattenParams, unflattenParams, type ParamLayout, type ParamSpec } from "./tree/layout.ts";
export { dot, norm, axpy, scale, fromHost, zeros, gaussianDirection, rademacherDirection } from "./tree/vector.ts";
export { parseModel } from "./nn/spec.ts";
export type { Model } from "./nn/model.ts";
export { LOSSES, type LossName } from "./nn/loss.ts";
export { loadData, parseDataSpec } from "./data/spec.ts";
export type { Dataset } from "./data/dataset.ts";
export { gaussianMixture } from "./data/gmm.ts";
export { loadMnist } from "./data/mnist.ts";
export { readNpy, writeNpy } from "./data/npy.ts";
export { readSafetensors, writeSafetensors } from "./data/safetensors.ts";
export { trainTestSplit } from "./data/split.ts";
export { makeProblem, evaluate, gradient, type LossProblem } from "./curvature/problem.ts";
export { makeOperator, type LinearOperator } from "./curvature/operator.ts";
export { curvatureOperator, OPERATORS, type OperatorName, type CurvatureOptions } from "./curvature/make.ts";
export { hessianOperator, type HvpMethod } from "./curvature/hessian.ts";
export { ggnOperator } from "./curvature/ggn.ts";
export { empiricalFisherOperator, gradientCovarianceOperator } from "./curvature/gradient-covariance.ts";
export { residualOperator } from "./curvature/residual.ts";
export { restrictOperator } from "./curvature/block.ts";
export { materialize } from "./curvature/dense.ts";
export { eigh, eigvalsh, type EighResult } from "./linalg/eigh.ts";
export { exactSpectrum, type ExactSpectrum } from "./linalg/exact-spectrum.ts";
export { eigenvalueHistogram, lineChart } from "./report/figures.ts";
export { toSvg, toPng, writeFigure } from "./report/render.ts";
export { lanczosEigs, type LanczosResult, type LanczosOptions } from "./linalg/lanczos.ts";
export { powerIteration, type PowerIterationResult } from "./linalg/power-iteration.ts";
export type { Eigenpairs, Which } from "./linalg/eigenpairs.ts";
export { spectralDensity, type SpectralDensity } from "./linalg/slq.ts";
export { hutchinsonTrace, hutchinsonDiagonal, type TraceEstimate, type DiagonalEstimate } from "./linalg/hutchinson.ts";
export { hutchppTrace } from "./linalg/hutchpp.ts";
export { xtrace, xdiag } from "./linalg/xtrace.ts";
export { exactDiagonal } from "./linalg/exact-diagonal.ts";
export { memoryJournal, type Journal } from "./linalg/journal.ts";
export { train, type TrainConfig, type TrainResult } from "./train/train.ts";
export { makeOptimizer, parseOptimizer, type OptimizerConfig } from "./train/optimizers.ts";
export { saveCheckpoint, loadCheckpoint, loadWeights } from "./train/checkpoint.ts";
