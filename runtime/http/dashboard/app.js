// The dashboard's frame: sign-in and sign-out, the navigation, and which view the location's
// hash (#/secrets, #/settings, #/functions, #/jobs, #/logs) shows. Views live in their own
// modules; each exports `render(container)`.

import { api, ApiError, serviceKey, signIn, signOut, whenUnauthorized } from "./api.js";
import { replace } from "./dom.js";
import * as secrets from "./secrets.js";
import * as settings from "./settings.js";
import * as handlers from "./handlers.js";
import * as logs from "./logs.js";

const VIEWS = {
  secrets: secrets.render,
  settings: settings.render,
  functions: handlers.renderFunctions,
  jobs: handlers.renderJobs,
  logs: logs.render,
};

const $ = (id) => document.getElementById(id);

function showSignIn(message = "") {
  $("nav").hidden = true;
  $("sign-out").hidden = true;
  replace($("view"));
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message;
  $("sign-in-key").focus();
}

async function showView() {
  if (!serviceKey()) {
    showSignIn();
    return;
  }
  const name = window.location.hash.replace(/^#\/?/, "") || "secrets";
  const render = VIEWS[name] ?? VIEWS.secrets;
  $("sign-in").hidden = true;
  $("nav").hidden = false;
  $("sign-out").hidden = false;
  for (const link of $("nav").querySelectorAll("a")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const view = $("view");
  replace(view);
  view.dataset.view = name;
  await render(view);
}

async function submitSignIn(event) {
  event.preventDefault();
  const input = $("sign-in-key");
  const key = input.value.trim();
  $("sign-in-error").textContent = "";
  try {
    // Any admin route tells whether the key is the host's.
    await api("GET", "/api/v1/admin/settings/secrets", { key });
  } catch (error) {
    input.value = "";
    const text = error instanceof ApiError && error.status === 401
      ? "That service key is wrong: the server refused it."
      : `Cannot sign in: ${error.message}`;
    showSignIn(text);
    return;
  }
  input.value = "";
  signIn(key);
  if (!window.location.hash) window.location.hash = "#/secrets";
  await showView();
  $("main").focus();
}

function start() {
  $("sign-in-form").addEventListener("submit", submitSignIn);
  $("sign-out").addEventListener("click", () => {
    signOut();
    showSignIn("Signed out.");
  });
  whenUnauthorized(() => {
    signOut();
    showSignIn("The server refused the service key; sign in again.");
  });
  window.addEventListener("hashchange", showView);
  showView();
}

start();
