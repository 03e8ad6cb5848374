// The chat: tokens streamed as they come, a stop button, citations as chips (and [n] in the
// answer) that open the cited passage, the answer mode and notices, and the conversation history.

import { api, streamChat } from "./api.js";
import { $, el, describeError, formatDate } from "./dom.js";
import { openDocument } from "./passage.js";

let conversationId = null;
let controller = null; // the AbortController of the answer being streamed

export function initChat() {
  const form = $("#ask-form");
  const question = $("#question");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = question.value.trim();
    if (!text || controller) return;
    question.value = "";
    ask(text);
  });
  // Enter sends; Shift+Enter (or an IME composition) keeps the newline.
  question.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  $("#stop").addEventListener("click", () => controller?.abort());
  $("#new-conversation").addEventListener("click", () => {
    controller?.abort();
    conversationId = null;
    $("#messages").replaceChildren();
    markCurrentConversation();
    question.focus();
  });
}

function setStreaming(active) {
  $("#send").disabled = active;
  $("#stop").disabled = !active;
}

function userMessage(text) {
  return el("li", { className: "message user" },
    el("div", { className: "role" }, "You"),
    el("div", { className: "answer" }, text));
}

function assistantMessage() {
  const answer = el("div", { className: "answer", "aria-live": "polite", "aria-busy": "true" });
  const item = el("li", { className: "message assistant" },
    el("div", { className: "role" }, "Answer"),
    answer);
  return { item, answer };
}

async function ask(question) {
  const messages = $("#messages");
  messages.append(userMessage(question));
  const { item, answer } = assistantMessage();
  messages.append(item);
  scrollToEnd();

  const streamed = document.createTextNode("");
  answer.append(streamed);
  controller = new AbortController();
  setStreaming(true);
  try {
    const request = { question, mode: $("#retrieval-mode").value };
    if (conversationId) request.conversationId = conversationId;
    const done = await streamChat(request, {
      signal: controller.signal,
      onToken: (text) => {
        streamed.appendData(text);
        scrollToEnd();
      },
    });
    answer.setAttribute("aria-busy", "false");
    renderAnswer(answer, done.answer ?? streamed.data, done.citations ?? []);
    item.append(answerMeta(done), citationList(done.citations ?? []));
    const isNew = done.conversationId && done.conversationId !== conversationId;
    conversationId = done.conversationId ?? conversationId;
    if (isNew) await refreshConversations();
  } catch (error) {
    answer.setAttribute("aria-busy", "false");
    const message = error.name === "AbortError" ? "Stopped." : `The answer failed. ${describeError(error)}`;
    item.append(el("p", { className: error.name === "AbortError" ? "muted" : "error", role: "alert" }, message));
  } finally {
    controller = null;
    setStreaming(false);
    scrollToEnd();
  }
}

/** Keeps the newest message in view by scrolling the conversation, not the page. */
function scrollToEnd() {
  const messages = $("#messages");
  messages.scrollTop = messages.scrollHeight;
}

const CITE = /\[(\d+(?:\s*,\s*\d+)*)\]/g;

/** The answer text with each [n] that names a citation turned into a button opening it. */
function renderAnswer(container, text, citations) {
  const byNumber = new Map(citations.map((c) => [c.number, c]));
  container.replaceChildren();
  let last = 0;
  for (const match of text.matchAll(CITE)) {
    const numbers = match[1].split(",").map((n) => Number.parseInt(n.trim(), 10));
    if (!numbers.every((n) => byNumber.has(n))) continue;
    container.append(text.slice(last, match.index));
    for (const n of numbers) container.append(citeButton(byNumber.get(n), `[${n}]`, "cite-ref"));
    last = match.index + match[0].length;
  }
  container.append(text.slice(last));
}

function citeButton(citation, label, className) {
  const where = citation.pageLabel ? `, ${citation.pageLabel}` : "";
  return el("button", {
    type: "button",
    className,
    title: citation.snippet ?? "",
    "aria-label": `Source ${citation.number}: ${citation.documentTitle}${where}. Open the passage.`,
    dataset: { chunkId: citation.chunkId, number: citation.number },
    onclick: () => openDocument({
      documentId: citation.documentId,
      title: citation.documentTitle,
      chunkId: citation.chunkId,
      pageLabel: citation.pageLabel,
      number: citation.number,
    }),
  }, label);
}

function citationList(citations) {
  if (citations.length === 0) return el("p", { className: "muted" }, "No passages were cited.");
  return el("ul", { className: "citations", "aria-label": "Sources" },
    citations.map((c) => el("li", {}, citeButton(c, `[${c.number}] ${c.documentTitle}${c.pageLabel ? ` ${c.pageLabel}` : ""}`, "chip"))));
}

const MODE_LABELS = {
  generated: ["Generated answer", "generated"],
  extractive: ["Extractive answer (quoted, no language model)", "extractive"],
};
const RETRIEVAL_LABELS = { hybrid: "Hybrid retrieval", dense: "Dense retrieval", bm25: "BM25-only retrieval" };

/** How the answer was made (generated / extractive, hybrid / dense / BM25-only) and any notices. */
function answerMeta(done) {
  const [modeText, modeClass] = MODE_LABELS[done.mode] ?? [done.mode ?? "", ""];
  const badges = el("div", { className: "answer-meta" },
    modeText && el("span", { className: `badge answer-mode ${modeClass}` }, modeText),
    done.retrievalMode && el("span", { className: `badge retrieval-mode ${done.retrievalMode}` },
      RETRIEVAL_LABELS[done.retrievalMode] ?? done.retrievalMode),
    done.timings && el("span", { className: "muted" }, `${(done.timings.totalMs / 1000).toFixed(2)} s`));
  const notices = done.notices?.length
    ? el("ul", { className: "notices", "aria-label": "Notices" }, done.notices.map((n) => el("li", {}, n)))
    : null;
  return el("div", {}, badges, notices);
}

/** Loads the list of earlier conversations. */
export async function refreshConversations() {
  const list = $("#conversations");
  const empty = $("#conversations-empty");
  try {
    const conversations = await api("/v1/conversations");
    list.replaceChildren(...conversations.map((c) => el("li", {},
      el("button", {
        type: "button",
        className: "secondary",
        dataset: { id: c.id },
        onclick: () => openConversation(c.id),
      }, c.title || "Untitled", el("span", { className: "muted" }, ` · ${formatDate(c.createdAt)}`)))));
    empty.hidden = conversations.length > 0;
    empty.textContent = "No conversations yet.";
    markCurrentConversation();
  } catch (error) {
    empty.hidden = false;
    empty.textContent = `Could not load the conversations. ${describeError(error)}`;
  }
}

function markCurrentConversation() {
  for (const button of $("#conversations").querySelectorAll("button")) {
    if (button.dataset.id === conversationId) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

async function openConversation(id) {
  controller?.abort();
  const messages = $("#messages");
  try {
    const turns = await api(`/v1/conversations/${encodeURIComponent(id)}`);
    conversationId = id;
    messages.replaceChildren(...turns.map((turn) => {
      if (turn.role === "user") return userMessage(turn.content);
      const { item, answer } = assistantMessage();
      answer.setAttribute("aria-busy", "false");
      let citations = [];
      try {
        citations = turn.citationsJson ? JSON.parse(turn.citationsJson) : [];
      } catch {
        // An unreadable citation list leaves the answer as plain text.
      }
      renderAnswer(answer, turn.content, citations);
      if (citations.length > 0) item.append(citationList(citations));
      return item;
    }));
    markCurrentConversation();
    $("#question").focus();
  } catch (error) {
    messages.replaceChildren(el("li", { className: "message error", role: "alert" }, `Could not open the conversation. ${describeError(error)}`));
  }
}
