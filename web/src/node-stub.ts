/**
 * Stand-ins for the Node built-ins (node:fs, node:path, node:worker_threads, ...) that some
 * library modules import for their Node-only paths: reading files, writing outputs, thread
 * helpers. The lab never takes those paths (data comes from generators or fetched files), so
 * every function here throws a clear error if it is ever reached in the page.
 */
function nodeOnly(name: string): (...args: unknown[]) => never {
  return () => {
    throw new Error(`${name} is Node-only and not available in the browser lab`);
  };
}

export const readFileSync = nodeOnly("fs.readFileSync");
export const openSync = nodeOnly("fs.openSync");
export const closeSync = nodeOnly("fs.closeSync");
export const fsyncSync = nodeOnly("fs.fsyncSync");
export const writeSync = nodeOnly("fs.writeSync");
export const renameSync = nodeOnly("fs.renameSync");
export const rmSync = nodeOnly("fs.rmSync");
export const mkdirSync = nodeOnly("fs.mkdirSync");
export const statSync = nodeOnly("fs.statSync");
export const fstatSync = nodeOnly("fs.fstatSync");
export const lstatSync = nodeOnly("fs.lstatSync");
export const readSync = nodeOnly("fs.readSync");
export const readdirSync = nodeOnly("fs.readdirSync");
export const existsSync = nodeOnly("fs.existsSync");
export const mkdir = nodeOnly("fs.mkdir");
export const rename = nodeOnly("fs.rename");
export const rm = nodeOnly("fs.rm");
export const writeFileSync = nodeOnly("fs.writeFileSync");
export const writeFile = nodeOnly("fs.writeFile");
export const readFile = nodeOnly("fs.readFile");
export const join = nodeOnly("path.join");
export const dirname = nodeOnly("path.dirname");
export const basename = nodeOnly("path.basename");
export const resolve = nodeOnly("path.resolve");
export const createRequire = nodeOnly("module.createRequire");
export const inflateRawSync = nodeOnly("zlib.inflateRawSync");
export const resolveObjectURL = nodeOnly("buffer.resolveObjectURL");
export const fileURLToPath = nodeOnly("url.fileURLToPath");
export const cpus = nodeOnly("os.cpus");
export const availableParallelism = nodeOnly("os.availableParallelism");
export const tmpdir = nodeOnly("os.tmpdir");
export const userInfo = nodeOnly("os.userInfo");
export const constants = {};
export class Worker {
  constructor() {
    throw new Error("worker_threads.Worker is Node-only and not available in the browser lab");
  }
}
export default {};
