#!/usr/bin/env node
// The `curvlab` command. The TypeScript sources run through tsx (no build step). The Wasm thread
// count must be known before the engine loads, so `--threads N` is read here first.
import { register } from "tsx/esm/api";

const i = process.argv.indexOf("--threads");
if (i > 0 && process.argv[i + 1] !== undefined) process.env.CURVLAB_THREADS = process.argv[i + 1];
register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
