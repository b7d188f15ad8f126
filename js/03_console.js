// Copyright fluxbase authors.
// The console of a function: deno_web's Console writing to the Rust-side sink
// (`op_console_write`, which redacts secret values and bounds what it keeps),
// with the arguments of every call bounded before deno_web formats them.
//
// deno_web formats a string argument whole and copies the result into the
// heap to print it. A huge string (say 50 MB) would need that much again; past
// the heap limit the formatter's allocation fails where it cannot fail
// gracefully, and the whole host aborts. So the string arguments of one call
// share a budget. A longer one is cut by `op_console_clip`, which sees only
// its start (the budget plus the longest secret value), redacts it, and never
// cuts inside a secret value, so no part of one is left behind. Past
// `MAX_ARGUMENTS` arguments, the rest are left out.

import { primordials } from "ext:core/mod.js";
import {
  op_console_clip,
  op_console_longest_secret,
  op_console_write,
} from "ext:core/ops";
const {
  ArrayPrototypePush,
  ObjectKeys,
  ReflectApply,
  SafeArrayIterator,
  StringPrototypeSlice,
} = primordials;

/**
 * UTF-16 units of string arguments one console call formats; the rest is cut. A little under
 * the sink's line limit (16 KiB, `MAX_CONSOLE_LINE_BYTES`), so that the note of the cut fits.
 */
const MAX_STRING_UNITS = 16000;
/** Arguments one console call formats; the rest are left out. */
const MAX_ARGUMENTS = 100;

/** `args` with long strings cut and surplus arguments left out. */
function bounded(args) {
  let budget = MAX_STRING_UNITS;
  const kept = [];
  const count = args.length < MAX_ARGUMENTS ? args.length : MAX_ARGUMENTS;
  for (let i = 0; i < count; i++) {
    let arg = args[i];
    if (typeof arg === "string" && arg.length > budget) {
      // Once the budget is spent, a string is not even looked at.
      const head = budget > 0
        ? op_console_clip(
          StringPrototypeSlice(arg, 0, budget + op_console_longest_secret()),
          budget,
        )
        : "";
      arg = `${head}\u2026 [cut: ${arg.length} characters in all]`;
      budget = 0;
    } else if (typeof arg === "string") {
      budget -= arg.length;
    }
    ArrayPrototypePush(kept, arg);
  }
  if (args.length > count) {
    ArrayPrototypePush(
      kept,
      `\u2026 [${args.length - count} more arguments not shown]`,
    );
  }
  return kept;
}

/** A console (instance of deno_web's `Console`) whose every method bounds its arguments. */
function createConsole(Console) {
  const console = new Console((msg, level) => op_console_write(level, msg));
  for (const name of new SafeArrayIterator(ObjectKeys(console))) {
    const method = console[name];
    if (typeof method === "function") {
      console[name] = (...args) => ReflectApply(method, console, bounded(args));
    }
  }
  return console;
}

export { createConsole };
