/**
 * Runs one benchmark module in this process (spawned by harness.ts):
 *   node --import tsx bench/lib/child.ts MODULE OUT.json (describe | VARIANT_INDEX | none) [--quick]
 * `describe` writes { variants } without running anything; otherwise the module's `run` is called
 * with that variant (whose environment the parent has already set) and { result } is written.
 */
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { BenchModule } from "./contract.ts";

const [file, out, which, ...flags] = process.argv.slice(2);
if (!file || !out || !which) throw new Error("usage: child.ts MODULE OUT.json (describe | INDEX | none) [--quick]");
const mod = (await import(pathToFileURL(file).href)) as Partial<BenchModule>;
if (typeof mod.run !== "function") throw new Error(`${file} does not export run()`);
if (which === "describe") {
  writeFileSync(out, JSON.stringify({ variants: mod.variants ?? [] }));
} else {
  const variant = which === "none" ? null : (mod.variants ?? [])[Number(which)] ?? null;
  const result = await mod.run({
    variant,
    quick: flags.includes("--quick"),
    log: (m) => process.stderr.write(`[${variant?.label ?? "run"}] ${m}\n`),
  });
  writeFileSync(out, JSON.stringify({ result }));
}
// Worker pools (engine, peers) must not keep the process alive once the result is written.
process.exit(0);
