/**
 * Progress on stderr for long runs: a bar redrawn in place on a terminal, a line every few
 * seconds otherwise (logs, CI), nothing with `quiet`. Stdout stays clean for --json.
 */
export interface Progress {
  update(done: number, total: number, detail?: string): void;
  done(message?: string): void;
}

export function progress(label: string, opts: { quiet?: boolean } = {}): Progress {
  const tty = !!process.stderr.isTTY;
  const t0 = performance.now();
  let last = 0;
  let drawn = false;
  return {
    update(done, total, detail = "") {
      if (opts.quiet) return;
      const now = performance.now();
      if (done < total && now - last < (tty ? 100 : 5000)) return;
      last = now;
      const frac = total > 0 ? done / total : 0;
      const elapsed = (now - t0) / 1000;
      const eta = frac > 0 ? elapsed * (1 / frac - 1) : 0;
      const width = 24;
      const bar = "#".repeat(Math.round(frac * width)).padEnd(width, ".");
      const line = `${label} [${bar}] ${done}/${total} ${elapsed.toFixed(1)}s${done < total ? ` eta ${eta.toFixed(0)}s` : ""}${detail ? ` ${detail}` : ""}`;
      if (tty) {
        process.stderr.write(`\r${line}\x1b[K`);
        drawn = true;
      } else process.stderr.write(`${line}\n`);
    },
    done(message) {
      if (opts.quiet) return;
      if (tty && drawn) process.stderr.write("\r\x1b[K");
      if (message) process.stderr.write(`${message}\n`);
    },
  };
}
