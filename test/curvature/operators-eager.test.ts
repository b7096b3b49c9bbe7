// The eager replay of linearized products (what large problems use; problem.ts,
// replaysThroughJit), forced on the small models of the operator tests, against the exact oracle
// with the wasm float64 bound of operators-wasm.test.ts (which runs the jitted replay).
import { startEngine } from "../../src/engine/start.ts";
import { checkOperatorsAgainstAutodiff } from "./operators-shared.ts";

process.env.CURVLAB_JIT_REPLAY = "never";
await startEngine({ device: "wasm" });
checkOperatorsAgainstAutodiff("float64", 2e-7, "wasm float64, eager replay");
