// Wasm, float64 and float32, against the exact oracle (cpu device, float64). Wasm's
// transcendentals (exp, log, tanh, erf) are float32-precise even on float64 arrays, so float64 on
// Wasm is bounded by their rounding, not by float64 epsilon. Measured worst relative errors over
// the six model x loss cases and all operators (2026-11): float64 4.5e-8, float32 4.2e-7
// (a CNN with MSE is piecewise polynomial, no transcendentals: 2e-16 in float64). Bounds: ~5x.
import { startEngine } from "../../src/engine/start.ts";
import { checkOperatorsAgainstAutodiff } from "./operators-shared.ts";

await startEngine({ device: "wasm" });
checkOperatorsAgainstAutodiff("float64", 2e-7, "wasm float64");
checkOperatorsAgainstAutodiff("float32", 2e-6, "wasm float32");
