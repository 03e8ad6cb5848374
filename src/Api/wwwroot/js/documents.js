// Documents: drag-and-drop upload with per-file progress, the list with live status, title
// search, re-ingest for failed documents, and delete behind a confirmation dialog.

import { api, uploadFile } from "./api.js";
import { $, el, debounce, describeError, formatBytes, formatDate } from "./dom.js";
import { forgetDocument, openDocument } from "./passage.js";

const POLL_MS = 1000; // while something is queued or processing
const PAGE_SIZE = 50;

const rows = new Map(); // document id -> its <li>, updated in place so focus survives a refresh
const lastStatus = new Map(); // document id -> status, to announce changes
let activeUploads = 0;
let pollTimer = 0;
let refreshing = null;
let firstLoad = true;

export function initDocuments() {
  const dropzone = $("#dropzone");
  const input = $("#file-input");
  $("#choose-files").addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    uploadAll([...input.files]);
    input.value = ""; // the same file may be chosen again
  });

  // A file dropped anywhere else must not make the browser navigate away to it.
  for (const type of ["dragover", "drop"]) window.addEventListener(type, (e) => e.preventDefault());
  dropzone.addEventListener("dragenter", () => dropzone.classList.add("dragging"));
  dropzone.addEventListener("dragover", (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
    dropzone.classList.add("dragging");
  });
  dropzone.addEventListener("dragleave", (e) => {
    if (!dropzone.contains(e.relatedTarget)) dropzone.classList.remove("dragging");
  });
  dropzone.addEventListener("drop", (e) => {
    e.preventDefault();
    dropzone.classList.remove("dragging");
    uploadAll([...(e.dataTransfer?.files ?? [])]);
  });

  $("#clear-uploads").addEventListener("click", () => {
    for (const item of [...$("#uploads").children]) if (!item.classList.contains("active")) item.remove();
    $("#uploads-block").hidden = $("#uploads").children.length === 0;
  });

  $("#doc-search").addEventListener("input", debounce(() => refreshDocuments(), 250));
}

function uploadAll(files) {
  if (files.length === 0) return;
  $("#uploads-block").hidden = false;
  for (const file of files) uploadOne(file);
}

async function uploadOne(file) {
  const progress = el("progress", { max: 100, value: 0, "aria-label": `Upload progress of ${file.name}` });
  const state = el("span", { className: "state" }, "Uploading…");
  const item = el("li", { className: "upload active", dataset: { file: file.name } },
    el("span", { className: "name" }, `${file.name} (${formatBytes(file.size)})`), state, progress);
  $("#uploads").append(item);

  activeUploads++;
  try {
    const result = await uploadFile(file, {
      tags: $("#upload-tags").value.trim(),
      onProgress: (fraction) => {
        progress.value = Math.round(fraction * 100);
        state.textContent = `${Math.round(fraction * 100)}%`;
      },
    });
    item.classList.add("done");
    // The document's own status (queued, indexed, failed) is live in the list below.
    state.textContent = result.duplicate ? `Already uploaded as “${result.document.title}”` : "Uploaded";
    announce(result.duplicate ? `${file.name} was already uploaded.` : `${file.name} uploaded.`);
  } catch (error) {
    item.classList.add("failed");
    progress.remove();
    state.textContent = describeError(error);
    state.setAttribute("role", "alert");
  } finally {
    item.classList.remove("active");
    activeUploads--;
    refreshDocuments();
  }
}

function announce(text) {
  $("#doc-announcer").textContent = text;
}

/** Reloads the list (with the current title filter); polls again while anything is in flight. */
export function refreshDocuments() {
  // One request at a time; a refresh asked for meanwhile runs right after.
  if (refreshing) {
    refreshing.again = true;
    return refreshing.promise;
  }
  const state = { again: false, promise: null };
  refreshing = state;
  state.promise = (async () => {
    try {
      await loadOnce();
    } finally {
      refreshing = null;
      if (state.again) refreshDocuments();
    }
  })();
  return state.promise;
}

async function loadOnce() {
  clearTimeout(pollTimer);
  const title = $("#doc-search").value.trim();
  const query = new URLSearchParams({ offset: "0", limit: String(PAGE_SIZE) });
  if (title) query.set("title", title);
  let page;
  try {
    page = await api(`/v1/documents?${query}`);
  } catch (error) {
    $("#doc-summary").textContent = `Could not load the documents. ${describeError(error)}`;
    return;
  }
  render(page, title);
  const busy = page.items.some((d) => d.status === "queued" || d.status === "processing");
  if (busy || activeUploads > 0) pollTimer = setTimeout(refreshDocuments, POLL_MS);
}

function render(page, title) {
  const list = $("#doc-list");
  const summary = $("#doc-summary");
  if (page.total === 0) summary.textContent = title ? `No document title contains “${title}”.` : "No documents yet: drop some files above.";
  else if (page.total > page.items.length) summary.textContent = `Showing ${page.items.length} of ${page.total} documents.`;
  else summary.textContent = page.total === 1 ? "1 document." : `${page.total} documents.`;

  const seen = new Set();
  page.items.forEach((doc, index) => {
    seen.add(doc.id);
    let row = rows.get(doc.id);
    if (!row) {
      row = createRow(doc);
      rows.set(doc.id, row);
    }
    updateRow(row, doc);
    if (list.children[index] !== row) list.insertBefore(row, list.children[index] ?? null);

    const before = lastStatus.get(doc.id);
    if (!firstLoad && before && before !== doc.status) {
      announce(doc.status === "failed" ? `${doc.title} failed: ${doc.error ?? "unknown error"}` : `${doc.title} is ${doc.status}.`);
      if (doc.status === "indexed") forgetDocument(doc.id);
    }
    lastStatus.set(doc.id, doc.status);
  });
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.remove();
      rows.delete(id);
    }
  }
  firstLoad = false;
}

function createRow(doc) {
  const view = el("button", { type: "button", className: "secondary", onclick: () => openDocument({ documentId: doc.id, title: row.dataset.title }) }, "View");
  const reingest = el("button", { type: "button", className: "secondary reingest", hidden: true, onclick: () => reingestDocument(doc.id, row) }, "Re-ingest");
  const remove = el("button", { type: "button", className: "secondary", onclick: () => confirmDelete(doc.id, row.dataset.title) }, "Delete");
  const row = el("li", { className: "doc", dataset: { id: doc.id } },
    el("div", { className: "doc-main" },
      el("span", { className: "doc-title" }),
      el("span", { className: "badge doc-status" })),
    el("div", { className: "doc-meta" }),
    el("p", { className: "doc-error", role: "alert", hidden: true }),
    el("div", { className: "doc-actions" }, view, reingest, remove));
  return row;
}

function updateRow(row, doc) {
  row.dataset.title = doc.title;
  row.dataset.status = doc.status;
  $(".doc-title", row).textContent = doc.title;
  const badge = $(".doc-status", row);
  badge.textContent = doc.status;
  badge.className = `badge doc-status status-${doc.status}`;
  const meta = [doc.fileName, formatBytes(doc.sizeBytes)];
  if (doc.status === "indexed") meta.push(doc.chunkCount === 1 ? "1 passage" : `${doc.chunkCount} passages`);
  if (doc.tags?.length) meta.push(`tags: ${doc.tags.join(", ")}`);
  meta.push(formatDate(doc.createdAt));
  $(".doc-meta", row).textContent = meta.filter(Boolean).join(" · ");
  const error = $(".doc-error", row);
  error.hidden = doc.status !== "failed";
  const reason = doc.status === "failed" ? `Failed: ${doc.error ?? "no reason given"}` : "";
  if (error.textContent !== reason) error.textContent = reason; // unchanged text is not announced again
  const [view, reingest, remove] = row.querySelectorAll(".doc-actions button");
  view.disabled = doc.status !== "indexed";
  view.setAttribute("aria-label", `View ${doc.title}`);
  reingest.hidden = doc.status !== "failed";
  reingest.setAttribute("aria-label", `Re-ingest ${doc.title}`);
  remove.setAttribute("aria-label", `Delete ${doc.title}`);
}

/** Queues a failed document again; the list then follows its status (queued, processing, indexed or failed) as for an upload. */
async function reingestDocument(id, row) {
  const button = $(".doc-actions .reingest", row);
  const title = row.dataset.title;
  button.disabled = true;
  try {
    await api(`/v1/documents/${encodeURIComponent(id)}/reingest`, { method: "POST" });
    announce(`${title} queued for ingestion again.`);
    // The button hides once the row shows queued: keep keyboard focus in the row.
    if (document.activeElement === button) $(".doc-actions button:last-child", row).focus();
  } catch (error) {
    // Deleted meanwhile (404): the refresh below drops the row; anything else is shown.
    if (error.status !== 404) $("#doc-summary").textContent = `Could not re-ingest “${title}”. ${describeError(error)}`;
  } finally {
    button.disabled = false;
  }
  await refreshDocuments();
}

async function confirmDelete(id, title) {
  const dialog = $("#confirm-dialog");
  $("#confirm-text").textContent = `“${title}” and its passages will be removed from the index. This cannot be undone.`;
  dialog.returnValue = "";
  dialog.showModal();
  const choice = await new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }));
  if (choice !== "delete") return;
  try {
    await api(`/v1/documents/${encodeURIComponent(id)}`, { method: "DELETE" });
    announce(`${title} deleted.`);
  } catch (error) {
    // Already gone (404) is what the user wanted; anything else is shown.
    if (error.status !== 404) {
      $("#doc-summary").textContent = `Could not delete “${title}”. ${describeError(error)}`;
      return;
    }
  }
  forgetDocument(id);
  rows.get(id)?.remove();
  rows.delete(id);
  lastStatus.delete(id);
  $("#doc-search").focus(); // the row that had focus is gone
  await refreshDocuments();
}
