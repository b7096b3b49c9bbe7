/**
 * The CLI flag of each library argument that library errors name (InputError with
 * `option: true`, src/errors.ts): the library says "theta", the user typed "--weights". `cliMessage`
 * is the line the CLI prints for an InputError, without the "curvlab: " prefix.
 */
import { InputError } from "../errors.ts";

/** Library names whose flag is not "--" + the name in kebab case. */
export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  theta: "--weights",
};

/**
 * The flag a library argument is given by on the command line: OPTION_FLAGS, else "--" and the
 * name in kebab case ("batchSize" is "--batch-size"); a name that is a flag already stays.
 */
export function optionFlag(option: string): string {
  if (option.startsWith("-")) return option;
  return OPTION_FLAGS[option] ?? `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** "<input>: <what was expected>", the input printed as the user typed it. */
export function cliMessage(e: InputError): string {
  return e.option ? `${optionFlag(e.input)}: ${e.detail}` : e.message;
}

/** Runs `f`, rethrowing a library argument's InputError under its flag (what commands throw). */
export function withFlags<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw e instanceof InputError && e.option ? new InputError(optionFlag(e.input), e.detail) : e;
  }
}
