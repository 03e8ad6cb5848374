// The document view: a document's text rebuilt from its chunks, with a cited chunk highlighted.

import { api } from "./api.js";
import { $, el, describeError } from "./dom.js";

const chunkCache = new Map(); // documentId -> Promise<chunk[]>

/** Chunk ids are "<documentId>:<ordinal>"; the ordinal follows the last colon. */
export function ordinalOf(chunkId) {
  const ordinal = Number.parseInt(String(chunkId).slice(String(chunkId).lastIndexOf(":") + 1), 10);
  return Number.isNaN(ordinal) ? null : ordinal;
}

/**
 * Chunks overlap, so the document is each chunk's text from where the previous one ended:
 * text.slice(prevEnd - startChar). Each segment keeps its offsets in the document's coordinates
 * so a character range (a citation) can be found across segments.
 */
export function segmentsOf(chunks) {
  const segments = [];
  let prevEnd = 0;
  for (const chunk of [...chunks].sort((a, b) => a.ordinal - b.ordinal)) {
    const skip = Math.max(0, Math.min(chunk.text.length, prevEnd - chunk.startChar));
    const text = chunk.text.slice(skip);
    const start = chunk.startChar + skip;
    // A gap between chunks (text the chunker dropped) is shown as a paragraph break.
    const gap = segments.length > 0 && start > prevEnd;
    segments.push({ ordinal: chunk.ordinal, start, end: start + text.length, text, gap });
    prevEnd = Math.max(prevEnd, chunk.endChar);
  }
  return segments;
}

/** Renders segments into body, wrapping [from, to) in one <mark>; returns it (or null). */
function render(body, segments, from, to) {
  body.replaceChildren();
  let mark = null;
  for (const segment of segments) {
    if (segment.gap) body.append("\n\n");
    const a = Math.max(from, segment.start);
    const b = Math.min(to, segment.end);
    if (b <= a) {
      body.append(segment.text);
      continue;
    }
    const cut = (i) => i - segment.start;
    body.append(segment.text.slice(0, cut(a)));
    // The range runs on across a segment boundary (overlapping chunks): one mark, not two.
    if (!mark || segment.gap || a > segment.start) {
      mark = el("mark");
      body.append(mark);
    }
    mark.append(segment.text.slice(cut(a), cut(b)));
    body.append(segment.text.slice(cut(b)));
  }
  return mark === null ? null : body.querySelector("mark");
}

function chunksOf(documentId) {
  if (!chunkCache.has(documentId)) {
    const request = api(`/v1/documents/${encodeURIComponent(documentId)}/chunks`);
    request.catch(() => chunkCache.delete(documentId)); // a failure is not remembered
    chunkCache.set(documentId, request);
  }
  return chunkCache.get(documentId);
}

/** Forget a document's chunks (it was deleted or re-indexed). */
export function forgetDocument(documentId) {
  chunkCache.delete(documentId);
}

let returnFocus = null;

export function initPassageView() {
  const dialog = $("#passage-dialog");
  $("#passage-close").addEventListener("click", () => dialog.close());
  // Escape closes a modal <dialog> natively; focus goes back to what opened it.
  dialog.addEventListener("close", () => {
    returnFocus?.focus?.();
    returnFocus = null;
  });
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) dialog.close(); // a click on the backdrop
  });
}

/**
 * Opens the document view. With a citation ({documentId, documentTitle, chunkId, pageLabel, ...}) the
 * cited chunk is highlighted and scrolled into view; without, the document is shown from the top.
 */
export async function openDocument({ documentId, title, chunkId = null, pageLabel = null, number = null }) {
  const dialog = $("#passage-dialog");
  const body = $("#passage-body");
  const meta = $("#passage-meta");
  returnFocus = document.activeElement;
  $("#passage-heading").textContent = title || "Document";
  meta.textContent = "Loading…";
  body.replaceChildren();
  if (!dialog.open) dialog.showModal();

  try {
    const chunks = await chunksOf(documentId);
    if (!dialog.open) return;
    if (chunks.length === 0) {
      meta.textContent = "This document has no indexed text yet.";
      return;
    }
    const segments = segmentsOf(chunks);
    const ordinal = chunkId === null ? null : ordinalOf(chunkId);
    const cited = ordinal === null ? null : chunks.find((c) => c.ordinal === ordinal);
    const mark = cited ? render(body, segments, cited.startChar, cited.endChar) : render(body, segments, 0, 0);

    const where = [];
    if (number !== null) where.push(`Source [${number}]`);
    if (cited) where.push(`passage ${cited.ordinal + 1} of ${chunks.length}`);
    if (cited?.headingPath) where.push(cited.headingPath);
    // "p. 7" or "slide 7", as the server names the page for the document's format.
    if (pageLabel ?? cited?.pageLabel) where.push(pageLabel ?? cited.pageLabel);
    meta.textContent = where.length > 0 ? where.join(" · ") : `${chunks.length} passages`;
    if (chunkId !== null && !cited) meta.textContent = "The cited passage is no longer in this document (it was re-indexed or deleted).";

    if (mark) {
      mark.id = "cited-passage";
      mark.tabIndex = -1;
      mark.scrollIntoView({ block: "center" });
      mark.focus({ preventScroll: true });
    } else {
      body.scrollTop = 0;
      body.focus();
    }
  } catch (error) {
    meta.textContent = "";
    body.replaceChildren(el("p", { className: "error", role: "alert" }, `Could not load the document. ${describeError(error)}`));
  }
}
