/**
 * The CLI flag of each library argument that library errors name (InputError with
 * `option: true`, src/errors.ts): the library says "theta", the user typed "--weights". `cliMessage`
 * is the line the CLI prints for an InputError, without the "curvlab: " prefix.
 */
import { InputError } from "../errors.ts";

export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  theta: "--weights",
  data: "--data",
  operator: "--operator",
};

/** The flag a library argument is given by on the command line (the name itself if unmapped). */
export function optionFlag(option: string): string {
  return OPTION_FLAGS[option] ?? option;
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
