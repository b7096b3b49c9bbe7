// The JSON Schemas in schemas/ (scripts/make-schemas.mjs, from the exported result types):
// (a) the committed files are exactly what the script generates from the types now;
// (b) the real outputs of every command (files in --out / --resume, and stdout with --json), run
//     through the CLI on a tiny model, validate against their schema, with Ajv in strict mode and
//     closed objects (no property the type does not name); the CSV tables beside them parse back
//     to exactly the JSON values;
// (c) a mutated output (a string where a number belongs, a missing required key, an extra key,
//     a value outside an enum) fails, so the check can fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import { makeSchemas, schemaPath, schemaText, SCHEMAS, SCHEMA_BASE, SCHEMA_DIR } from "../../scripts/make-schemas.mjs";
import { parseCsvRows } from "../../src/data/csv.ts";
import { runCli } from "../cli/run-cli.ts";

const TINY = ["--model", "mlp:4-6-3:tanh", "--data", "gmm:k=3,d=4,n=10,sep=2,seed=1"];
const dir = mkdtempSync(join(tmpdir(), "curvlab-schemas-"));
const at = (...p: string[]) => join(dir, ...p);

// Strict Ajv: unknown keywords, ambiguous types and ignored tuple items are schema errors.
const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
for (const [name] of SCHEMAS) ajv.addSchema(JSON.parse(readFileSync(schemaPath(name), "utf8")));

function validator(name: string): ValidateFunction {
  const v = ajv.getSchema(`${SCHEMA_BASE}${name}.schema.json`);
  assert.ok(v, `no schema ${name}`);
  return v;
}

/** Asserts that `value` validates against schema `name`; `what` names it in the message. */
function assertValid(name: string, value: unknown, what: string): void {
  const v = validator(name);
  assert.ok(v(value), `${what} does not validate against ${name}.schema.json: ${ajv.errorsText(v.errors, { separator: "\n  " })}`);
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** Runs the CLI, expects exit 0, returns the parsed --json stdout. */
function cli(args: readonly string[]): any {
  const r = runCli([...args, "--json", "--quiet"]);
  assert.equal(r.status, 0, `curvlab ${args.join(" ")}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The CSV as header + columns of raw cells. */
function readCsv(path: string): { header: string[]; rows: string[][] } {
  const text = readFileSync(path, "utf8");
  assert.ok(text.endsWith("\r\n") && !/[^\r]\n/.test(text), `${path}: expected CRLF line ends (RFC 4180)`);
  const [head, ...rows] = parseCsvRows(text, path).map((r) => r.cells);
  for (const r of rows) assert.equal(r.length, head.length, `${path}: ragged row`);
  return { header: head, rows };
}

/** Numbers of a CSV column, compared exactly (Object.is) with the JSON values. */
function assertColumn(csv: { header: string[]; rows: string[][] }, column: string, expected: readonly (number | boolean)[], what: string): void {
  const j = csv.header.indexOf(column);
  assert.ok(j >= 0, `${what}: no column ${column} in ${csv.header.join(",")}`);
  assert.equal(csv.rows.length, expected.length, `${what}: rows`);
  csv.rows.forEach((r, i) => {
    const cell = r[j];
    const got = typeof expected[i] === "boolean" ? cell === "true" : Number(cell);
    assert.ok(Object.is(got, expected[i]), `${what} ${column}[${i}]: CSV ${cell} vs JSON ${expected[i]}`);
  });
}

test("(a) the committed schemas are what scripts/make-schemas.mjs generates from the types now", () => {
  const t0 = performance.now();
  const fresh = makeSchemas();
  for (const [name, schema] of Object.entries(fresh)) {
    assert.ok(existsSync(schemaPath(name)), `schemas/${name}.schema.json is missing: run node scripts/make-schemas.mjs`);
    assert.equal(readFileSync(schemaPath(name), "utf8"), schemaText(schema), `schemas/${name}.schema.json differs from its type: run node scripts/make-schemas.mjs`);
  }
  const files = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith(".schema.json")).sort();
  assert.deepEqual(files, Object.keys(fresh).map((n) => `${n}.schema.json`).sort(), "schemas/ holds exactly the table's schemas");
  for (const [name] of SCHEMAS) {
    const s = readJson(schemaPath(name)) as Record<string, unknown>;
    assert.equal(s.$id, `${SCHEMA_BASE}${name}.schema.json`);
    assert.ok(typeof s.title === "string" && typeof s.description === "string" && (s.description as string).length > 10, `${name}: title and description`);
  }
  process.stderr.write(`make-schemas: generated in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
});

test("(b) hessian, spectrum, density, trace, diag: outputs validate; CSVs parse back to the JSON values", () => {
  const common = [...TINY, "--dtype", "float64"];

  const h = cli(["hessian", ...common, "--dense", "--out", at("hessian")]);
  assertValid("hessian", h, "hessian --json");
  const hFile = readJson(at("hessian", "hessian.json")) as any;
  assertValid("hessian", hFile, "hessian.json");
  const hCsv = readCsv(at("hessian", "eigenvalues.csv"));
  assert.deepEqual(hCsv.header, ["index", "eigenvalue"]);
  assertColumn(hCsv, "index", hFile.eigenvalues.map((_: number, i: number) => i), "hessian eigenvalues.csv");
  assertColumn(hCsv, "eigenvalue", hFile.eigenvalues, "hessian eigenvalues.csv");

  const s = cli(["spectrum", ...common, "--top", "3", "--out", at("spectrum")]);
  assertValid("spectrum", s, "spectrum --json (lanczos)");
  const sFile = readJson(at("spectrum", "spectrum.json")) as any;
  assertValid("spectrum", sFile, "spectrum.json (lanczos)");
  const sCsv = readCsv(at("spectrum", "eigenvalues.csv"));
  assert.deepEqual(sCsv.header, ["index", "eigenvalue", "residual", "converged"]);
  assertColumn(sCsv, "eigenvalue", sFile.eigenvalues, "spectrum eigenvalues.csv");
  assertColumn(sCsv, "residual", sFile.residuals, "spectrum eigenvalues.csv");
  assertColumn(sCsv, "converged", sFile.converged, "spectrum eigenvalues.csv");

  // Power iteration in a run directory: run.json and spectrum.json go there.
  const p = cli(["spectrum", ...common, "--magnitude", "2", "--method", "power", "--resume", at("power")]);
  assertValid("spectrum", p, "spectrum --json (power)");
  assertValid("spectrum", readJson(at("power", "spectrum.json")), "spectrum.json (power)");
  assertValid("run", readJson(at("power", "run.json")), "run.json (spectrum --resume)");

  const d = cli(["density", ...common, "--probes", "2", "--steps", "8", "--grid", "40", "--log", "--resume", at("density")]);
  assertValid("density", d, "density --json");
  const dFile = readJson(at("density", "density.json")) as any;
  assertValid("density", dFile, "density.json");
  assertValid("run", readJson(at("density", "run.json")), "run.json (density --resume)");
  const dCsv = readCsv(at("density", "density.csv"));
  assert.deepEqual(dCsv.header, ["x", "density"]);
  assertColumn(dCsv, "x", dFile.density.density.x, "density.csv");
  assertColumn(dCsv, "density", dFile.density.density.y, "density.csv");
  const nodes = readCsv(at("density", "nodes.csv"));
  assert.deepEqual(nodes.header, ["probe", "node", "weight"]);
  const q = dFile.density.quadrature as { nodes: number[]; weights: number[] }[];
  assertColumn(nodes, "probe", q.flatMap((r, j) => r.nodes.map(() => j)), "nodes.csv");
  assertColumn(nodes, "node", q.flatMap((r) => r.nodes), "nodes.csv");
  assertColumn(nodes, "weight", q.flatMap((r) => r.weights), "nodes.csv");
  const logCsv = readCsv(at("density", "density-log.csv"));
  assertColumn(logCsv, "positive", dFile.density.logDensity.positive, "density-log.csv");

  assertValid("trace", cli(["trace", ...common, "--method", "all", "--matvecs", "12"]), "trace --json");
  cli(["trace", ...common, "--method", "hutchinson", "--matvecs", "6", "--resume", at("trace")]);
  assertValid("trace", readJson(at("trace", "trace.json")), "trace.json");
  assertValid("run", readJson(at("trace", "run.json")), "run.json (trace --resume)");

  assertValid("diag", cli(["diag", ...common, "--method", "exact", "--block", "0"]), "diag --json (exact, block)");
  cli(["diag", ...common, "--method", "xdiag", "--matvecs", "12", "--resume", at("diag")]);
  assertValid("diag", readJson(at("diag", "diag.json")), "diag.json (xdiag)");
  assertValid("run", readJson(at("diag", "run.json")), "run.json (diag --resume)");
});

test("(b) train (--track), checkpoint, sharpness, align, landscape, interpolate: outputs validate", () => {
  const trainArgs = [...TINY, "--batch-size", "4", "--optimizer", "sgd", "--lr", "0.2"];
  const start = cli(["train", ...trainArgs, "--steps", "3", "--test-fraction", "0", "--out", at("t0")]);
  assertValid("train", start, "train --json (no test split)");
  const t = cli(["train", ...trainArgs, "--steps", "12", "--track", "lmax,trace,density", "--every", "6", "--out", at("t1")]);
  assertValid("train", t, "train --json");
  for (const run of ["t0", "t1"]) {
    assertValid("train", readJson(at(run, "train.json")), `${run}/train.json`);
    assertValid("checkpoint", readJson(at(run, "checkpoint.json")), `${run}/checkpoint.json`);
  }
  const tracking = readJson(at("t1", "tracking.json")) as any;
  assert.ok(tracking.records.length >= 2, "tracking records");
  assertValid("tracking", tracking, "tracking.json");

  const sh = cli(["sharpness", ...TINY, "--weights", at("t1"), "--probes", "4", "--lr", "0.2", "--out", at("sharp")]);
  assertValid("sharpness", sh, "sharpness --json");
  assertValid("sharpness", readJson(at("sharp", "sharpness.json")), "sharpness.json");
  const al = cli(["align", ...TINY, "--data2", TINY[3], "--weights", at("t1"), "--shift", "0.5", "--probes", "4", "--out", at("align")]);
  assertValid("align", al, "align --json");
  assertValid("align", readJson(at("align", "alignment.json")), "alignment.json");

  const small = ["--points", "3", "--quiet"];
  const l1 = cli(["landscape", ...TINY, "--weights", at("t1"), "--dims", "1", ...small, "--out", at("slice")]);
  assertValid("landscape", l1, "landscape --json (random, 1-D)");
  assertValid("landscape", readJson(at("slice", "slice.json")), "slice.json");
  assertValid("landscape", cli(["landscape", ...TINY, "--weights", at("t1"), "--directions", "eigen", ...small]), "landscape --json (eigen, 2-D)");
  assertValid("landscape", cli(["landscape", ...TINY, "--directions", "pca", "--checkpoints", `${at("t0")},${at("t1")}`, "--dims", "1", ...small]), "landscape --json (pca)");

  const path = cli(["interpolate", "--from", at("t0"), "--to", at("t1"), "--match", "--points", "4", "--out", at("path")]);
  assertValid("interpolate", path, "interpolate --json");
  assertValid("interpolate", readJson(at("path", "path.json")), "path.json");
});

test("(b) study results.json and run.json validate (hessian study, quick preset, part a)", () => {
  const r = runCli(["study", "hessian", "--quick", "--parts", "a", "--out", at("study"), "--quiet"]);
  assert.equal(r.status, 0, r.stderr);
  assertValid("study-results", readJson(at("study", "results.json")), "study results.json");
  assertValid("run", readJson(at("study", "run.json")), "study run.json");
});

test("(c) mutated outputs fail validation", () => {
  const h = readJson(at("hessian", "hessian.json")) as any;
  const t = readJson(at("t1", "train.json")) as any;
  const s = readJson(at("spectrum", "spectrum.json")) as any;
  const cases: [string, string, unknown][] = [
    ["hessian", "a string where a number belongs", { ...h, size: String(h.size) }],
    ["hessian", "a string inside the eigenvalues", { ...h, eigenvalues: [...h.eigenvalues.slice(1), "1.0"] }],
    ["hessian", "a missing required key", (({ summary: _s, ...rest }) => rest)(h)],
    ["hessian", "an extra key", { ...h, extra: 1 }],
    ["hessian", "a value outside an enum", { ...h, operator: "laplacian" }],
    ["hessian", "null where a number belongs (NaN written as JSON)", { ...h, asymmetry: null }],
    ["train", "a missing nested key", { ...t, final: (({ trainLoss: _l, ...rest }) => rest)(t.final) }],
    ["train", "a wrong command", { ...t, command: "hessian" }],
    ["spectrum", "a boolean array holding a number", { ...s, converged: s.converged.map(() => 1) }],
  ];
  for (const [name, what, value] of cases) {
    assert.equal(validator(name)(value), false, `${name} with ${what} should not validate`);
  }
  // The unmutated ones do (so the failures above are the mutations').
  assertValid("hessian", h, "hessian.json");
  assertValid("train", t, "train.json");
  assertValid("spectrum", s, "spectrum.json");
});
