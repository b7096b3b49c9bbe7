#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner (Node 20 does not glob .ts files itself).
// Heavier checks are marked `{ skip: !heavy }` and run with CURVLAB_HEAVY=1 (see bench/).
// Two files at a time: each file is its own process, and much of a file's time is start-up,
// child CLI processes and single-threaded dispatch, so two overlap well on 2 cores (the suite
// took 7 min 20 s instead of 12 min 55 s). Memory checks measure their own process's engine, and
// no test asserts a tight wall time.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? find(p) : p.endsWith(".test.ts") ? [p] : [];
  });
}
const filter = process.argv.slice(2);
const files = find("test").filter((f) => filter.length === 0 || filter.some((s) => f.includes(s))).sort();
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...files], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
