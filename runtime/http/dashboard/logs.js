// The logs view: execution and audit records, newest first, with search, category and name
// filters, a page at a time.

import { api } from "./api.js";
import { date, field, h, messages, replace, table } from "./dom.js";
import { consoleLines } from "./handlers.js";

const PAGE = 25;

/** What an audit record did, as one line. */
function auditText(r) {
  const target = [r.scope, r.namespace, r.name].filter(Boolean).join(" ");
  return [r.action, target, r.version ? `v${r.version}` : "", r.detail ?? ""].filter(Boolean).join(" ");
}

/** Renders the view into `view`. */
export async function render(view) {
  const status = messages("logs-message");
  const listArea = h("div", { id: "logs-list" });
  const category = h("select", { id: "logs-category" },
    h("option", { value: "" }, "both"), h("option", { value: "execution" }, "execution"), h("option", { value: "audit" }, "audit"));
  const search = h("input", { id: "logs-search", type: "search", autocomplete: "off" });
  const name = h("input", { id: "logs-name", type: "text", autocomplete: "off" });
  let offset = 0;

  async function load() {
    try {
      const records = await api("GET", "/api/v1/admin/logs", {
        query: { category: category.value, search: search.value, name: name.value.trim(), limit: PAGE, offset },
      });
      const rows = records.map((r) => r.category === "execution"
        ? h("tr", { "data-log": r.id },
          h("td", {}, date(r.started_at)), h("td", {}, `${r.kind} execution`), h("td", {}, r.name),
          h("td", {}, h("span", { class: `badge ${r.status}` }, r.status), ` ${r.duration_ms} ms`),
          h("td", {}, r.error ? h("p", { class: "error" }, r.error) : null,
            r.secrets_accessed.length ? h("p", {}, `secrets read: ${r.secrets_accessed.join(", ")}`) : null,
            consoleLines(r.logs)))
        : h("tr", { "data-log": `audit-${r.id}` },
          h("td", {}, date(r.at)), h("td", {}, "audit"), h("td", {}, r.name ?? ""),
          h("td", {}, r.action), h("td", {}, `${auditText(r)} by ${r.actor}`)));
      const newer = h("button", { type: "button", disabled: offset === 0 }, "Newer");
      const older = h("button", { type: "button", disabled: records.length < PAGE }, "Older");
      newer.addEventListener("click", () => { offset = Math.max(0, offset - PAGE); load(); });
      older.addEventListener("click", () => { offset += PAGE; load(); });
      replace(listArea, table(`Records ${offset + 1} to ${offset + records.length}, newest first`,
        ["When", "Kind", "Name", "Status or action", "Details"], rows, "No records match."),
      h("div", { class: "pager" }, newer, older));
    } catch (error) {
      status.show(`Cannot read the logs: ${error.message}`, "error");
    }
  }

  replace(view, h("h2", {}, "Logs"),
    h("form", { class: "filters", role: "search", onsubmit: (e) => { e.preventDefault(); offset = 0; load(); } },
      field("Category", category), field("Search", search), field("Name", name), h("button", { type: "submit" }, "Search")),
    status, listArea);
  await load();
}
