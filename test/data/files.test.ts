import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeFolders, readInputFile, writeFileAtomic } from "../../src/data/files.ts";
import { throwsInput, withTmp } from "./helpers.ts";

test("readInputFile: bytes, or an InputError naming the path", () => {
  withTmp((dir) => {
    writeFileSync(join(dir, "a.bin"), Buffer.from([1, 2, 3]));
    assert.deepEqual([...readInputFile(join(dir, "a.bin"))], [1, 2, 3]);
    throwsInput(() => readInputFile(join(dir, "b.bin"), "weights file"), join(dir, "b.bin"), "cannot read weights file: no such file");
    throwsInput(() => readInputFile(dir), "is a folder");
  });
});

test("writeFileAtomic: writes all chunks, replaces the old file, leaves no temporary file", () => {
  withTmp((dir) => {
    const p = join(dir, "out.bin");
    writeFileSync(p, "old");
    writeFileAtomic(p, [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])]);
    assert.deepEqual([...readFileSync(p)], [1, 2, 3]);
    assert.deepEqual(readdirSync(dir), ["out.bin"]);
    // Renaming onto a folder fails: the temporary file is removed, the folder untouched.
    mkdirSync(join(dir, "taken"));
    throwsInput(() => writeFileAtomic(join(dir, "taken"), [new Uint8Array([1])]), join(dir, "taken"), "cannot write file");
    assert.deepEqual(readdirSync(dir).sort(), ["out.bin", "taken"]);
    throwsInput(() => writeFileAtomic(join(dir, "missing", "x.bin"), [new Uint8Array(1)]), "cannot write file", "no such file");
  });
});

test("makeFolders creates missing parents, accepts existing ones, and throws (never hangs) where it cannot", () => {
  const root = mkdtempSync(join(tmpdir(), "curvlab-folders-"));
  try {
    const deep = join(root, "a", "b", "c");
    makeFolders(deep);
    assert.ok(statSync(deep).isDirectory());
    makeFolders(deep); // exists: nothing to do
    const file = join(root, "file");
    writeFileSync(file, "x");
    assert.throws(() => makeFolders(join(file, "sub")), (e: NodeJS.ErrnoException) => e.code === "ENOTDIR");
    assert.throws(() => makeFolders(file), (e: NodeJS.ErrnoException) => e.code === "EEXIST" && e.path === file);
    // Node's mkdirSync(..., { recursive: true }) spins forever here (Node 20).
    if (existsSync("/proc/self")) assert.throws(() => makeFolders("/proc/curvlab-test/x"), (e: NodeJS.ErrnoException) => e.code === "ENOENT");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
