/** The machine a benchmark ran on, for BENCHMARKS.md: CPU model, cores, memory, Node, engine. */
import { readFileSync } from "node:fs";
import { availableParallelism, totalmem, platform, arch } from "node:os";

export interface MachineInfo {
  readonly cpu: string;
  /** Logical cores this process may use. */
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly jaxjs: string;
}

function cpuModel(): string {
  try {
    const lines = readFileSync("/proc/cpuinfo", "utf8").split("\n");
    const line = lines.find((l) => l.startsWith("model name"));
    const flags = lines.find((l) => l.startsWith("flags"))?.split(":")[1]?.trim().split(/\s+/) ?? [];
    const simd = ["avx512f", "avx2", "avx", "sse4_2"].find((f) => flags.includes(f));
    const name = line ? line.split(":")[1]!.trim() : "unknown CPU";
    return simd ? `${name} (${simd === "avx512f" ? "AVX-512" : simd.toUpperCase().replace("_", ".")})` : name;
  } catch {
    return "unknown CPU";
  }
}

function jaxjsVersion(): string {
  try {
    // The package's exports do not include package.json: read it from node_modules.
    const url = new URL("../../node_modules/@jax-js/jax/package.json", import.meta.url);
    return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpuModel(),
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${arch()}`,
    node: process.version,
    jaxjs: jaxjsVersion(),
  };
}
