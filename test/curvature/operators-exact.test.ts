// The exact path: jax-js's cpu device in float64 (exact arithmetic and transcendentals).
import { startEngine } from "../../src/engine/start.ts";
import { checkOperatorsAgainstAutodiff } from "./operators-shared.ts";

await startEngine({ device: "cpu" });
checkOperatorsAgainstAutodiff("float64", 1e-10, "exact path");
