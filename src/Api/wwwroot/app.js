// Entry point: the API key (asked once, kept in localStorage), the service's health, and the
// three areas of the page (chat, documents, evaluation runs).

import { anonymous, apiKey, setUnauthorizedHandler } from "./js/api.js";
import { initChat, refreshConversations } from "./js/chat.js";
import { initDocuments, refreshDocuments } from "./js/documents.js";
import { $, describeError } from "./js/dom.js";
import { initEvals, refreshEvals } from "./js/evals.js";
import { initPassageView } from "./js/passage.js";

const DEFAULT_KEY_MESSAGE = $("#key-message").innerHTML;

function askForKey(message) {
  const dialog = $("#key-dialog");
  if (dialog.open) return;
  if (message) $("#key-message").textContent = message;
  else $("#key-message").innerHTML = DEFAULT_KEY_MESSAGE; // static markup from index.html
  $("#key-input").value = "";
  $("#key-cancel").hidden = apiKey.get() === "";
  dialog.showModal();
}

function initKeyDialog() {
  const dialog = $("#key-dialog");
  $("#change-key").addEventListener("click", () => askForKey());
  $("#key-cancel").addEventListener("click", () => dialog.close("cancel"));
  // Without a key nothing works: Escape cannot dismiss the dialog, and where the browser closes
  // it anyway (a cancel event is not always cancelable) it opens again.
  dialog.addEventListener("cancel", (e) => {
    if (apiKey.get() === "") e.preventDefault();
  });
  dialog.addEventListener("close", () => {
    if (apiKey.get() === "") setTimeout(() => askForKey(), 0);
  });
  $("#key-form").addEventListener("submit", (e) => {
    const key = $("#key-input").value.trim();
    if (!key) {
      e.preventDefault();
      return;
    }
    apiKey.set(key);
    loadAll();
  });
  setUnauthorizedHandler(() => askForKey("The service refused this API key (unknown or revoked). Enter another."));
}

async function showHealth() {
  const health = $("#health");
  try {
    const ready = await anonymous("/readyz");
    const retrieval = ready.retrievalDescription ?? (ready.retrieval === "bm25" ? "BM25-only retrieval" : `${ready.retrieval} retrieval`);
    const generator = ready.generator === "extractive" ? "extractive answers (no generator model)" : `answers by ${ready.generator}`;
    health.textContent = `Ready · ${retrieval} · ${generator}`;
    health.classList.remove("bad");
  } catch (error) {
    health.textContent = `Not ready: ${describeError(error)}`;
    health.classList.add("bad");
  }
}

function loadAll() {
  refreshDocuments();
  refreshConversations();
  refreshEvals();
}

initPassageView();
initKeyDialog();
initDocuments();
initChat();
initEvals();
showHealth();
if (apiKey.get() === "") askForKey();
else loadAll();
