/**
 * Help output: every command's and study's --help fits in 100 columns and loses no word of the
 * option descriptions; `curvlab --version` prints package.json's version. The commands run
 * through main() in one child process (the bin itself is run by test/package/package.test.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { formatHelp, wrapCommand, wrapText, HELP_WIDTH, type OptionSpecs } from "../../src/cli/args.ts";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).href;

/**
 * Runs main(argv) for each argv in one child process (the test runner reports on this process's
 * stdout, so it is not captured here) and returns each exit code and stdout.
 */
function capture(runs: readonly string[][]): { code: number; out: string }[] {
  const script = `
    const { main } = await import(${JSON.stringify(MAIN)});
    const write = process.stdout.write.bind(process.stdout);
    const results = [];
    for (const argv of ${JSON.stringify(runs)}) {
      let out = "";
      process.stdout.write = (s) => ((out += String(s)), true);
      const code = await main(argv);
      process.stdout.write = write;
      results.push({ code, out });
    }
    write(JSON.stringify(results));
  `;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const words = (s: string): string => s.split(/\s+/).filter((w) => w.length > 0).join(" ");

function assertFits(text: string, what: string): void {
  for (const line of text.split("\n")) {
    assert.ok(line.length <= HELP_WIDTH, `${what}: ${line.length} columns: ${line}`);
  }
}

test("wrapText breaks at spaces only, keeps every word, and leaves an overlong word whole", () => {
  const text = "alpha beta gamma ".repeat(20) + "x".repeat(130) + " tail";
  const lines = wrapText(text, 40, "> ", "  ");
  assert.ok(lines.length > 10);
  for (const l of lines) assert.ok(l.length <= 40 || l.trim() === "x".repeat(130), l);
  assert.ok(lines[0].startsWith("> alpha"));
  assert.ok(lines.slice(1).every((l) => l.startsWith("  ")));
  assert.equal(words(lines.join(" ").replace(/^>/, "")), words(text));
});

test("formatHelp wraps long descriptions beside the option and puts long option names on their own line", () => {
  const specs: OptionSpecs = {
    data: { type: "string", meta: "SPEC", help: "data spec: " + "gmm:k=5,d=20,n=200,sep=3,seed=0 | mnist:n=10000 | npy:X.npy,y.npy | ".repeat(4) },
    mode: { type: "string", choices: ["first-very-long-choice", "second-very-long-choice", "third"], help: "which mode", default: "third" },
  };
  const help = formatHelp("demo", "A summary. ".repeat(30), specs, ["curvlab demo " + "--data gmm:k=5,d=20,n=200,sep=3,seed=0 ".repeat(5)]);
  assertFits(help, "demo --help");
  const lines = help.split("\n");
  const data = lines.findIndex((l) => l.startsWith("  --data SPEC "));
  assert.ok(data > 0, help);
  const column = lines[data].indexOf("data spec:");
  assert.ok(column > "  --data SPEC".length, lines[data]);
  assert.ok(lines[data + 1].startsWith(" ".repeat(column)) && lines[data + 1][column] !== " ", "continuations start under the description");
  const mode = lines.indexOf("  --mode first-very-long-choice|second-very-long-choice|third");
  assert.ok(mode > 0, help);
  assert.match(lines[mode + 1], /^ {20,}which mode \(default: third\)$/);
  // Every word of every description is there.
  for (const s of Object.values(specs)) assert.ok(words(help).includes(words(s.help)), s.help);
  assert.ok(words(help).includes(words("A summary. ".repeat(30))));
});

test("wrapCommand continues lines with a backslash, keeps options with their values, and pastes back to the command", () => {
  const cmd = "curvlab hessian --model mlp:20-32-5:tanh --data gmm:k=5,d=20,n=200,sep=3,seed=0 --weights run/model.safetensors --dense --operator ggn --out out/";
  const lines = wrapCommand(cmd, 60);
  assert.ok(lines.length >= 3, lines.join("\n"));
  for (const l of lines) assert.ok(l.length <= 60, l);
  for (const l of lines.slice(0, -1)) assert.ok(l.endsWith(" \\"), l);
  for (const pair of ["--weights run/model.safetensors", "--operator ggn", "--data gmm:k=5,d=20,n=200,sep=3,seed=0"]) {
    assert.ok(lines.some((l) => l.includes(pair)), `${pair} split: ${lines.join("\n")}`);
  }
  assert.equal(lines.map((l) => l.replace(/ \\$/, "").trim()).join(" "), cmd);
});

test("every command's and every study's --help fits in 100 columns", () => {
  const [top, study] = capture([["--help"], ["study", "--help"]]);
  assert.equal(top.code, 0);
  assertFits(top.out, "curvlab --help");
  assertFits(study.out, "curvlab study --help");
  const commands = top.out.split("\n").flatMap((l) => /^ {2}([a-z][a-z-]*) {2,}/.exec(l)?.[1] ?? []);
  assert.ok(commands.length >= 11 && commands.includes("hessian") && commands.includes("study"), commands.join(","));
  const studies = /studies: (.*)/.exec(study.out)?.[1].split(", ") ?? [];
  assert.ok(studies.includes("hessian") && studies.length >= 4, studies.join(","));
  const runs = [...commands.map((c) => [c, "--help"]), ...studies.map((s) => ["study", s, "--help"])];
  capture(runs).forEach((r, i) => {
    const what = `curvlab ${runs[i].join(" ")}`;
    assert.equal(r.code, 0, what);
    assert.match(r.out, /^usage: curvlab /, what);
    assertFits(r.out, what);
  });
});

test("--weights help names every accepted format", () => {
  const names = ["hessian", "train", "landscape", "sharpness", "align", "density"];
  capture(names.map((n) => [n, "--help"])).forEach((r, i) => {
    const out = words(r.out);
    const at = out.indexOf("--weights FILE");
    assert.ok(at >= 0, names[i]);
    const help = out.slice(at, at + 130);
    for (const f of [".safetensors", ".npz", "checkpoint directory"]) assert.ok(help.includes(f), `${names[i]}: ${help}`);
  });
});

test("--version and -V print package.json's version", () => {
  const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  for (const r of capture([["--version"], ["-V"]])) {
    assert.equal(r.code, 0);
    assert.equal(r.out, `curvlab ${version}\n`);
  }
});
