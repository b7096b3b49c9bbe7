#!/usr/bin/env node
// The `curvlab` command. In a source checkout (src/ beside bin/: the repository, `npm start`, the
// tests) it runs the TypeScript sources through tsx, so they are always current and need no build.
// In the installed package (the tarball ships dist/ and no src/) it runs the compiled dist/ with
// plain Node, and tsx is not needed. The Wasm thread count must be known before the engine loads,
// so `--threads N` is read here first.
import { existsSync } from "node:fs";

const i = process.argv.indexOf("--threads");
if (i > 0 && process.argv[i + 1] !== undefined) process.env.CURVLAB_THREADS = process.argv[i + 1];

const sources = new URL("../src/cli/main.ts", import.meta.url);
let main;
if (existsSync(sources)) {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import("../dist/cli/main.js"));
}
process.exitCode = await main(process.argv.slice(2));
