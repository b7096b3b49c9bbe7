/**
 * Writing tables as CSV (RFC 4180, Shafranovich 2005, "Common Format and MIME Type for
 * Comma-Separated Values (CSV) Files"): a header row, CRLF line ends, fields quoted only when they
 * hold a comma, a double quote, CR or LF (quotes doubled inside). Numbers are written with
 * `String(x)`, the shortest text that reads back to the same float64 (ECMAScript's
 * Number::toString), so a CSV column parses back to exactly the values of the JSON result; null
 * is an empty field, NaN and +-Infinity are written as "NaN", "Infinity", "-Infinity" (JSON would
 * have turned them into null). Booleans are "true"/"false".
 */

export type CsvCell = string | number | boolean | null;

function field(v: CsvCell): string {
  if (v === null) return "";
  const text = String(v);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV document: the header, then one line per row (each row as long as the header). */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  if (header.length === 0) throw new Error("toCsv: expected at least one column");
  const lines = [header.map(field).join(",")];
  rows.forEach((row, i) => {
    if (row.length !== header.length) throw new Error(`toCsv: row ${i} has ${row.length} cells, expected ${header.length}`);
    lines.push(row.map(field).join(","));
  });
  return lines.join("\r\n") + "\r\n";
}

/** Columns of equal length as a CSV document (column name -> values). */
export function columnsToCsv(columns: Readonly<Record<string, readonly CsvCell[]>>): string {
  const names = Object.keys(columns);
  const n = names.length ? columns[names[0]].length : 0;
  for (const name of names) {
    if (columns[name].length !== n) throw new Error(`columnsToCsv: column "${name}" has ${columns[name].length} values, expected ${n}`);
  }
  return toCsv(names, Array.from({ length: n }, (_, i) => names.map((name) => columns[name][i])));
}
