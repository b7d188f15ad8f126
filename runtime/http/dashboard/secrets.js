// The function secrets view: list (scope and namespace filters, search), create, new value,
// description and expiry, delete with confirmation, history and rollback with check-and-set.
// A value is typed into a password field, sent in a request body and cleared from the field
// as soon as it is sent; it is never displayed, put in a URL, or kept anywhere else.

import { api, ApiError, segment } from "./api.js";
import { date, expiry, field, h, messages, replace, table } from "./dom.js";

const PATH = "/api/v1/admin/secrets";

/** The query that addresses one secret (its namespace, if it has one). */
function where(meta) {
  return meta.namespace ? { namespace: meta.namespace } : {};
}

/** How a secret is named on the page: NAME or namespace/NAME. */
function label(meta) {
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}

/** Renders the view into `view`. */
export async function render(view) {
  const state = { scope: "", namespace: "", search: "", list: [] };
  const status = messages("secrets-message");
  const listArea = h("div", { id: "secrets-list" });
  const panel = h("div", { id: "secret-panel" });

  const scope = h("select", { id: "filter-scope" },
    h("option", { value: "" }, "all"), h("option", { value: "global" }, "global"),
    h("option", { value: "namespace" }, "namespace"));
  const namespace = h("input", { id: "filter-namespace", type: "text", placeholder: "any" });
  const search = h("input", { id: "filter-search", type: "search", placeholder: "name or description" });

  async function load() {
    try {
      state.list = await api("GET", PATH, { query: { scope: state.scope, namespace: state.namespace } });
      draw();
    } catch (error) {
      status.show(`Cannot list secrets: ${error.message}`, "error");
    }
  }

  function draw() {
    const needle = state.search.toLowerCase();
    const shown = state.list.filter((m) =>
      !needle || m.name.toLowerCase().includes(needle) || (m.description ?? "").toLowerCase().includes(needle));
    const rows = shown.map((meta) => h("tr", { "data-secret": label(meta), class: meta.expired ? "expired" : "" },
      h("th", { scope: "row" }, meta.name),
      h("td", {}, meta.scope),
      h("td", {}, meta.namespace ?? ""),
      h("td", { class: "num" }, meta.version),
      h("td", {}, meta.description ?? ""),
      h("td", {}, expiry(meta)),
      h("td", {}, date(meta.updated_at)),
      h("td", { class: "actions" },
        h("button", { type: "button", class: "edit", "aria-label": `Edit ${label(meta)}`, onclick: () => edit(meta) }, "Edit"),
        h("button", { type: "button", class: "history", "aria-label": `History of ${label(meta)}`, onclick: () => history(meta) }, "History"),
        h("button", { type: "button", class: "delete danger", "aria-label": `Delete ${label(meta)}`, onclick: () => confirmDelete(meta) }, "Delete"))));
    replace(listArea, table(`${shown.length} of ${state.list.length} secrets`,
      ["Name", "Scope", "Namespace", "Version", "Description", "Expires", "Updated", "Actions"], rows,
      state.list.length ? "No secret matches the search." : "No secrets yet."));
  }

  function createForm() {
    const name = h("input", { id: "new-name", type: "text", required: true, autocomplete: "off", pattern: "[A-Za-z_][A-Za-z0-9_]*" });
    const ns = h("input", { id: "new-namespace", type: "text", autocomplete: "off", placeholder: "empty: global" });
    const value = h("input", { id: "new-value", type: "password", required: true, autocomplete: "new-password" });
    const description = h("input", { id: "new-description", type: "text", autocomplete: "off" });
    const expires = h("input", { id: "new-expires", type: "text", autocomplete: "off", placeholder: "30d or 2027-01-01T00:00:00Z" });
    const form = h("form", { id: "secret-create", class: "card" },
      h("h3", {}, "New secret"),
      field("Name", name), field("Namespace", ns), field("Value", value),
      field("Description", description), field("Expires", expires),
      h("button", { type: "submit", id: "new-submit" }, "Create"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { name: name.value.trim(), value: value.value };
      // The value leaves the page now: it is in the request body only.
      value.value = "";
      if (ns.value.trim()) body.namespace = ns.value.trim();
      if (description.value) body.description = description.value;
      if (expires.value.trim()) body.expires_at = expires.value.trim();
      try {
        const meta = await api("POST", PATH, { body });
        form.reset();
        status.show(`Created ${label(meta)} (version ${meta.version}).`);
        await load();
      } catch (error) {
        status.show(`Cannot create the secret: ${error.message}`, "error");
      }
    });
    return form;
  }

  function edit(meta) {
    const value = h("input", { id: "edit-value", type: "password", autocomplete: "new-password", placeholder: "empty: keep the value" });
    const description = h("input", { id: "edit-description", type: "text", autocomplete: "off", value: meta.description ?? "" });
    const expires = h("input", { id: "edit-expires", type: "text", autocomplete: "off", value: meta.expires_at ?? "", placeholder: "empty: never" });
    const form = h("form", { id: "secret-edit", class: "card" },
      h("h3", {}, `Edit ${label(meta)} (version ${meta.version})`),
      h("p", { class: "hint" }, "A new value writes a new version, only if the secret is still at version ",
        String(meta.version), "; without one, description and expiry change."),
      field("New value", value), field("Description", description), field("Expires", expires),
      h("button", { type: "submit", id: "edit-submit" }, "Save"),
      h("button", { type: "button", onclick: () => replace(panel) }, "Cancel"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const newValue = value.value;
      value.value = "";
      const body = { description: description.value || null };
      if (newValue) {
        body.value = newValue;
        body.if_version = meta.version;
        if (expires.value.trim()) body.expires_at = expires.value.trim();
      } else {
        body.expires_at = expires.value.trim() || null;
      }
      try {
        const updated = await api("PUT", `${PATH}/${segment(meta.name)}`, { query: where(meta), body });
        replace(panel);
        status.show(newValue
          ? `Saved a new value of ${label(updated)}: version ${updated.version}.`
          : `Saved the description and expiry of ${label(updated)}.`);
        await load();
      } catch (error) {
        status.show(conflictText(error, `Cannot save ${label(meta)}`), "error");
        if (error.status === 409) await load();
      }
    });
    replace(panel, form);
    value.focus();
  }

  async function history(meta) {
    let versions;
    try {
      versions = await api("GET", `${PATH}/${segment(meta.name)}/history`, { query: where(meta) });
    } catch (error) {
      status.show(`Cannot read the history: ${error.message}`, "error");
      return;
    }
    const rows = versions.map((v) => h("tr", { "data-version": v.version },
      h("th", { scope: "row" }, v.version),
      h("td", {}, date(v.created_at)),
      h("td", {}, v.created_by),
      h("td", {}, v.restored_from ? `restores version ${v.restored_from}` : ""),
      h("td", {}, v.version === meta.version
        ? "current"
        : h("button", { type: "button", class: "rollback", "aria-label": `Roll back ${label(meta)} to version ${v.version}`,
          onclick: () => rollback(meta, v.version) }, "Roll back to this"))));
    replace(panel, h("section", { id: "secret-history", class: "card", "aria-label": `History of ${label(meta)}` },
      h("h3", {}, `History of ${label(meta)}`),
      table(`${versions.length} versions, current ${meta.version}`, ["Version", "Written", "By", "", ""], rows),
      h("button", { type: "button", onclick: () => replace(panel) }, "Close")));
  }

  async function rollback(meta, version) {
    try {
      // Check-and-set: only if the secret is still at the version this page showed.
      const updated = await api("POST", `${PATH}/${segment(meta.name)}/rollback`, {
        query: where(meta), body: { version, if_version: meta.version },
      });
      status.show(`Rolled ${label(updated)} back to the value of version ${version}: now version ${updated.version}.`);
      await load();
      await history(updated);
    } catch (error) {
      status.show(conflictText(error, `Cannot roll back ${label(meta)}`), "error");
      if (error.status === 409) {
        await load();
        // Show the history as it is now, so the next choice is made against it.
        const fresh = state.list.find((m) => m.name === meta.name && m.namespace === meta.namespace);
        if (fresh) await history(fresh);
      }
    }
  }

  function confirmDelete(meta) {
    const yes = h("button", { type: "button", id: "delete-confirm", class: "danger" }, `Delete ${label(meta)}`);
    const no = h("button", { type: "button", id: "delete-cancel" }, "Cancel");
    yes.addEventListener("click", async () => {
      try {
        const done = await api("DELETE", `${PATH}/${segment(meta.name)}`, { query: where(meta) });
        replace(panel);
        status.show(`Deleted ${label(meta)} and its ${done.versions} versions.`);
        await load();
      } catch (error) {
        status.show(`Cannot delete ${label(meta)}: ${error.message}`, "error");
      }
    });
    no.addEventListener("click", () => replace(panel));
    replace(panel, h("div", { class: "card confirm", role: "alertdialog", "aria-labelledby": "delete-question" },
      h("p", { id: "delete-question" }, `Delete ${label(meta)} and every one of its versions? This cannot be undone.`),
      yes, no));
    no.focus();
  }

  scope.addEventListener("change", () => { state.scope = scope.value; load(); });
  namespace.addEventListener("change", () => { state.namespace = namespace.value.trim(); load(); });
  search.addEventListener("input", () => { state.search = search.value; draw(); });

  replace(view,
    h("h2", {}, "Secrets"),
    h("form", { class: "filters", role: "search", onsubmit: (e) => e.preventDefault() },
      field("Scope", scope), field("Namespace", namespace), field("Search", search)),
    status, listArea, panel, createForm());
  await load();
}

/** The message of a failed write; a 409 says plainly that someone else changed the secret. */
function conflictText(error, what) {
  if (error instanceof ApiError && error.status === 409) {
    return `Conflict: ${what}: the secret changed since this page read it (${error.message}). ` +
      "The list is reloaded; look at the current version and try again.";
  }
  return `${what}: ${error.message}`;
}
