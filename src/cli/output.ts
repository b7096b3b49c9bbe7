/**
 * Writing a command's output directory all at once: every file is first written beside its
 * destination under a temporary name, then renamed, so an error leaves nothing half-written.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function writeOutputs(dir: string, files: Readonly<Record<string, string | Uint8Array>>): string[] {
  mkdirSync(dir, { recursive: true });
  const temps: [string, string][] = [];
  try {
    for (const [name, content] of Object.entries(files)) {
      const final = join(dir, name);
      const tmp = join(dir, `.${name}.${process.pid}.tmp`);
      writeFileSync(tmp, content);
      temps.push([tmp, final]);
    }
    for (const [tmp, final] of temps) renameSync(tmp, final);
  } catch (e) {
    for (const [tmp] of temps) rmSync(tmp, { force: true });
    throw e;
  }
  return temps.map(([, f]) => f);
}
