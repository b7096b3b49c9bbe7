/**
 * A study's report as one self-contained HTML file, plus a PNG and an SVG per figure and
 * `results.json`.
 *
 * `renderReportHtml` is a pure function from a `Report` (plain JSON: sections with verdicts,
 * figures as Vega-Lite specs, tables, settings, time spent) and the figures' SVG text to an HTML
 * page: a summary table of every verdict at the top (holds / does not hold / inconclusive), then
 * each section with its intro, verdicts, figures (inline SVG, with captions), tables and settings
 * (a collapsible JSON block). All text is escaped; CSS is inline; there are no scripts and nothing
 * external, so the file can be mailed or archived alone. Inline SVGs share one id namespace in a
 * page, so each figure's ids (Vega's clip paths) are prefixed with the figure's name.
 *
 * `writeReport` renders every figure (Vega -> SVG -> PNG, render.ts; `concurrency` at a time,
 * default 2: one figure's PNG is drawn off the main thread while the next one's SVG is laid out)
 * and writes, in `dir`:
 *   figures/<name>.svg, figures/<name>.png, report.html, results.json.
 * Everything is rendered in memory first, so a figure that fails to render leaves `dir` as it was.
 * Then every file is staged under a temporary name next to its destination and the staged files
 * are renamed into place (each rename is atomic): no file is ever half-written, and on a write
 * failure the staged files are removed. Other files in `dir` (a study's resume state, figures of an
 * earlier run) are left alone.
 *
 * `results.json` is the `Report` object itself (so it parses back equal to what was passed, JSON
 * rules applied: NaN and Infinity become null), figure specs included by default: the specs carry
 * their data inline, which is what lets the browser lab redraw a study's figures without rerunning
 * it. `specsInResults: false` leaves the specs out for a smaller file.
 */
import { renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { InputError } from "../errors.ts";
import { writeFileAtomic, makeFolders } from "../data/files.ts";
import { rasterize, toSvg } from "./render.ts";

export type JsonCell = string | number | boolean | null;

export interface ReportFigure {
  /** File-safe id, unique in the report, e.g. "a-spectrum": figures/<name>.svg and .png. */
  readonly name: string;
  readonly title: string;
  readonly caption?: string;
  readonly spec: TopLevelSpec;
}

export interface ReportTable {
  readonly title: string;
  /** Columns are the keys in order of first appearance; a missing key is an empty cell. */
  readonly rows: readonly Readonly<Record<string, JsonCell>>[];
}

export interface ReportVerdict {
  readonly claim: string;
  /** true: the data support the claim; false: they contradict it; null: inconclusive. */
  readonly holds: boolean | null;
  /** The finding, with its numbers. */
  readonly text: string;
}

export interface ReportSection {
  /** HTML-id-safe, unique in the report, e.g. "a" or "width-sweep". */
  readonly id: string;
  readonly title: string;
  readonly intro?: string;
  readonly verdicts: readonly ReportVerdict[];
  readonly figures: readonly ReportFigure[];
  readonly tables: readonly ReportTable[];
  readonly settings?: unknown;
  readonly seconds?: number;
}

export interface Report {
  readonly title: string;
  readonly subtitle?: string;
  readonly sections: readonly ReportSection[];
  readonly settings: unknown;
  /** Engine and machine description (device, dtype, versions), shown with the settings. */
  readonly engine?: unknown;
  /** ISO 8601 time the study finished. */
  readonly createdAt: string;
  /** Total time spent, in seconds. */
  readonly seconds: number;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ID_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** Ids the page uses itself; figures get "fig-<name>" (and their SVG's ids "fig-<name>-..."). */
const RESERVED_IDS = ["summary", "run-settings"];

/** Checks names and ids (file- and id-safe, unique); throws an InputError naming the culprit. */
export function validateReport(report: Report): void {
  if (typeof report.title !== "string" || !report.title) throw new InputError("report.title", "expected a non-empty string");
  const ids = new Set<string>(), names = new Set<string>();
  for (const s of report.sections) {
    if (!ID_RE.test(s.id)) throw new InputError(`section ${JSON.stringify(s.id)}`, "id must start with a letter and use letters, digits, '_' or '-'");
    if (ids.has(s.id)) throw new InputError(`section ${JSON.stringify(s.id)}`, "duplicate section id");
    if (RESERVED_IDS.includes(s.id) || s.id.startsWith("fig-")) {
      throw new InputError(`section ${JSON.stringify(s.id)}`, `id is reserved for the page itself (${RESERVED_IDS.join(", ")}, fig-*)`);
    }
    ids.add(s.id);
    for (const f of s.figures) {
      if (!NAME_RE.test(f.name)) {
        throw new InputError(`figure ${JSON.stringify(f.name)}`, "name must use letters, digits, '.', '_' or '-' (no path), starting with a letter or digit");
      }
      if (names.has(f.name)) throw new InputError(`figure ${JSON.stringify(f.name)}`, "duplicate figure name");
      names.add(f.name);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Text helpers

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Paragraphs of plain text: blank lines separate paragraphs, single newlines become <br>. */
function paragraphs(text: string, cls?: string): string {
  const attr = cls ? ` class="${cls}"` : "";
  return text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p)
    .map((p) => `<p${attr}>${escapeHtml(p).replace(/\n/g, "<br>")}</p>`)
    .join("\n");
}

/** A table cell's text: integers as they are, other numbers to 4 significant digits. */
export function formatCell(v: JsonCell | undefined): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(4)));
}

/** "0.84 s", "12.3 s", "3 min 05 s", "1 h 02 min". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "—";
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const total = Math.round(s);
  if (total < 3600) return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, "0")} s`;
  const m = Math.round(total / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** Badge class and text of a verdict. */
function badge(holds: boolean | null): string {
  const [cls, text] = holds === true ? ["holds", "holds"] : holds === false ? ["fails", "does not hold"] : ["unsure", "inconclusive"];
  return `<span class="badge ${cls}">${text}</span>`;
}

/** JSON text of a value (undefined -> "null"), indented, for a <pre>. */
function jsonBlock(value: unknown): string {
  return escapeHtml(JSON.stringify(value ?? null, null, 2) ?? "null");
}

function details(summary: string, value: unknown): string {
  return `<details class="settings"><summary>${escapeHtml(summary)}</summary><pre>${jsonBlock(value)}</pre></details>`;
}

/**
 * Prefixes every id in a figure's SVG (and the references to them: url(#id), href="#id") with
 * `prefix`, and drops an XML prolog, so several SVGs can live in one HTML page.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]);
  let out = svg.replace(/^\s*<\?xml[^>]*\?>\s*/, "");
  if (ids.size === 0) return out;
  const p = (id: string) => (ids.has(id) ? `${prefix}-${id}` : id);
  out = out.replace(/(\sid=")([^"]+)(")/g, (_, a, id, b) => a + p(id) + b);
  out = out.replace(/url\(#([^)]+)\)/g, (_, id) => `url(#${p(id)})`);
  out = out.replace(/((?:xlink:)?href=")#([^"]+)(")/g, (_, a, id, b) => `${a}#${p(id)}${b}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTML

const CSS = `
:root { --ink: #1d1d1f; --muted: #5f6368; --rule: #e3e3e3; --bg-soft: #f7f7f8; --accent: #2b5380; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; font: 16px/1.55 "Iowan Old Style", "Charter", Georgia, "Times New Roman", serif; }
main { max-width: 920px; margin: 0 auto; padding: 2.5rem 1.5rem 4rem; }
h1, h2, h3, .badge, table, summary, .meta, nav, figcaption { font-family: Roboto, "Helvetica Neue", Arial, system-ui, sans-serif; }
h1 { font-size: 2rem; line-height: 1.2; margin: 0 0 .3rem; letter-spacing: -0.01em; }
h2 { font-size: 1.45rem; margin: 3rem 0 .6rem; padding-top: 1rem; border-top: 1px solid var(--rule); }
h3 { font-size: 1.05rem; margin: 1.8rem 0 .5rem; }
.subtitle { font-size: 1.15rem; color: var(--muted); margin: 0 0 .8rem; }
.meta { font-size: .85rem; color: var(--muted); }
.time { font-weight: normal; font-size: .85rem; color: var(--muted); margin-left: .6rem; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
table { border-collapse: collapse; font-size: .88rem; margin: .6rem 0 1.2rem; width: 100%; }
.table-wrap { overflow-x: auto; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { font-weight: 600; border-bottom: 2px solid #c8c8c8; white-space: nowrap; }
th.num, td.num { text-align: right; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:hover { background: var(--bg-soft); }
.badge { display: inline-block; font-size: .75rem; font-weight: 600; letter-spacing: .02em; padding: .12rem .5rem; border-radius: 999px; white-space: nowrap; }
.badge.holds { background: #e3f4e6; color: #1d6b2c; border: 1px solid #9fd3a9; }
.badge.fails { background: #fde8e6; color: #a3231a; border: 1px solid #f1a9a2; }
.badge.unsure { background: #f1f1f1; color: #555; border: 1px solid #cfcfcf; }
.counts .badge { margin-right: .4rem; }
ul.verdicts { list-style: none; padding: 0; margin: .8rem 0 1.2rem; }
ul.verdicts li { padding: .55rem .8rem; margin: 0 0 .5rem; background: var(--bg-soft); border-left: 4px solid #cfcfcf; border-radius: 3px; }
ul.verdicts li.holds { border-left-color: #4caf62; }
ul.verdicts li.fails { border-left-color: #d9493f; }
ul.verdicts .claim { font-weight: 600; margin-left: .4rem; }
ul.verdicts p { margin: .3rem 0 0; }
figure { margin: 1.6rem 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: .88rem; color: #333; margin-top: .5rem; line-height: 1.45; }
figcaption .fig-title { font-weight: 600; }
details.settings { margin: 1rem 0; font-size: .9rem; }
details.settings summary { cursor: pointer; color: var(--muted); }
details.settings pre { background: var(--bg-soft); border: 1px solid var(--rule); border-radius: 4px; padding: .7rem .9rem; overflow-x: auto; font-size: .8rem; line-height: 1.4; }
.timing td:last-child, .timing th:last-child { text-align: right; font-variant-numeric: tabular-nums; }
.timing tbody tr:last-child td { font-weight: 600; border-top: 2px solid #c8c8c8; }
nav ol { padding-left: 1.4rem; font-size: .92rem; }
.intro p { margin: .4rem 0 .8rem; }
@media print { main { max-width: none; padding: 0; } h2 { break-before: page; } a { color: inherit; } }
`;

function verdictSummary(report: Report): string {
  const rows: string[] = [];
  let hold = 0, fail = 0, unsure = 0;
  for (const s of report.sections) {
    for (const v of s.verdicts) {
      if (v.holds === true) hold++;
      else if (v.holds === false) fail++;
      else unsure++;
      rows.push(
        `<tr><td><a href="#${s.id}">${escapeHtml(s.title)}</a></td><td>${escapeHtml(v.claim)}</td><td>${badge(v.holds)}</td><td>${escapeHtml(v.text)}</td></tr>`,
      );
    }
  }
  if (rows.length === 0) return `<p class="meta">No verdicts.</p>`;
  return [
    `<section id="summary"><h2>Summary</h2>`,
    `<p class="counts"><span class="badge holds">${hold} hold</span><span class="badge fails">${fail} do not hold</span><span class="badge unsure">${unsure} inconclusive</span></p>`,
    `<div class="table-wrap"><table class="verdict-summary"><thead><tr><th>Part</th><th>Claim</th><th>Result</th><th>Finding</th></tr></thead>`,
    `<tbody>\n${rows.join("\n")}\n</tbody></table></div></section>`,
  ].join("\n");
}

function tableHtml(t: ReportTable, cls?: string): string {
  const cols: string[] = [];
  for (const r of t.rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const numeric = cols.map((c) => t.rows.every((r) => r[c] === undefined || r[c] === null || typeof r[c] === "number"));
  const head = cols.map((c, j) => `<th${numeric[j] ? ' class="num"' : ""}>${escapeHtml(c)}</th>`).join("");
  const body = t.rows
    .map((r) => `<tr>${cols.map((c, j) => `<td${numeric[j] ? ' class="num"' : ""}>${escapeHtml(formatCell(r[c]))}</td>`).join("")}</tr>`)
    .join("\n");
  return [
    `<h3>${escapeHtml(t.title)}</h3>`,
    `<div class="table-wrap"><table${cls ? ` class="${cls}"` : ""}><thead><tr>${head}</tr></thead>`,
    `<tbody>\n${body}\n</tbody></table></div>`,
  ].join("\n");
}

function figureHtml(f: ReportFigure, svg: string): string {
  const caption = `<span class="fig-title">${escapeHtml(f.title)}.</span>${f.caption ? ` ${escapeHtml(f.caption)}` : ""}`;
  return `<figure id="fig-${f.name}">\n${scopeSvgIds(svg, `fig-${f.name}`)}\n<figcaption>${caption}</figcaption>\n</figure>`;
}

function sectionHtml(s: ReportSection, svgs: ReadonlyMap<string, string>): string {
  const out: string[] = [];
  const time = s.seconds !== undefined ? `<span class="time">${escapeHtml(formatSeconds(s.seconds))}</span>` : "";
  out.push(`<section id="${s.id}">`, `<h2>${escapeHtml(s.title)}${time}</h2>`);
  if (s.intro) out.push(`<div class="intro">${paragraphs(s.intro)}</div>`);
  if (s.verdicts.length) {
    out.push(`<ul class="verdicts">`);
    for (const v of s.verdicts) {
      const cls = v.holds === true ? "holds" : v.holds === false ? "fails" : "unsure";
      out.push(`<li class="${cls}">${badge(v.holds)}<span class="claim">${escapeHtml(v.claim)}</span>${paragraphs(v.text)}</li>`);
    }
    out.push(`</ul>`);
  }
  for (const f of s.figures) {
    const svg = svgs.get(f.name);
    if (svg === undefined) throw new Error(`renderReportHtml: no SVG for figure ${JSON.stringify(f.name)}`);
    out.push(figureHtml(f, svg));
  }
  for (const t of s.tables) out.push(tableHtml(t));
  if (s.settings !== undefined) out.push(details("Settings of this part", s.settings));
  out.push(`</section>`);
  return out.join("\n");
}

/**
 * The report as one HTML page; `svgs` maps each figure's name to its SVG text (as from `toSvg`).
 * Throws if a figure has no SVG, or on names and ids that are not safe (see `validateReport`).
 */
export function renderReportHtml(report: Report, svgs: ReadonlyMap<string, string>): string {
  validateReport(report);
  const nav = report.sections.length > 1
    ? `<nav><ol>\n${report.sections
      .map((s) => `<li><a href="#${s.id}">${escapeHtml(s.title)}</a>${s.seconds !== undefined ? ` <span class="meta">(${escapeHtml(formatSeconds(s.seconds))})</span>` : ""}</li>`)
      .join("\n")}\n</ol></nav>`
    : "";
  const timing = report.sections.some((s) => s.seconds !== undefined)
    ? tableHtml({
      title: "Time spent",
      rows: [
        ...report.sections.map((s) => ({ part: s.title, time: s.seconds !== undefined ? formatSeconds(s.seconds) : null })),
        { part: "total", time: formatSeconds(report.seconds) },
      ],
    }, "timing")
    : "";
  return [
    `<!DOCTYPE html>`,
    `<html lang="en">`,
    `<head>`,
    `<meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(report.title)}</title>`,
    `<style>${CSS}</style>`,
    `</head>`,
    `<body>`,
    `<main>`,
    `<header>`,
    `<h1>${escapeHtml(report.title)}</h1>`,
    report.subtitle ? `<p class="subtitle">${escapeHtml(report.subtitle)}</p>` : "",
    `<p class="meta">Created ${escapeHtml(report.createdAt)} · total time ${escapeHtml(formatSeconds(report.seconds))}</p>`,
    `</header>`,
    verdictSummary(report),
    nav,
    ...report.sections.map((s) => sectionHtml(s, svgs)),
    `<section id="run-settings">`,
    `<h2>Settings and time</h2>`,
    timing,
    details("Study settings", report.settings),
    report.engine !== undefined ? details("Engine", report.engine) : "",
    `</section>`,
    `</main>`,
    `</body>`,
    `</html>`,
    ``,
  ].filter((line) => line !== "").join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface WriteReportOptions {
  /** PNG scale relative to the SVG's CSS size (default 2). */
  readonly scale?: number;
  /** Figures rendered at a time (default 2). */
  readonly concurrency?: number;
  /** Keep the figure specs in results.json (default true; see the module comment). */
  readonly specsInResults?: boolean;
  /** Called after each figure is rendered: how many are done, of how many, and which one. */
  readonly onProgress?: (done: number, total: number, figure: string) => void;
}

export interface WrittenReport {
  readonly html: string;
  readonly results: string;
  readonly figures: readonly { readonly name: string; readonly svg: string; readonly png: string }[];
  /** Time spent rendering and writing, in seconds. */
  readonly seconds: number;
}

/** A figure as results.json records it: its Vega-Lite spec (data inline) unless left out. */
export interface ReportFigureResults extends Omit<ReportFigure, "spec"> {
  /** The Vega-Lite spec (https://vega.github.io/schema/vega-lite/v6.json); absent with specsInResults: false. */
  readonly spec?: object;
}

export interface ReportSectionResults extends Omit<ReportSection, "figures"> {
  readonly figures: readonly ReportFigureResults[];
}

/**
 * A study's results.json: the `Report` (sections with verdicts, figures, tables and settings;
 * the study's settings, the engine, the time it finished and took), JSON rules applied.
 */
export interface ReportResults extends Omit<Report, "sections"> {
  readonly sections: readonly ReportSectionResults[];
}

/** The report as written to results.json (without the specs when `specs` is false). */
export function reportResults(report: Report, specs = true): ReportResults {
  if (specs) return report;
  return {
    ...report,
    sections: report.sections.map((s) => ({ ...s, figures: s.figures.map(({ spec: _spec, ...rest }) => rest) })),
  };
}

/** Renders every figure to SVG and PNG, `concurrency` at a time, in report order. */
async function renderFigures(
  figures: readonly ReportFigure[],
  scale: number,
  concurrency: number,
  onProgress?: WriteReportOptions["onProgress"],
): Promise<{ svg: string; png: Uint8Array }[]> {
  const out = new Array<{ svg: string; png: Uint8Array }>(figures.length);
  let next = 0, done = 0, failed = false;
  const worker = async () => {
    while (next < figures.length && !failed) {
      const i = next++;
      const f = figures[i];
      let svg: string, png: Uint8Array;
      try {
        svg = await toSvg(f.spec);
        png = (await rasterize(svg, scale)).png();
      } catch (e) {
        failed = true;
        if (e instanceof InputError) throw e;
        throw new InputError(`figure ${JSON.stringify(f.name)}`, `cannot render: ${(e as Error).message}`);
      }
      out[i] = { svg, png };
      onProgress?.(++done, figures.length, f.name);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, figures.length) }, worker));
  return out;
}

/**
 * Renders every figure and writes figures/<name>.svg and .png, report.html and results.json into
 * `dir` (created if needed); see the module comment for the order and the guarantees.
 */
export async function writeReport(dir: string, report: Report, opts: WriteReportOptions = {}): Promise<WrittenReport> {
  const t0 = performance.now();
  const { scale = 2, concurrency = 2, specsInResults = true, onProgress } = opts;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InputError("concurrency", `expected a positive integer, got ${concurrency}`);
  validateReport(report);
  let json: string;
  try {
    json = JSON.stringify(reportResults(report, specsInResults), null, 2) + "\n";
  } catch (e) {
    throw new InputError("report", `not JSON-serializable (${(e as Error).message})`);
  }

  // 1. Render everything in memory: a failure here writes nothing.
  const figures = report.sections.flatMap((s) => s.figures);
  const rendered = await renderFigures(figures, scale, concurrency, onProgress);
  const svgs = new Map(figures.map((f, i) => [f.name, rendered[i].svg]));
  const html = renderReportHtml(report, svgs);

  // 2. Stage every file next to its destination, then rename them all into place.
  const figDir = join(dir, "figures");
  try {
    makeFolders(figDir);
  } catch (e) {
    throw new InputError(dir, `cannot create the report folder: ${(e as Error).message}`);
  }
  if (!statSync(dir).isDirectory()) throw new InputError(dir, "is not a folder");
  const enc = new TextEncoder();
  const files: { path: string; bytes: Uint8Array }[] = [];
  const written: { name: string; svg: string; png: string }[] = [];
  figures.forEach((f, i) => {
    const svg = join(figDir, `${f.name}.svg`), png = join(figDir, `${f.name}.png`);
    files.push({ path: svg, bytes: enc.encode(rendered[i].svg) }, { path: png, bytes: rendered[i].png });
    written.push({ name: f.name, svg, png });
  });
  const htmlPath = join(dir, "report.html"), resultsPath = join(dir, "results.json");
  // The page and the results last: they name the figures, which are then already in place.
  files.push({ path: resultsPath, bytes: enc.encode(json) }, { path: htmlPath, bytes: enc.encode(html) });

  const stamp = `${process.pid}.${Date.now().toString(36)}`;
  const staged = files.map((f) => ({ ...f, tmp: join(dirname(f.path), `.${basename(f.path)}.${stamp}.staged`) }));
  try {
    for (const f of staged) writeFileAtomic(f.tmp, [f.bytes]);
    for (const f of staged) renameSync(f.tmp, f.path);
  } catch (e) {
    for (const f of staged) rmSync(f.tmp, { force: true });
    if (e instanceof InputError) throw e;
    throw new InputError(dir, `cannot write the report: ${(e as Error).message}`);
  }
  return { html: htmlPath, results: resultsPath, figures: written, seconds: (performance.now() - t0) / 1000 };
}
