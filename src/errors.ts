/**
 * Bad input from a user (a spec, a file, an option, data): one clear message naming the input and
 * what was expected. The CLI prints `curvlab: <message>` and exits with code 2, writing nothing.
 *
 * Library code names a function's argument by its library name ("theta", "data", "operator") and
 * marks it `{ option: true }`; the CLI prints such an input as its flag (cli/flags.ts: "theta" is
 * "--weights"), so the library knows nothing of the command line.
 */
export class InputError extends Error {
  /** The input at fault, e.g. "model", "weights.safetensors", "data: labels", "theta". */
  readonly input: string;
  /** What was expected, without the input's name. */
  readonly detail: string;
  /** Whether `input` is a library argument's name, which the CLI prints as its flag. */
  readonly option: boolean;
  constructor(input: string, message: string, opts: { readonly option?: boolean } = {}) {
    super(`${input}: ${message}`);
    this.name = "InputError";
    this.input = input;
    this.detail = message;
    this.option = opts.option ?? false;
  }
}

/**
 * An InputError naming a library option ("steps", "batchSize", "theta"), which the CLI prints as
 * its flag (cli/flags.ts: "--steps", "--batch-size", "--weights"). A name that is already a flag
 * ("--top") is printed as it is.
 */
export function optionError(option: string, message: string): InputError {
  return new InputError(option, message, { option: true });
}
