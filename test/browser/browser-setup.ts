/**
 * What the browser tests share: Debian's chromium (or CURVLAB_CHROMIUM), its headless flags with
 * background networking and the other phone-home features off, the lab's Vite config, a free
 * port on 127.0.0.1, and the skip reason where chromium is missing (a failure instead under
 * CURVLAB_REQUIRE_BROWSER=1, which CI sets after installing it).
 */
import { existsSync } from "node:fs";
import { createServer as netServer } from "node:net";
import { fileURLToPath } from "node:url";

export const CHROMIUM = process.env.CURVLAB_CHROMIUM ?? "/usr/bin/chromium";
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CONFIG = fileURLToPath(new URL("../../web/vite.config.ts", import.meta.url));
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
  "--disable-sync", "--no-first-run", "--headless=new",
];

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const missing: string | false = existsSync(CHROMIUM) ? false : `chromium not found at ${CHROMIUM} (apt install chromium, or set CURVLAB_CHROMIUM)`;
if (missing && process.env.CURVLAB_REQUIRE_BROWSER === "1") throw new Error(missing);
