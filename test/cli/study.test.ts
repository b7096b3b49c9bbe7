/**
 * `curvlab study hessian` end to end on the quick preset (parts a and e, the cheap ones): the
 * report renders (HTML well-formed, one inline SVG per figure, every figure with data, valid
 * PNGs of real content, results.json), a second run resumes from the journal without
 * recomputing, and bad input gets exit code 2 with one line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./run-cli.ts";
import { decodePng } from "../report/png-decode.ts";
import { assertWellFormedHtml, colours } from "../helpers/html-check.ts";

const dir = mkdtempSync(join(tmpdir(), "curvlab-study-"));
const out = join(dir, "study");

test("study hessian --quick --parts a,e writes a report with verdicts, figures and results", () => {
  const r = runCli(["study", "hessian", "--quick", "--parts", "a,e", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /part-a +(holds|does not hold|inconclusive)/);
  assert.match(r.stdout, /part-e /);
  const html = readFileSync(join(out, "report.html"), "utf8");
  const tags = assertWellFormedHtml(html);
  const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  const figures = results.sections.flatMap((s: { figures: { name: string; spec: { data?: { values?: unknown[] }; datasets?: Record<string, unknown[]> } }[] }) => s.figures);
  assert.deepEqual(results.sections.map((s: { id: string }) => s.id), ["part-a", "part-e"]);
  assert.ok(figures.length >= 4);
  assert.equal(tags.filter((t) => t === "svg").length >= figures.length, true, "one inline SVG per figure");
  for (const f of figures) {
    const spec = JSON.stringify(f.spec);
    assert.match(spec, /"values":\[\{/, `figure ${f.name} has inline data rows`);
    const png = decodePng(new Uint8Array(readFileSync(join(out, "figures", `${f.name}.png`))));
    assert.ok(png.width > 300 && png.height > 200, `${f.name}: ${png.width}x${png.height}`);
    assert.ok(colours(png.rgba) > 16, `${f.name} has real content`);
  }
  for (const s of results.sections) {
    assert.ok(s.verdicts.length >= 2);
    for (const v of s.verdicts) assert.ok(typeof v.text === "string" && /\d/.test(v.text), "each verdict carries its numbers");
  }
});

test("running the same study again resumes: finished parts come from the journal", () => {
  const r = runCli(["study", "hessian", "--quick", "--parts", "a", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /part a: done earlier/);
  assert.doesNotMatch(r.stderr, /training /);
  assert.ok(readdirSync(join(out, "journal")).some((f) => f.startsWith("part-a")));
});

test("bad input: one line, exit code 2", () => {
  const cases: [string[], RegExp][] = [
    [["study", "hessian", "--parts", "a,z", "--out", join(dir, "x")], /--parts: unknown part "z"/],
    [["study", "landscape"], /landscape: unknown study/],
    [["study", "hessian", "--quick", "--full"], /--quick: give --quick or --full/],
    [["study", "hessian", "--quick", "--seed", "3", "--parts", "a", "--out", out], /was started with other settings/],
    // The study's own options are checked before any folder is made (y must not appear).
    [["study", "hessian", "--quick", "--k", "1", "--out", join(dir, "y")], /--k: expected an integer in 2\.\.50, got 1/],
    [["study", "hessian", "--quick", "--widths", "10", "--out", join(dir, "y")], /--widths: expected at least 2 widths/],
    [["study", "hessian", "--quick", "--widths", "10,x", "--out", join(dir, "y")], /--widths: expected a comma list of integers >= 1, got "10,x"/],
    [["study", "hessian", "--quick", "--depth", "9", "--out", join(dir, "y")], /--depth: expected 1\.\.4 hidden layers/],
    [["study", "hessian", "--quick", "--loss", "hinge", "--out", join(dir, "y")], /--loss/],
    [["study", "hessian", "--quick", "--activation", "sigmoid", "--out", join(dir, "y")], /--activation/],
    [["study", "batch-size", "--quick", "--sizes", "16,0", "--out", join(dir, "y")], /--sizes: expected a comma list of positive integers, got "16,0"/],
    [["study", "batch-size", "--quick", "--draws", "0", "--out", join(dir, "y")], /--draws: expected an integer from 1 to 1000, got 0/],
    [["study", "batch-size", "--quick", "--parts", "fisher", "--out", join(dir, "y")], /--parts: unknown part "fisher"/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  assert.ok(!existsSync(join(dir, "y")), "a refused option leaves no folder");
  rmSync(dir, { recursive: true, force: true });
});

test("every registered study answers --help with its parts; an unknown study or part is exit 2", () => {
  for (const [name, parts] of [["hessian", "a,b,c,d,e,f"], ["coherence", "gmm,mnist"], ["intrinsic-dim", null], ["sharpness", "eos,batch"]] as const) {
    const r = runCli(["study", name, "--help"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`curvlab study ${name}`));
    if (parts) assert.ok(r.stdout.includes(parts), `${name} --help lists ${parts}: ${r.stdout}`);
  }
  const unknown = runCli(["study", "nope"]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown study; expected one of hessian, coherence, intrinsic-dim, sharpness/);
  const part = runCli(["study", "coherence", "--quick", "--parts", "zzz", "--out", join(mkdtempSync(join(tmpdir(), "curvlab-st-")), "o")]);
  assert.equal(part.status, 2);
  assert.match(part.stderr, /--parts.*unknown part "zzz"/);
});
