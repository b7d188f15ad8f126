// Copyright fluxbase authors.
// `navigator` and its interface `Navigator`, modelled on denoland/deno
// runtime/js/98_global_scope_window.js, cut down to what an edge function may read:
// `userAgent`, `hardwareConcurrency`, `language` and `languages`. No `platform`,
// `userAgentData`, `locks` or `gpu`. The values are read on first use, not while the
// startup snapshot is built.

import { core, primordials } from "ext:core/mod.js";
import {
  op_navigator_hardware_concurrency,
  op_navigator_user_agent,
} from "ext:core/ops";
const {
  ObjectDefineProperties,
  ObjectPrototypeIsPrototypeOf,
  SymbolFor,
} = primordials;

const webidl = core.loadExtScript("ext:deno_webidl/00_webidl.js");
const consoleScript = core.loadExtScript("ext:deno_web/01_console.js");

// Functions do not see the host's locale: the language is fixed, and is the default
// locale of the isolate's Intl.
const LANGUAGE = "en-US";

class Navigator {
  constructor() {
    webidl.illegalConstructor();
  }

  [SymbolFor("Deno.privateCustomInspect")](inspect, inspectOptions) {
    return inspect(
      consoleScript.createFilteredInspectProxy({
        object: this,
        evaluate: ObjectPrototypeIsPrototypeOf(NavigatorPrototype, this),
        keys: ["hardwareConcurrency", "userAgent", "language", "languages"],
      }),
      inspectOptions,
    );
  }
}
const NavigatorPrototype = Navigator.prototype;

let userAgent = null;
let hardwareConcurrency = null;

/** A getter of `Navigator.prototype` that checks its receiver is the navigator. */
function brandedGetter(get) {
  return {
    __proto__: null,
    configurable: true,
    enumerable: true,
    get() {
      webidl.assertBranded(this, NavigatorPrototype);
      return get();
    },
  };
}

ObjectDefineProperties(NavigatorPrototype, {
  hardwareConcurrency: brandedGetter(
    () => hardwareConcurrency ??= op_navigator_hardware_concurrency(),
  ),
  userAgent: brandedGetter(() => userAgent ??= op_navigator_user_agent()),
  language: brandedGetter(() => LANGUAGE),
  languages: brandedGetter(() => [LANGUAGE]),
});

/** The one `navigator` of the isolate. */
const navigator = webidl.createBranded(Navigator);

export { Navigator, navigator };
