/** Runs the real `curvlab` bin in a child process and captures its output. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/curvlab.mjs", import.meta.url));

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 300_000,
    env: { ...process.env, CURVLAB_THREADS: process.env.CURVLAB_THREADS ?? "2" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
