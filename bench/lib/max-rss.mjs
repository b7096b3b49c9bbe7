// Preload for a child process (`node --import <this file> ...`): at exit, appends the process's
// peak resident set size (KiB, getrusage's ru_maxrss: the Wasm memory and worker threads
// included) to the file named by CURVLAB_MAXRSS_FILE.
import { appendFileSync } from "node:fs";

const file = process.env.CURVLAB_MAXRSS_FILE;
if (file) process.on("exit", () => appendFileSync(file, `${process.resourceUsage().maxRSS}\n`));
