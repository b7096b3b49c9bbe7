/**
 * Python peers (PyTorch, numpy) for the benchmarks: finding an interpreter that has the needed
 * packages, and a client for a long-lived peer process that answers one JSON command per stdin
 * line with one JSON line on stdout, so that a benchmark can interleave the peer's runs with its
 * own (see bench/peers/*.py). The peer times its own calls; the pipe's latency is not measured.
 */
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";

export type PeerAnswer = Record<string, unknown>;

export interface Peer {
  /** Sends one command; resolves with the answer, rejects if the peer answers {error} or dies. */
  ask(message: object): Promise<PeerAnswer>;
  close(): void;
}

/**
 * Interpreters to try: $CURVLAB_PYTHON alone when it is set; otherwise PATH's python3, then the
 * system one (where Debian's python3-torch lives when PATH's python3 is another installation).
 */
export function pythonCandidates(): string[] {
  const chosen = process.env.CURVLAB_PYTHON;
  return chosen ? [chosen] : [...new Set(["python3", "/usr/bin/python3"])];
}

/**
 * The first interpreter on which `check` (Python source, e.g. "import torch") runs without
 * error, or null with the reason of each refusal.
 */
export function findPython(
  check: string,
  candidates: readonly string[] = pythonCandidates(),
): { python: string } | { python: null; why: string } {
  const why: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ["-c", check], { encoding: "utf8", timeout: 120_000 });
    if (r.status === 0) return { python };
    const msg = r.error ? r.error.message : (r.stderr.trim().split("\n").pop() ?? `exit code ${r.status}`);
    why.push(`${python}: ${msg}`);
  }
  return { python: null, why: why.join("; ") };
}

export function startPeer(python: string, script: string, name: string): Peer {
  const proc = spawn(python, [script], { stdio: ["pipe", "pipe", "pipe"] });
  const stderr: string[] = [];
  proc.stderr.setEncoding("utf8").on("data", (s: string) => {
    stderr.push(s);
    if (stderr.length > 50) stderr.shift();
  });
  const lines = createInterface({ input: proc.stdout });
  const pending: { resolve: (a: PeerAnswer) => void; reject: (e: Error) => void }[] = [];
  let dead: Error | null = null;
  lines.on("line", (line) => {
    const p = pending.shift();
    if (!p) return;
    let ans: PeerAnswer;
    try {
      ans = JSON.parse(line) as PeerAnswer;
    } catch {
      p.reject(new Error(`${name} peer: unreadable answer ${JSON.stringify(line.slice(0, 200))}`));
      return;
    }
    if (ans.error) p.reject(new Error(`${name} peer: ${String(ans.error)}`));
    else p.resolve(ans);
  });
  const fail = (e: Error) => {
    dead = e;
    for (const p of pending.splice(0)) p.reject(e);
  };
  proc.on("error", (e) => fail(new Error(`${name} peer: ${e.message}`)));
  proc.on("exit", (code) => fail(new Error(`${name} peer exited (code ${code}): ${stderr.join("").trim().slice(-800)}`)));
  return {
    ask(message) {
      if (dead) return Promise.reject(dead);
      return new Promise((resolve, reject) => {
        pending.push({ resolve, reject });
        proc.stdin.write(JSON.stringify(message) + "\n");
      });
    },
    close() {
      if (!dead) proc.stdin.end();
    },
  };
}
