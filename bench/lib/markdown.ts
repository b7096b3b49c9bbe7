/** Markdown for benchmark results: tables (columns = row keys in first-seen order), sections. */
import type { BenchResult, BenchTable, Cell } from "./contract.ts";

function cell(c: Cell | undefined): string {
  if (c === undefined || c === null) return "";
  if (typeof c === "number") {
    if (Number.isNaN(c)) return "NaN";
    if (!Number.isFinite(c)) return c > 0 ? "inf" : "-inf";
    // Small magnitudes (errors) read better as 1.1e-6 than as 0.0000011.
    return c !== 0 && Math.abs(c) < 1e-3 ? c.toExponential() : String(c);
  }
  return String(c).replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function columnsOf(rows: BenchTable["rows"]): string[] {
  const cols: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) if (!seen.has(k)) seen.add(k), cols.push(k);
  return cols;
}

export function renderTable(t: BenchTable, headingLevel = 3): string {
  const out = [`${"#".repeat(headingLevel)} ${t.title}`, ""];
  if (t.rows.length === 0) out.push("(no rows)");
  else {
    const cols = columnsOf(t.rows);
    out.push(`| ${cols.map((c) => cell(c)).join(" | ")} |`);
    out.push(`|${cols.map((c) => (typeof t.rows[0]![c] === "number" ? " ---: " : " --- ")).join("|")}|`);
    for (const r of t.rows) out.push(`| ${cols.map((c) => cell(r[c])).join(" | ")} |`);
  }
  if (t.notes?.length) out.push("", ...t.notes.map((n) => `- ${n}`));
  return out.join("\n");
}

export function renderResult(r: BenchResult, headingLevel = 2): string {
  const out = [`${"#".repeat(headingLevel)} ${r.title}`, ""];
  if (r.summary) out.push(r.summary, "");
  for (const t of r.tables) out.push(renderTable(t, headingLevel + 1), "");
  if (r.notes?.length) out.push(...r.notes.map((n) => `- ${n}`), "");
  return out.join("\n");
}

/**
 * One result from the results of a module's variants: tables with the same title are joined
 * (rows in variant order), notes and peers are merged without repeats.
 */
export function mergeResults(results: readonly BenchResult[]): BenchResult {
  if (results.length === 1) return results[0]!;
  const tables = new Map<string, { rows: BenchTable["rows"][number][]; notes: string[] }>();
  const notes: string[] = [];
  const peers: Record<string, string> = {};
  const addUnique = (to: string[], from: readonly string[] | undefined) => {
    for (const n of from ?? []) if (!to.includes(n)) to.push(n);
  };
  for (const r of results) {
    for (const t of r.tables) {
      const m = tables.get(t.title) ?? { rows: [], notes: [] };
      m.rows.push(...t.rows);
      addUnique(m.notes, t.notes);
      tables.set(t.title, m);
    }
    addUnique(notes, r.notes);
    for (const [k, v] of Object.entries(r.peers ?? {})) {
      peers[k] = peers[k] && peers[k] !== v ? `${peers[k]}; ${v}` : v;
    }
  }
  return {
    title: results[0]!.title,
    summary: results[0]!.summary,
    tables: [...tables].map(([title, t]) => ({ title, rows: t.rows, notes: t.notes })),
    notes,
    peers,
  };
}
