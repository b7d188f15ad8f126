// The functions and jobs views: what is deployed (name, namespace, file, annotations), the last
// executions of a function (status, duration, redacted console lines, secrets read), the
// invocation chart, job runs with filters and paging, a run's progress, cancelling and retrying
// it, and enqueueing a job with a JSON payload.

import { api, segment } from "./api.js";
import { date, field, h, messages, replace, table } from "./dom.js";
import { invocationChart } from "./chart.js";

/** Annotations as `key value` text. */
function annotations(list) {
  return list.map((a) => `@fluxbase:${a.key} ${a.value}`.trim()).join("\n");
}

/** Console lines as one preformatted block (text only). */
export function consoleLines(lines) {
  if (!lines || lines.length === 0) return h("span", { class: "muted" }, "no console output");
  return h("pre", { class: "console" }, lines.map((l) => `[${l.level}] ${l.message}`).join("\n"));
}

/** The executions of `name` as a table. */
function executionTable(records) {
  const rows = records.map((r) => h("tr", { "data-execution": r.id, class: `status-${r.status}` },
    h("td", {}, date(r.started_at)),
    h("td", {}, h("span", { class: `badge ${r.status}` }, r.status)),
    h("td", { class: "num" }, `${r.duration_ms} ms`),
    h("td", {}, r.secrets_accessed.join(", ")),
    h("td", {}, r.error ? h("p", { class: "error" }, r.error) : null, consoleLines(r.logs))));
  return table("Last executions, newest first", ["Started", "Status", "Duration", "Secrets read", "Error and console"], rows,
    "No executions yet.");
}

async function deployed(kind) {
  return api("GET", "/api/v1/admin/handlers", { query: { kind } });
}

/** Renders the functions view into `view`. */
export async function renderFunctions(view) {
  const status = messages("functions-message");
  const chartArea = h("section", { id: "chart", "aria-labelledby": "chart-title" },
    h("h3", { id: "chart-title" }, "Invocations and failures per minute, last hour"));
  const detail = h("section", { id: "function-detail" });
  const listArea = h("div", { id: "functions-list" });
  replace(view, h("h2", {}, "Functions"), status, chartArea, detail, listArea);

  try {
    const functions = await deployed("function");
    const rows = functions.map((f) => h("tr", { "data-function": f.name },
      h("th", { scope: "row" }, f.name),
      h("td", {}, f.namespace),
      h("td", {}, h("code", {}, f.file)),
      h("td", {}, h("pre", { class: "annotations" }, annotations(f.annotations)),
        f.error ? h("p", { class: "error" }, f.error) : null),
      h("td", {}, h("button", { type: "button", "aria-label": `Executions of ${f.name}`, onclick: () => show(f) }, "Executions"))));
    replace(listArea, table(`${functions.length} functions deployed`, ["Name", "Namespace", "File", "Annotations", ""], rows,
      "No functions in the functions directory."));
  } catch (error) {
    status.show(`Cannot list functions: ${error.message}`, "error");
  }

  try {
    const stats = await api("GET", "/api/v1/admin/stats/invocations", { query: { minutes: 60 } });
    chartArea.append(invocationChart(stats));
  } catch (error) {
    status.show(`Cannot read the invocation counts: ${error.message}`, "error");
  }

  async function show(f) {
    try {
      const records = await api("GET", "/api/v1/admin/logs", { query: { category: "execution", name: f.name, limit: 20 } });
      replace(detail, h("h3", {}, `Executions of ${f.name}`), executionTable(records.filter((r) => r.kind === "function")));
      detail.querySelector("h3").focus?.();
    } catch (error) {
      status.show(`Cannot read the executions: ${error.message}`, "error");
    }
  }
}

const PAGE = 20;

/** Renders the jobs view into `view`. */
export async function renderJobs(view) {
  const status = messages("jobs-message");
  const listArea = h("div", { id: "jobs-list" });
  const runsArea = h("div", { id: "runs-list" });
  const detail = h("section", { id: "run-detail" });
  const filterName = h("input", { id: "runs-name", type: "text", autocomplete: "off", placeholder: "any" });
  const filterStatus = h("select", { id: "runs-status" },
    ["", "queued", "running", "succeeded", "failed", "cancelled"].map((s) => h("option", { value: s }, s || "any")));
  const jobSelect = h("select", { id: "enqueue-job", required: true });
  const payload = h("textarea", { id: "enqueue-payload", rows: 4, spellcheck: "false" }, "{}");
  // Cursors of the pages shown so far: the first page has none.
  let cursors = [""];

  async function loadRuns() {
    const before = cursors[cursors.length - 1];
    try {
      const runs = await api("GET", "/api/v1/jobs/runs", {
        query: { name: filterName.value.trim(), status: filterStatus.value, limit: PAGE, before },
      });
      const rows = runs.map((r) => h("tr", { "data-run": r.id },
        h("td", {}, h("button", { type: "button", class: "link", "aria-label": `Details of run ${r.id}`, onclick: () => showRun(r.id) }, r.id.slice(0, 8))),
        h("td", {}, r.name),
        h("td", {}, h("span", { class: `badge ${r.status}` }, r.status)),
        h("td", { class: "num" }, `${r.attempts} / ${r.max_attempts}`),
        h("td", {}, date(r.created_at)),
        h("td", {}, r.error ? h("span", { class: "error" }, r.error) : r.result === null || r.result === undefined ? "" : h("code", {}, JSON.stringify(r.result)))));
      const newer = h("button", { type: "button", disabled: cursors.length === 1 }, "Newer");
      const older = h("button", { type: "button", disabled: runs.length < PAGE }, "Older");
      newer.addEventListener("click", () => { cursors.pop(); loadRuns(); });
      older.addEventListener("click", () => { cursors.push(runs[runs.length - 1].id); loadRuns(); });
      replace(runsArea, table("Job runs, newest first", ["Run", "Job", "Status", "Attempts", "Enqueued", "Result or error"], rows,
        "No runs match."), h("div", { class: "pager" }, newer, older));
    } catch (error) {
      status.show(`Cannot list runs: ${error.message}`, "error");
    }
  }

  /** Cancels or retries run `id` (`action` is `cancel` or `retry`), then shows it again. */
  async function act(id, action) {
    try {
      const run = await api("POST", `/api/v1/jobs/runs/${segment(id)}/${action}`);
      status.show(action === "retry"
        ? `Queued run ${run.id} again.`
        : run.status === "cancelled" ? `Cancelled run ${run.id}.` : `Asked the host running ${run.id} to stop it.`);
      await loadRuns();
      await showRun(id);
    } catch (error) {
      status.show(`Cannot ${action} run ${id}: ${error.message}`, "error");
    }
  }

  async function showRun(id) {
    try {
      const run = await api("GET", `/api/v1/jobs/runs/${segment(id)}`);
      const actions = [];
      if (run.status === "queued" || (run.status === "running" && !run.cancel_requested)) {
        actions.push(h("button", { type: "button", id: "run-cancel", class: "danger", onclick: () => act(run.id, "cancel") }, "Cancel run"));
      }
      if (run.status === "failed" || run.status === "cancelled") {
        actions.push(h("button", { type: "button", id: "run-retry", onclick: () => act(run.id, "retry") }, "Retry run"));
      }
      const progress = run.progress
        ? `${run.progress.percent}%${run.progress.message ? ` ${run.progress.message}` : ""}`
        : "";
      replace(detail, h("h3", {}, `Run ${run.id} of ${run.name}`),
        h("div", { class: "actions" }, ...actions),
        h("dl", {},
          h("dt", {}, "Status"), h("dd", {}, run.cancel_requested && run.status === "running" ? "running (stopping)" : run.status),
          h("dt", {}, "Progress"), h("dd", {}, progress),
          h("dt", {}, "Priority"), h("dd", {}, String(run.priority)),
          h("dt", {}, "Attempts"), h("dd", {}, `${run.attempts} of ${run.max_attempts}`),
          h("dt", {}, "Payload"), h("dd", {}, h("code", {}, JSON.stringify(run.payload))),
          h("dt", {}, "Result"), h("dd", {}, run.result === null || run.result === undefined ? "" : h("code", {}, JSON.stringify(run.result))),
          h("dt", {}, "Error"), h("dd", {}, run.error ?? ""),
          h("dt", {}, "Console (last attempt)"), h("dd", {}, consoleLines(run.logs))));
    } catch (error) {
      status.show(`Cannot read run ${id}: ${error.message}`, "error");
    }
  }

  const enqueue = h("form", { id: "enqueue", class: "card" },
    h("h3", {}, "Enqueue a run"), field("Job", jobSelect), field("Payload (JSON)", payload),
    h("button", { type: "submit" }, "Enqueue"));
  enqueue.addEventListener("submit", async (event) => {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse(payload.value);
    } catch (error) {
      status.show(`The payload is not JSON: ${error.message}`, "error");
      return;
    }
    try {
      const run = await api("POST", `/api/v1/jobs/${segment(jobSelect.value)}`, { body });
      status.show(`Enqueued run ${run.id}.`);
      cursors = [""];
      await loadRuns();
    } catch (error) {
      status.show(`Cannot enqueue: ${error.message}`, "error");
    }
  });

  replace(view, h("h2", {}, "Jobs"), status, enqueue,
    h("h3", {}, "Runs"),
    h("form", { class: "filters", role: "search", onsubmit: (e) => { e.preventDefault(); cursors = [""]; loadRuns(); } },
      field("Job name", filterName), field("Status", filterStatus), h("button", { type: "submit" }, "Filter")),
    runsArea, detail, h("h3", {}, "Deployed jobs"), listArea);

  try {
    const jobs = await deployed("job");
    replace(jobSelect, jobs.map((j) => h("option", { value: j.name }, j.name)));
    const rows = jobs.map((j) => [j.name, j.namespace, h("code", {}, j.file), h("pre", { class: "annotations" }, annotations(j.annotations))]);
    replace(listArea, table(`${jobs.length} jobs deployed`, ["Name", "Namespace", "File", "Annotations"], rows,
      "No jobs in the jobs directory."));
  } catch (error) {
    status.show(`Cannot list jobs: ${error.message}`, "error");
  }
  await loadRuns();
}
