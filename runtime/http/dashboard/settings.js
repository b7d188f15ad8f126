// The settings secrets view: the system's or one user's list, set (create or replace) and
// delete. Values go into a password field and are cleared from it as soon as they are sent.

import { api, segment } from "./api.js";
import { date, field, h, messages, replace, table } from "./dom.js";

const PATH = "/api/v1/admin/settings/secrets";

/** Renders the view into `view`. */
export async function render(view) {
  const status = messages("settings-message");
  const listArea = h("div", { id: "settings-list" });
  const confirmArea = h("div", { id: "settings-confirm" });
  const user = h("input", { id: "settings-user", type: "text", autocomplete: "off", placeholder: "empty: system" });
  let current = "";

  async function load() {
    current = user.value.trim();
    try {
      const list = await api("GET", PATH, { query: { user: current } });
      const rows = list.map((meta) => h("tr", { "data-setting": meta.key },
        h("th", { scope: "row" }, meta.key),
        h("td", {}, meta.scope),
        h("td", {}, meta.user ?? ""),
        h("td", {}, meta.description ?? ""),
        h("td", {}, date(meta.updated_at)),
        h("td", {}, h("button", { type: "button", class: "danger", "aria-label": `Delete ${meta.key}`,
          onclick: () => confirmDelete(meta) }, "Delete"))));
      replace(listArea, table(current ? `Settings secrets of user ${current}` : "System settings secrets",
        ["Key", "Scope", "User", "Description", "Updated", "Actions"], rows, "No settings secrets here."));
    } catch (error) {
      status.show(`Cannot list settings secrets: ${error.message}`, "error");
    }
  }

  function confirmDelete(meta) {
    const yes = h("button", { type: "button", class: "danger", id: "settings-delete-confirm" }, `Delete ${meta.key}`);
    const no = h("button", { type: "button", onclick: () => replace(confirmArea) }, "Cancel");
    yes.addEventListener("click", async () => {
      try {
        await api("DELETE", `${PATH}/${segment(meta.key)}`, { query: { user: meta.user ?? "" } });
        replace(confirmArea);
        status.show(`Deleted ${meta.key}.`);
        await load();
      } catch (error) {
        status.show(`Cannot delete ${meta.key}: ${error.message}`, "error");
      }
    });
    replace(confirmArea, h("div", { class: "card confirm", role: "alertdialog", "aria-label": "Confirm delete" },
      h("p", {}, `Delete the settings secret ${meta.key}${meta.user ? ` of user ${meta.user}` : ""}?`), yes, no));
    no.focus();
  }

  const key = h("input", { id: "settings-key", type: "text", required: true, autocomplete: "off" });
  const value = h("input", { id: "settings-value", type: "password", required: true, autocomplete: "new-password" });
  const description = h("input", { id: "settings-description", type: "text", autocomplete: "off" });
  const form = h("form", { id: "settings-set", class: "card" },
    h("h3", {}, "Set a settings secret"),
    h("p", { class: "hint" }, "For the user above, or the system when it is empty. An existing value is replaced (no history)."),
    field("Key", key), field("Value", value), field("Description", description),
    h("button", { type: "submit" }, "Set"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { value: value.value };
    value.value = "";
    if (description.value) body.description = description.value;
    try {
      const meta = await api("PUT", `${PATH}/${segment(key.value.trim())}`, { query: { user: user.value.trim() }, body });
      form.reset();
      status.show(`Set ${meta.key}${meta.user ? ` for user ${meta.user}` : ""}.`);
      await load();
    } catch (error) {
      status.show(`Cannot set it: ${error.message}`, "error");
    }
  });

  user.addEventListener("change", load);
  replace(view,
    h("h2", {}, "Settings secrets"),
    h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); load(); } },
      field("User id", user), h("button", { type: "submit" }, "Show")),
    status, listArea, confirmArea, form);
  await load();
}
