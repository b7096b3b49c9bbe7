/**
 * A small, strict option parser for the CLI: `--name value`, `--name=value`, and `--flag` for
 * booleans. Every option declares its type and range here (integer or number bounds, choices, a
 * path that must exist or be creatable); all are checked in one pass before a command reads data,
 * builds a model or creates anything. Unknown options, missing values, malformed or out-of-range
 * numbers and unusable paths are InputErrors naming the option, the value and what was expected.
 */
import { InputError } from "../errors.ts";
import { checkChoice, checkInteger, checkNumber, type NumberBounds } from "../validate.ts";
import { checkInputPath, checkOutputDir } from "./paths.ts";

export type OptionType = "string" | "number" | "int" | "boolean";

export interface OptionSpec {
  readonly type: OptionType;
  readonly help: string;
  readonly default?: string | number | boolean;
  /** For string options: the accepted values. */
  readonly choices?: readonly string[];
  /** Value placeholder in --help, e.g. SPEC. */
  readonly meta?: string;
  /** For int and number options: the accepted range (checked with the value). */
  readonly bounds?: NumberBounds;
  /**
   * For string options naming a path: "file" must be a regular file, "file-or-folder" a regular
   * file or a folder, "out" a folder or a creatable one (nothing is created by the check).
   */
  readonly path?: "file" | "file-or-folder" | "out";
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;
export type ParsedOptions = Record<string, string | number | boolean | undefined>;

export const COMMON_OPTIONS: OptionSpecs = {
  help: { type: "boolean", help: "show this help" },
  threads: { type: "int", help: "Wasm worker threads (default: cores, at most 4)", meta: "N", bounds: { min: 1, max: 256 } },
  "memory-limit": {
    type: "number",
    help: "refuse runs estimated to need more than this many GiB (default: the machine's available memory)",
    meta: "GIB",
    bounds: { above: 0 },
  },
  device: { type: "string", help: "engine device", choices: ["wasm", "webgpu", "cpu"], default: "wasm" },
};

export function parseArgs(argv: readonly string[], specs: OptionSpecs, command: string): ParsedOptions {
  const all = { ...COMMON_OPTIONS, ...specs };
  const out: ParsedOptions = {};
  for (const [name, spec] of Object.entries(all)) if (spec.default !== undefined) out[name] = spec.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      throw new InputError(arg, `unexpected argument to "curvlab ${command}"; options start with -- (see curvlab ${command} --help)`);
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const spec = all[name];
    if (!spec) {
      throw new InputError(`--${name}`, `unknown option for "curvlab ${command}"; expected one of ${Object.keys(all).map((k) => `--${k}`).join(", ")}`);
    }
    if (spec.type === "boolean" && eq < 0) {
      out[name] = true;
      continue;
    }
    const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new InputError(`--${name}`, `expects a value (${spec.meta ?? spec.type})`);
    out[name] = convert(name, spec, raw);
  }
  for (const [name, spec] of Object.entries(all)) {
    const v = out[name];
    if (spec.path === undefined || typeof v !== "string") continue;
    if (spec.path === "out") checkOutputDir(`--${name}`, v);
    else checkInputPath(`--${name}`, v, { folder: spec.path === "file-or-folder" });
  }
  return out;
}

function convert(name: string, spec: OptionSpec, raw: string): string | number | boolean {
  const input = `--${name}`;
  switch (spec.type) {
    case "boolean":
      if (raw === "true") return true;
      if (raw === "false") return false;
      throw new InputError(input, `expected true or false, got "${raw}"`);
    case "number": {
      const v = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(v)) throw new InputError(input, `expected a number, got "${raw}"`);
      return spec.bounds ? checkNumber(input, v, spec.bounds) : v;
    }
    case "int": {
      const v = Number(raw);
      if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(v)) throw new InputError(input, `expected an integer, got "${raw}"`);
      return spec.bounds ? checkInteger(input, v, spec.bounds) : v;
    }
    case "string":
      return spec.choices ? checkChoice(input, raw, spec.choices) : raw;
  }
}

/** Help output is wrapped to this many columns (a standard terminal shows 80-120). */
export const HELP_WIDTH = 100;

/** Column where option help starts; longer option names put their help on the next line. */
const MAX_NAME_COLUMN = 32;

/**
 * Greedy word wrap of `text` to `width` columns: breaks only at spaces (a word longer than a
 * line stays whole, on its own line), the first line after `first`, the others after `rest`.
 */
export function wrapText(text: string, width: number, first = "", rest = first): string[] {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const w of words) {
    if (!empty && line.length + 1 + w.length > width) {
      lines.push(line);
      line = rest + w;
    } else {
      line += (empty ? "" : " ") + w;
    }
    empty = false;
  }
  lines.push(line);
  return lines.map((l) => l.trimEnd());
}

/** A table of `[name, description]` rows: names padded to one column, descriptions wrapped beside them. */
export function formatRows(rows: readonly (readonly [string, string])[], width = HELP_WIDTH): string[] {
  const column = Math.min(Math.max(...rows.map((r) => r[0].length)) + 2, MAX_NAME_COLUMN);
  const indent = " ".repeat(column);
  return rows.flatMap(([name, text]) =>
    name.length + 2 <= column
      ? wrapText(text, width, name.padEnd(column), indent)
      : [name, ...wrapText(text, width, indent)],
  );
}

/**
 * A command line wrapped shell-style: continued lines end in " \" and are indented, so the
 * example can still be pasted as it is. An option and its value stay on one line.
 */
export function wrapCommand(line: string, width: number, indent = "  "): string[] {
  const units: string[] = [];
  for (const w of line.trim().split(/ +/)) {
    const last = units.length - 1;
    if (last > 0 && units[last].startsWith("--") && !units[last].includes(" ") && !w.startsWith("-")) units[last] += " " + w;
    else units.push(w);
  }
  const lines: string[] = [];
  let cur = indent + units[0];
  for (const u of units.slice(1)) {
    if (cur.length + 1 + u.length + 2 > width) {
      lines.push(cur + " \\");
      cur = indent + "    " + u;
    } else cur += " " + u;
  }
  lines.push(cur);
  return lines;
}

export function formatHelp(command: string, summary: string, specs: OptionSpecs, examples: readonly string[] = []): string {
  const all = { ...specs, ...COMMON_OPTIONS };
  const rows = Object.entries(all).map(([name, s]): [string, string] => {
    const meta = s.type === "boolean" ? "" : ` ${s.meta ?? (s.choices ? s.choices.join("|") : s.type.toUpperCase())}`;
    const def = s.default !== undefined && s.type !== "boolean" ? ` (default: ${s.default})` : "";
    return [`  --${name}${meta}`, `${s.help}${def}`];
  });
  return [
    ...wrapText(`usage: curvlab ${command} [options]`, HELP_WIDTH),
    "",
    ...wrapText(summary, HELP_WIDTH),
    "",
    "options:",
    ...formatRows(rows),
    ...(examples.length ? ["", "examples:", ...examples.flatMap((e) => wrapCommand(e, HELP_WIDTH))] : []),
    "",
  ].join("\n");
}
