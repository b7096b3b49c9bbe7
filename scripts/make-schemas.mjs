#!/usr/bin/env node
// Generates schemas/<name>.schema.json, one JSON Schema (draft-07) per result file curvlab writes,
// from the exported TypeScript types (ts-json-schema-generator, Vega's generator: closed objects,
// doc comments as descriptions). The types are the single source: edit a type, run
//   node scripts/make-schemas.mjs
// and commit the schemas; test/schemas/schemas.test.ts fails while they differ from what this
// script generates, and validates real command outputs against them.
//
// To add a result: one row in SCHEMAS (name, file, exported type, what writes it).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { createFormatter, createParser, SchemaGenerator } from "ts-json-schema-generator";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const SCHEMA_DIR = join(ROOT, "schemas");
export const SCHEMA_BASE = "https://curvlab.dev/schemas/";

/** name -> [source file, exported type, the files and outputs it describes]. */
export const SCHEMAS = [
  ["hessian", "src/cli/hessian.ts", "HessianResult", "curvlab hessian --dense: hessian.json and --json"],
  ["spectrum", "src/cli/spectrum.ts", "SpectrumResult", "curvlab spectrum: spectrum.json and --json"],
  ["density", "src/cli/density.ts", "DensityResult", "curvlab density: density.json and --json"],
  ["trace", "src/cli/trace.ts", "TraceResult", "curvlab trace: trace.json and --json"],
  ["diag", "src/cli/diag.ts", "DiagResult", "curvlab diag: diag.json and --json"],
  ["train", "src/cli/train.ts", "TrainCommandResult", "curvlab train: train.json and --json"],
  ["checkpoint", "src/cli/train.ts", "TrainCheckpointMeta", "curvlab train --out DIR: checkpoint.json"],
  ["tracking", "src/landscape/tracking.ts", "TrackingResult", "curvlab train --track: tracking.json"],
  ["sharpness", "src/cli/sharpness.ts", "SharpnessCommandResult", "curvlab sharpness: sharpness.json and --json"],
  ["align", "src/cli/align.ts", "AlignCommandResult", "curvlab align: alignment.json and --json"],
  ["landscape", "src/cli/landscape.ts", "LandscapeResult", "curvlab landscape: slice.json and --json"],
  ["interpolate", "src/cli/interpolate.ts", "InterpolateOutput", "curvlab interpolate: path.json and --json"],
  ["study-results", "src/report/html.ts", "ReportResults", "curvlab study NAME: results.json"],
  ["run", "src/cli/run-file.ts", "RunFile", "run.json of a run directory (--resume DIR, a study's --out DIR)"],
];

const CONFIG = {
  tsconfig: join(ROOT, "tsconfig.json"),
  expose: "export",
  topRef: false,
  jsDoc: "extended",
  sortProps: true,
  strictTuples: true,
  skipTypeCheck: true,
  encodeRefs: true,
  additionalProperties: false,
  functions: "fail",
  discriminatorType: "json-schema",
  extraTags: [],
  minify: false,
  markdownDescription: false,
};

/** The exported declaration `name` in `file` (type alias or interface). */
function findDeclaration(program, file, name) {
  const source = program.getSourceFile(join(ROOT, file));
  if (!source) throw new Error(`make-schemas: ${file} is not in the program`);
  const node = source.statements.find(
    (s) => (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && s.name.text === name &&
      s.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword),
  );
  if (!node) throw new Error(`make-schemas: no exported type ${name} in ${file}`);
  return node;
}

/** Every schema, by name, as the objects this script writes (one TypeScript program for all). */
export function makeSchemas(rows = SCHEMAS) {
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(CONFIG.tsconfig, ts.sys.readFile).config, ts.sys, ROOT);
  const program = ts.createProgram([...new Set(rows.map(([, file]) => join(ROOT, file)))], { ...parsed.options, noEmit: true });
  const generator = new SchemaGenerator(program, createParser(program, CONFIG), createFormatter(CONFIG), CONFIG);
  const out = {};
  for (const [name, file, type, writtenBy] of rows) {
    const { $schema, description, definitions, ...body } = generator.createSchemaFromNodes([findDeclaration(program, file, type)]);
    out[name] = {
      $schema,
      $id: `${SCHEMA_BASE}${name}.schema.json`,
      title: `${type} (${writtenBy})`,
      description: description ?? `${type} from ${file}.`,
      $comment: `Generated from ${type} in ${file} by scripts/make-schemas.mjs; do not edit.`,
      ...body,
      ...(definitions && Object.keys(definitions).length ? { definitions } : {}),
    };
  }
  return out;
}

/** The text of schemas/<name>.schema.json. */
export function schemaText(schema) {
  return JSON.stringify(schema, null, 2) + "\n";
}

export function schemaPath(name) {
  return join(SCHEMA_DIR, `${name}.schema.json`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  const schemas = makeSchemas();
  mkdirSync(SCHEMA_DIR, { recursive: true });
  let changed = 0;
  for (const [name, schema] of Object.entries(schemas)) {
    const text = schemaText(schema);
    let old = null;
    try {
      old = readFileSync(schemaPath(name), "utf8");
    } catch {}
    if (old !== text) {
      writeFileSync(schemaPath(name), text);
      changed++;
    }
  }
  console.log(`${Object.keys(schemas).length} schemas in schemas/ (${changed} changed), ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
