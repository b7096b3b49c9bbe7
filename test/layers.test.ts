/**
 * The layers of DESIGN.md hold in the sources: each src/ folder imports only the folders above it
 * (engine, tree, nn, data, train, curvature, linalg, spectrum, landscape, report, studies, cli; a
 * folder may import itself, and every folder may import the top-level files src/*.ts), the static
 * imports of src/**\/*.ts have no cycle between files, and only src/engine/ reads `process.env`.
 * Imports are read from the source text (static `import ... from`, `export ... from`, bare
 * `import "..."`; dynamic `import()` is lazy loading and is not counted). Known violations are
 * listed below (EXCEPTIONS, CYCLE_EXCEPTIONS), each with why; a new one fails the test, and so
 * does a listed one that is gone.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SRC = join(ROOT, "src");
const ORDER = ["engine", "tree", "nn", "data", "train", "curvature", "linalg", "spectrum", "landscape", "report", "studies", "cli"];

/**
 * Imports of a folder below the importer's, allowed for now: "importer -> imported" (paths under
 * src/).
 */
const EXCEPTIONS: ReadonlyMap<string, string> = new Map([
]);

/**
 * Import cycles allowed for now, each as the cycle test prints it. Type-only cycles vanish at run
 * time (TypeScript erases `import type`), but they still tie two files' definitions together.
 */
const CYCLE_EXCEPTIONS: ReadonlyMap<string, string> = new Map([
  [
    "nn/model.ts -> nn/batchnorm.ts -> nn/model.ts",
    // Both imports are `import type`: Model names BatchNormMode, batchnorm.ts takes a Model.
    // BatchNormMode could live in model.ts (or a types file) to break it.
    "type-only: model.ts's BatchNormMode and batchnorm.ts's Model",
  ],
]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Path under src/ with "/" separators. */
const rel = (file: string) => relative(SRC, file).split(sep).join("/");
/** The layer of a path under src/ (null for the top-level files, which every layer may use). */
const layerOf = (path: string) => (path.includes("/") ? path.slice(0, path.indexOf("/")) : null);

/** Comments removed (line and block), so commented-out imports and "process.env" in prose don't count. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

/** The relative static imports of one file, as paths under src/. */
function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  const re = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^;'"]*?\sfrom\s+)?["']([^"']+)["']/gm;
  for (const m of stripComments(text).matchAll(re)) {
    const spec = m[1]!;
    if (!spec.startsWith(".")) continue;
    out.push(rel(resolve(dirname(file), spec)));
  }
  return out;
}

const files = sources(SRC);
const graph = new Map(files.map((f) => [rel(f), importsOf(f, readFileSync(f, "utf8"))]));

test("the import parser sees the imports of a known file", () => {
  const imports = graph.get("curvature/problem.ts");
  assert.ok(imports?.includes("data/device-batches.ts"), `curvature/problem.ts imports: ${imports}`);
  assert.ok(imports?.includes("engine/jax.ts"));
  assert.ok(graph.size > 100, `${graph.size} source files`);
  for (const l of ORDER) assert.ok([...graph.keys()].some((p) => layerOf(p) === l), `no file in src/${l}/`);
});

test("each src/ folder imports only the folders above it (DESIGN.md order)", () => {
  const found: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    for (const imp of imports) {
      const to = layerOf(imp);
      assert.ok(to === null || ORDER.includes(to), `${file} imports ${imp}, outside the known layers`);
      if (from === null) continue; // src/index.ts and src/errors.ts: the top (index) and shared (errors)
      if (to !== null && ORDER.indexOf(to) > ORDER.indexOf(from)) found.push(`${file} -> ${imp}`);
    }
  }
  const unexpected = found.filter((v) => !EXCEPTIONS.has(v));
  assert.deepEqual(unexpected, [], `imports of a lower layer:\n${unexpected.join("\n")}`);
  const stale = [...EXCEPTIONS.keys()].filter((v) => !found.includes(v));
  assert.deepEqual(stale, [], "listed exceptions that no longer occur (remove them)");
});

test("src/errors.ts imports nothing from the layers", () => {
  assert.deepEqual(graph.get("errors.ts"), []);
});

test("the static imports have no cycle", () => {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      cycles.push([...path.slice(path.indexOf(f)), f].join(" -> "));
      return;
    }
    state.set(f, "open");
    for (const g of graph.get(f) ?? []) if (graph.has(g)) visit(g, [...path, f]);
    state.set(f, "done");
  };
  for (const f of graph.keys()) visit(f, []);
  const unexpected = cycles.filter((c) => !CYCLE_EXCEPTIONS.has(c));
  assert.deepEqual(unexpected, [], `import cycles:\n${unexpected.join("\n")}`);
  const stale = [...CYCLE_EXCEPTIONS.keys()].filter((c) => !cycles.includes(c));
  assert.deepEqual(stale, [], "listed cycles that no longer occur (remove them)");
});

test("only src/engine/ reads process.env", () => {
  const readers = files
    .filter((f) => /\bprocess\s*\.\s*env\b|\bprocess\s*\??\.\s*env\b/.test(stripComments(readFileSync(f, "utf8"))))
    .map(rel)
    .filter((p) => layerOf(p) !== "engine");
  assert.deepEqual(readers, []);
});
