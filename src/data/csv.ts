/**
 * CSV datasets: one example per row, numeric feature columns and one label column.
 *
 * Format (RFC 4180): comma-separated, fields may be double-quoted (with "" for a quote inside),
 * CRLF or LF line ends, blank lines skipped. The first row is a header when any of its cells is
 * not a number (header "auto", the default), or as `header` says. The label column is `label`
 * (a header name or a 0-based index), else the first header named label, y, target or class,
 * else the last column. Labels are non-negative integers, or class names: names are mapped to
 * 0..C-1 in sorted order (the mapping is recorded in the dataset's name). Every other cell must
 * be a finite number; the first one that is not is an InputError naming the file, the line and
 * the column.
 */
import { InputError } from "../errors.ts";
import { labelFromNumber, type Dataset } from "./dataset.ts";
import { readInputFile } from "./files.ts";

export interface CsvOptions {
  /** Header name or 0-based column index of the label (default: see the module comment). */
  readonly label?: string;
  readonly header?: "auto" | "yes" | "no";
  /** Number of classes (default: max label + 1, or the number of class names). */
  readonly classes?: number;
  /** The dataset's name (default: the path). */
  readonly name?: string;
}

/** Splits CSV text into rows of cells, with the 1-based line where each row starts. */
export function parseCsvRows(text: string, name: string): { cells: string[]; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let cells: string[] = [], cell = "", quoted = false, wasQuoted = false, line = 1, rowLine = 1;
  const endRow = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0]!.trim() === "" && !wasQuoted)) rows.push({ cells, line: rowLine });
    cells = [], cell = "", wasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') cell += '"', i++;
        else quoted = false;
      } else {
        if (ch === "\n") line++;
        cell += ch;
      }
    } else if (ch === '"' && cell.trim() === "") {
      quoted = true, wasQuoted = true, cell = "";
    } else if (ch === ",") {
      cells.push(cell), cell = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      endRow();
      line++, rowLine = line;
    } else cell += ch;
  }
  if (quoted) throw new InputError(name, `line ${rowLine}: a quoted field is not closed`);
  if (cell !== "" || cells.length) endRow();
  return rows;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$/i;
const isNumber = (s: string) => NUMBER.test(s.trim());

export function parseCsv(text: string, path: string, opts: CsvOptions = {}): Dataset {
  const rows = parseCsvRows(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, path);
  if (rows.length === 0) throw new InputError(path, "the CSV file has no rows; expected a header and numeric rows");
  const headerMode = opts.header ?? "auto";
  const hasHeader = headerMode === "yes" || (headerMode === "auto" && rows[0]!.cells.some((c) => !isNumber(c)));
  const header = hasHeader ? rows[0]!.cells.map((c) => c.trim()) : null;
  const body = hasHeader ? rows.slice(1) : rows;
  if (body.length === 0) throw new InputError(path, "the CSV file has a header but no data rows");
  const width = (header ?? body[0]!.cells).length;
  if (width < 2) throw new InputError(path, `expected at least 2 columns (features and a label), got ${width}`);
  let labelCol: number;
  if (opts.label !== undefined) {
    const byName = header ? header.indexOf(opts.label) : -1;
    if (byName >= 0) labelCol = byName;
    else if (/^\d+$/.test(opts.label) && Number(opts.label) < width) labelCol = Number(opts.label);
    else {
      throw new InputError(path, `label=${opts.label}: no such column; expected ${header ? `one of ${header.map((h) => JSON.stringify(h)).join(", ")} or ` : ""}an index in 0..${width - 1}`);
    }
  } else {
    const guess = header ? header.findIndex((h) => ["label", "y", "target", "class"].includes(h.toLowerCase())) : -1;
    labelCol = guess >= 0 ? guess : width - 1;
  }
  const colName = (j: number) => (header ? `column "${header[j]}"` : `column ${j}`);
  const n = body.length, d = width - 1;
  const x = new Float64Array(n * d);
  const rawLabels: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const { cells, line } = body[i]!;
    if (cells.length !== width) throw new InputError(path, `line ${line}: ${cells.length} cells, expected ${width} (as the ${header ? "header" : "first row"})`);
    let k = 0;
    for (let j = 0; j < width; j++) {
      const c = cells[j]!.trim();
      if (j === labelCol) { rawLabels[i] = c; continue; }
      const v = Number(c);
      if (!isNumber(c) || !Number.isFinite(v) || c === "") {
        throw new InputError(path, `line ${line}, ${colName(j)}: ${JSON.stringify(cells[j])} is not a finite number`);
      }
      x[i * d + k++] = v;
    }
  }
  const y = new Int32Array(n);
  let names: string[] | null = null;
  if (rawLabels.every((s) => isNumber(s))) {
    for (let i = 0; i < n; i++) y[i] = labelFromNumber(Number(rawLabels[i]), i, `${path} (${colName(labelCol)}, line ${body[i]!.line})`);
  } else {
    names = [...new Set(rawLabels)].sort();
    const index = new Map(names.map((s, c) => [s, c]));
    for (let i = 0; i < n; i++) y[i] = index.get(rawLabels[i]!)!;
  }
  let maxLabel = -1;
  for (const v of y) if (v > maxLabel) maxLabel = v;
  const numClasses = opts.classes ?? maxLabel + 1;
  if (numClasses <= maxLabel) throw new InputError(path, `classes=${numClasses} but a label is ${maxLabel}; expected classes > every label`);
  const base = opts.name ?? path;
  return {
    x, featureShape: [d], y, numClasses,
    name: names ? `${base} (classes ${names.map((s, c) => `${c}=${s}`).join(", ")})` : base,
  };
}

/** Reads a CSV dataset (module comment); InputError naming the file on any problem. */
export function readCsv(path: string, opts: CsvOptions = {}): Dataset {
  return parseCsv(new TextDecoder().decode(readInputFile(path, "CSV file")), path, opts);
}
