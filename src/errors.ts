/**
 * Bad input from a user (a spec, a file, an option, data): one clear message naming the input and
 * what was expected. The CLI prints `curvlab: <message>` and exits with code 2, writing nothing.
 */
export class InputError extends Error {
  /** The input at fault, e.g. "--model", "weights.safetensors", "data: labels". */
  readonly input: string;
  constructor(input: string, message: string) {
    super(`${input}: ${message}`);
    this.name = "InputError";
    this.input = input;
  }
}
