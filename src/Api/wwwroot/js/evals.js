// Evaluation runs: the list with headline metrics, and each run's self-contained HTML report,
// fetched with the auth header and shown from a blob URL in a sandboxed iframe.

import { api, apiBlob } from "./api.js";
import { $, el, describeError, formatDate } from "./dom.js";

const POLL_MS = 3000; // while a run is in progress
const HEADLINE = 4; // metrics shown per run in the list; the report has them all

let pollTimer = 0;
let reportUrl = null;

export function initEvals() {
  $("#refresh-evals").addEventListener("click", () => refreshEvals());
  const dialog = $("#report-dialog");
  $("#report-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    $("#report-frame").removeAttribute("src");
    if (reportUrl) URL.revokeObjectURL(reportUrl);
    reportUrl = null;
  });
}

// Whether this server has the evaluation endpoints, from its OpenAPI document: asking /v1/evals on
// a server without them would be a 404, which the browser logs as a console error.
let evalsServed = null;
async function hasEvalEndpoints() {
  if (evalsServed === null) {
    try {
      const response = await fetch("/openapi/v1.json");
      evalsServed = response.ok ? "/v1/evals" in ((await response.json()).paths ?? {}) : true;
    } catch {
      evalsServed = true; // no document to ask: try the endpoint itself
    }
  }
  return evalsServed;
}

export async function refreshEvals() {
  clearTimeout(pollTimer);
  const list = $("#eval-list");
  const empty = $("#evals-empty");
  let runs;
  try {
    runs = (await hasEvalEndpoints()) ? await api("/v1/evals") : [];
  } catch (error) {
    list.replaceChildren();
    empty.hidden = false;
    // A server without evaluation endpoints (404) simply has no runs to show.
    empty.textContent = error.status === 404 ? "No evaluation runs." : `Could not load the evaluation runs. ${describeError(error)}`;
    return;
  }
  empty.hidden = runs.length > 0;
  empty.textContent = "No evaluation runs yet.";
  list.replaceChildren(...runs.map(runItem));
  if (runs.some((r) => r.status === "queued" || r.status === "running")) pollTimer = setTimeout(refreshEvals, POLL_MS);
}

function runItem(run) {
  const metrics = Object.entries(run.metrics ?? {}).slice(0, HEADLINE);
  const running = run.status === "queued" || run.status === "running";
  const percent = Math.round((run.progress ?? 0) * 100);
  return el("li", { className: "eval", dataset: { id: run.id } },
    el("div", { className: "doc-main" },
      el("span", { className: "doc-title" }, run.name || run.id),
      el("span", { className: `badge eval-status status-${run.status === "completed" ? "indexed" : run.status}` }, run.status)),
    el("div", { className: "doc-meta" }, formatDate(run.createdAt)),
    running && el("progress", { max: 100, value: percent, "aria-label": `Progress of ${run.name || run.id}: ${percent}%` }),
    metrics.length > 0 && el("dl", { className: "metrics" },
      metrics.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, formatMetric(value))])),
    !running && el("div", { className: "doc-actions" },
      el("button", {
        type: "button",
        className: "secondary",
        "aria-label": `Open the report of ${run.name || run.id}`,
        onclick: () => openReport(run),
      }, "Report")));
}

function formatMetric(value) {
  return typeof value === "number" ? (Math.abs(value) <= 1 ? value.toFixed(3) : value.toFixed(1)) : String(value);
}

async function openReport(run) {
  const dialog = $("#report-dialog");
  const frame = $("#report-frame");
  $("#report-heading").textContent = `Evaluation report: ${run.name || run.id}`;
  try {
    const blob = await apiBlob(`/v1/evals/${encodeURIComponent(run.id)}/report`);
    if (reportUrl) URL.revokeObjectURL(reportUrl);
    reportUrl = URL.createObjectURL(new Blob([blob], { type: "text/html" }));
    frame.src = reportUrl;
    $("#report-tab").href = reportUrl;
    dialog.showModal();
  } catch (error) {
    $("#evals-empty").hidden = false;
    $("#evals-empty").textContent = `Could not open the report. ${describeError(error)}`;
  }
}
