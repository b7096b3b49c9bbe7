import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  escapeHtml, formatCell, formatSeconds, renderReportHtml, scopeSvgIds, writeReport, type Report, type ReportFigure,
} from "../../src/report/html.ts";
import { eigenvalueHistogram, lineChart } from "../../src/report/figures.ts";
import { rankPlot } from "../../src/report/spectrum-figures.ts";
import { toSvg } from "../../src/report/render.ts";
import { InputError } from "../../src/errors.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { decodePng } from "./png-decode.ts";
import { assertWellFormedHtml, colours } from "../helpers/html-check.ts";

/** Asserts that `text` contains `part` (with a message: a bare assert.ok is slow to fail under tsx). */
function has(text: string, part: string): void {
  assert.ok(text.includes(part), `missing ${JSON.stringify(part.slice(0, 120))}`);
}


const rng = hostRng(5);
const EIGS = [...Array.from({ length: 300 }, () => 0.01 * rng.normal()), 1, 2, 4];
const histogram = (name: string, title = "spectrum"): ReportFigure => ({
  name, title, caption: `Histogram of ${EIGS.length} eigenvalues.`, spec: eigenvalueHistogram({ eigenvalues: EIGS, title }),
});
// A line chart with clip: true, so its SVG carries a clip-path id.
const curve = (name: string): ReportFigure => ({
  name, title: "loss", spec: lineChart({ title: "loss", xTitle: "step", yTitle: "loss", series: [{ name: "a", x: [0, 1, 2], y: [3, 2, 1] }] }),
});

function sampleReport(): Report {
  return {
    title: "Hessian study <quick>",
    subtitle: "bulk & outliers",
    createdAt: "2026-01-02T03:04:05.000Z",
    seconds: 125.5,
    settings: { seed: 0, quick: true, widths: [16, 32, 64, 128] },
    engine: { device: "wasm", dtype: "float64" },
    sections: [
      {
        id: "a",
        title: "A. Spectrum of a trained MLP",
        intro: "The spectrum of one model.\n\nA second paragraph with <b>markup</b> shown as text.",
        verdicts: [
          { claim: "bulk near zero plus outliers", holds: true, text: "4 outliers above 0.5; bulk width 0.03" },
          { claim: "outliers = k - 1 <script>alert(1)</script>", holds: null, text: "3 of 5 runs & 'quotes'" },
        ],
        figures: [histogram("a-spectrum"), curve("a-loss")],
        tables: [{ title: "Outliers", rows: [{ index: 1, eigenvalue: 4.123456, outlier: true }, { index: 2, eigenvalue: 0.000012346, note: null }] }],
        settings: { width: 32 },
        seconds: 12.25,
      },
      {
        id: "b-width",
        title: "B. Width sweep",
        verdicts: [{ claim: "the bulk scales with width", holds: false, text: "bulk width x1.1 when width x4" }],
        figures: [curve("b-loss"), {
          name: "b-rank", title: "top eigenvalues", spec: rankPlot({ series: [{ name: "w16", eigenvalues: EIGS }], title: "top", top: 10 }),
        }],
        tables: [],
        seconds: 100,
      },
    ],
  };
}

async function svgsOf(report: Report): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const s of report.sections) for (const f of s.figures) out.set(f.name, await toSvg(f.spec));
  return out;
}

test("renderReportHtml: well-formed, escaped, summary of every verdict, one inline SVG per figure", async () => {
  const report = sampleReport();
  const html = renderReportHtml(report, await svgsOf(report));
  const names = assertWellFormedHtml(html);
  assert.equal(names.filter((n) => n === "svg").length, 4);
  assert.equal(names.filter((n) => n === "figure").length, 4);
  assert.equal(names.filter((n) => n === "script" || n === "link" || n === "img" || n === "b").length, 0);
  assert.ok(!/\b(src|href)="(https?:)?\/\//.test(html), "no external resources");
  for (const f of ["a-spectrum", "a-loss", "b-loss", "b-rank"]) {
    const at = html.indexOf(`<figure id="fig-${f}">`);
    assert.ok(at >= 0, `figure ${f}`);
    assert.ok(html.slice(at).match(/^<figure[^>]*>\n<svg /), `figure ${f} starts with its SVG`);
  }
  // Sections, verdicts (escaped), table cells.
  for (const s of report.sections) {
    has(html, `<section id="${s.id}">`);
    has(html, escapeHtml(s.title));
    for (const v of s.verdicts) {
      assert.ok(html.split(escapeHtml(v.claim)).length - 1 === 2, `claim in the summary and in its section: ${v.claim}`);
      has(html, escapeHtml(v.text));
    }
  }
  has(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
  has(html, "3 of 5 runs &amp; &#39;quotes&#39;");
  has(html, "<title>Hessian study &lt;quick&gt;</title>");
  has(html, "<p>A second paragraph with &lt;b&gt;markup&lt;/b&gt; shown as text.</p>");
  // Summary table: one row per verdict, badges and counts.
  const summary = /<table class="verdict-summary">(.*?)<\/table>/s.exec(html)![1];
  assert.equal((summary.match(/<tr>/g) ?? []).length, 1 + 3);
  has(summary, `<span class="badge holds">holds</span>`);
  has(summary, `<span class="badge fails">does not hold</span>`);
  has(summary, `<span class="badge unsure">inconclusive</span>`);
  for (const c of [">1 hold<", ">1 do not hold<", ">1 inconclusive<"]) has(html, c);
  for (const cell of [`<td class="num">4.123</td>`, `<td class="num">1.235e-5</td>`, "<td>yes</td>", "<td>—</td>"]) has(html, cell);
  // Time per section and in total; settings as collapsible JSON.
  has(html, `<span class="time">12.3 s</span>`);
  has(html, "total time 2 min 06 s");
  assert.equal((html.match(/<details class="settings">/g) ?? []).length, 3); // part a, study, engine
  has(html, escapeHtml(JSON.stringify(report.settings, null, 2)));
  // Ids are unique in the page, though the two line charts' SVGs may share clip ids.
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids}`);
  for (const m of html.matchAll(/url\(#([^)]+)\)/g)) assert.ok(ids.includes(m[1]), `dangling reference #${m[1]}`);
});

test("renderReportHtml: a missing SVG, a duplicate figure name or an unsafe id is refused", async () => {
  const report = sampleReport();
  const svgs = await svgsOf(report);
  svgs.delete("b-rank");
  assert.throws(() => renderReportHtml(report, svgs), /no SVG for figure "b-rank"/);
  const dup: Report = { ...report, sections: [report.sections[0], { ...report.sections[1], figures: [curve("a-loss")] }] };
  assert.throws(() => renderReportHtml(dup, svgs), (e: unknown) => e instanceof InputError && /duplicate figure name/.test(e.message));
  for (const id of ["1a", "a b", "summary", "fig-x", "a\"x"]) {
    const bad: Report = { ...report, sections: [{ ...report.sections[0], id }] };
    assert.throws(() => renderReportHtml(bad, svgs), InputError, id);
  }
  const badName: Report = { ...report, sections: [{ ...report.sections[0], figures: [histogram("../x")] }] };
  assert.throws(() => renderReportHtml(badName, svgs), InputError);
});

test("scopeSvgIds: prefixes ids and their references only", () => {
  const svg = `<?xml version="1.0"?><svg><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"><use href="#clip1"/><text>url(#other)</text></g></svg>`;
  assert.equal(scopeSvgIds(svg, "f"),
    `<svg><defs><clipPath id="f-clip1"><rect/></clipPath></defs><g clip-path="url(#f-clip1)"><use href="#f-clip1"/><text>url(#other)</text></g></svg>`);
});

test("formatCell and formatSeconds", () => {
  assert.deepEqual([null, true, false, "x", 42, -7, 3.14159, 0.000123456, 25000000.5, 0].map((v) => formatCell(v)),
    ["—", "yes", "no", "x", "42", "-7", "3.142", "1.235e-4", "2.5e+7", "0"]);
  assert.deepEqual([0.8412, 12.34, 185, 3725].map(formatSeconds), ["0.84 s", "12.3 s", "3 min 05 s", "1 h 02 min"]);
});


test("writeReport: figures as SVG and valid PNGs of real content, report.html, results.json equal to the report", async () => {
  const dir = await mkdtemp(join(tmpdir(), "curvlab-report-"));
  try {
    const report = sampleReport();
    const progress: string[] = [];
    const out = await writeReport(join(dir, "run"), report, { onProgress: (done, total, name) => progress.push(`${done}/${total} ${name}`) });
    assert.equal(progress.length, 4);
    assert.equal(progress.at(-1)!.startsWith("4/4"), true);
    assert.deepEqual((await readdir(join(dir, "run"))).sort(), ["figures", "report.html", "results.json"]);
    assert.deepEqual((await readdir(join(dir, "run", "figures"))).sort(),
      ["a-loss.png", "a-loss.svg", "a-spectrum.png", "a-spectrum.svg", "b-loss.png", "b-loss.svg", "b-rank.png", "b-rank.svg"]);
    for (const f of out.figures) {
      const svg = await readFile(f.svg, "utf8");
      const width = Number(/^<svg[^>]*\swidth="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
      const img = decodePng(await readFile(f.png)); // signature, CRCs, inflate, filters
      assert.equal(img.width, Math.round(2 * width), f.name);
      assert.ok(colours(img.rgba) > 20, `${f.name}: ${colours(img.rgba)} colours`);
    }
    const html = await readFile(out.html, "utf8");
    assert.equal(assertWellFormedHtml(html).filter((n) => n === "svg").length, 4);
    assert.deepEqual(JSON.parse(await readFile(out.results, "utf8")), report);

    // Without the specs: the same report, figures reduced to name, title and caption.
    await writeReport(join(dir, "lean"), report, { specsInResults: false, concurrency: 1 });
    const lean = JSON.parse(await readFile(join(dir, "lean", "results.json"), "utf8"));
    assert.deepEqual(lean.sections[0].figures[0], { name: "a-spectrum", title: "spectrum", caption: "Histogram of 303 eigenvalues." });
    assert.deepEqual(lean.settings, report.settings);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("writeReport: a figure that fails to render writes nothing and leaves an earlier report as it was", async () => {
  const dir = await mkdtemp(join(tmpdir(), "curvlab-report-"));
  try {
    const good = sampleReport();
    const broken: ReportFigure = { name: "broken", title: "broken", spec: { mark: "nonsense", data: { values: [{ a: 1 }] } } as any };
    const bad: Report = { ...good, title: "second run", sections: [{ ...good.sections[0], figures: [histogram("a-spectrum"), broken, curve("a-loss")] }] };

    // Fresh folder: nothing at all.
    await assert.rejects(writeReport(join(dir, "fresh"), bad), (e: unknown) => e instanceof InputError && e.input === `figure "broken"`);
    assert.equal(existsSync(join(dir, "fresh")), false);

    // Over an earlier report: every file byte for byte as before, no staged leftovers.
    const run = join(dir, "run");
    await writeReport(run, good);
    const snapshot = async () => {
      const files = [...(await readdir(run)).map((f) => join(run, f)), ...(await readdir(join(run, "figures"))).map((f) => join(run, "figures", f))];
      return new Map(await Promise.all(files.filter((f) => !f.endsWith("figures")).map(async (f) => [f, (await readFile(f)).toString("base64")] as const)));
    };
    const before = await snapshot();
    await assert.rejects(writeReport(run, bad), InputError);
    assert.deepEqual(await snapshot(), before);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("writeReport: a write failure leaves no staged files behind", async () => {
  const dir = await mkdtemp(join(tmpdir(), "curvlab-report-"));
  try {
    const report: Report = { ...sampleReport(), sections: [{ ...sampleReport().sections[1], figures: [curve("only")] }] };
    // report.html is a folder: staging works, the last rename fails.
    await mkdir(join(dir, "run", "report.html"), { recursive: true });
    await assert.rejects(writeReport(join(dir, "run"), report), (e: unknown) => e instanceof InputError && e.input === join(dir, "run"));
    const left = [...(await readdir(join(dir, "run"))), ...(await readdir(join(dir, "run", "figures")))];
    assert.deepEqual(left.filter((f) => f.includes("staged") || f.endsWith(".tmp")), []);
    assert.deepEqual(await readdir(join(dir, "run", "report.html")), []);
    // figures/ is a file: nothing can be staged there.
    await rm(join(dir, "run"), { recursive: true });
    await mkdir(join(dir, "run"));
    await writeFile(join(dir, "run", "figures"), "not a folder");
    await assert.rejects(writeReport(join(dir, "run"), report), InputError);
    assert.deepEqual(await readdir(join(dir, "run")), ["figures"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
