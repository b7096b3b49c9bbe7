/**
 * Writing a command's output directory all at once: every file is first written beside its
 * destination under a temporary name, then renamed, so an error leaves nothing half-written. A
 * filesystem error (EEXIST, ENOTDIR, EACCES, ENOSPC, EROFS, ...) is an InputError naming the path.
 */
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fsErrorCode, fsInputError } from "./paths.ts";
import { makeFolders } from "../data/files.ts";

export function writeOutputs(dir: string, files: Readonly<Record<string, string | Uint8Array>>): string[] {
  try {
    makeFolders(dir);
  } catch (e) {
    throw fsErrorCode(e) ? fsInputError(e, dir, "create the output folder") : e;
  }
  const temps: [string, string][] = [];
  try {
    for (const [name, content] of Object.entries(files)) {
      const final = join(dir, name);
      const tmp = join(dir, `.${name}.${process.pid}.tmp`);
      temps.push([tmp, final]);
      writeFileSync(tmp, content);
    }
    for (const [tmp, final] of temps) renameSync(tmp, final);
  } catch (e) {
    for (const [tmp] of temps) rmSync(tmp, { force: true });
    throw fsErrorCode(e) ? fsInputError(e, dir, "write in the output folder") : e;
  }
  return temps.map(([, f]) => f);
}
