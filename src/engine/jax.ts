/**
 * The one door to @jax-js/jax. jax-js creates its Wasm backend (and decides on its worker pool)
 * when it is first imported, so the Node shims and the worker adapter must be in place before:
 * every curvlab module imports the engine from here, never from "@jax-js/jax" directly.
 */
import "./setup.ts";
export * from "@jax-js/jax";
