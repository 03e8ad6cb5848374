// The HTTP API as the page uses it: bearer key from localStorage, problem details as ApiError,
// uploads through XMLHttpRequest (fetch has no upload progress) and the chat's server-sent events
// read from a fetch body (EventSource can neither POST nor send an Authorization header).

const KEY_STORAGE = "rag.apiKey";

export const apiKey = {
  get: () => localStorage.getItem(KEY_STORAGE) ?? "",
  set: (key) => localStorage.setItem(KEY_STORAGE, key.trim()),
  clear: () => localStorage.removeItem(KEY_STORAGE),
};

/** An HTTP failure with the server's problem details (title, detail, status). */
export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.detail = detail ?? "";
  }
}

// Called on every 401 so the page can ask for a key again, whichever component saw it.
let onUnauthorized = () => {};
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

function authHeaders(extra = {}) {
  const key = apiKey.get();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

async function problemFrom(response) {
  let title = response.statusText || `HTTP ${response.status}`;
  let detail = "";
  try {
    const body = await response.json();
    title = body.title ?? title;
    detail = body.detail ?? "";
  } catch {
    // Not JSON (a proxy's error page, say): the status line is all there is.
  }
  return new ApiError(response.status, title, detail);
}

async function failed(response) {
  const error = await problemFrom(response);
  if (response.status === 401) onUnauthorized(error);
  return error;
}

/** JSON request to the API; resolves to the parsed body (null for 204), throws ApiError otherwise. */
export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = authHeaders(body === undefined ? {} : { "Content-Type": "application/json" });
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!response.ok) throw await failed(response);
  if (response.status === 204) return null;
  return response.json();
}

/** GET a resource as a Blob (the evaluation report, which is HTML behind the auth header). */
export async function apiBlob(path, { signal } = {}) {
  const response = await fetch(path, { headers: authHeaders(), signal });
  if (!response.ok) throw await failed(response);
  return response.blob();
}

/** Anonymous JSON GET (health endpoints). */
export async function anonymous(path) {
  const response = await fetch(path);
  if (!response.ok) throw await problemFrom(response);
  return response.json();
}

/**
 * Uploads one file as multipart/form-data; onProgress gets a fraction in [0, 1].
 * Resolves to {document, duplicate}; rejects with ApiError (413, 415, 400...) or a network Error.
 */
export function uploadFile(file, { title, tags, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", file, file.name);
    if (title) form.append("title", title);
    if (tags) form.append("tags", tags);

    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/documents");
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      const body = xhr.response ?? {};
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress?.(1);
        resolve(body);
        return;
      }
      const error = new ApiError(xhr.status, body.title ?? (xhr.statusText || `HTTP ${xhr.status}`), body.detail);
      if (xhr.status === 401) onUnauthorized(error);
      reject(error);
    });
    xhr.addEventListener("error", () => reject(new Error("The upload failed: the server could not be reached.")));
    xhr.addEventListener("abort", () => reject(new DOMException("The upload was cancelled.", "AbortError")));
    xhr.send(form);
  });
}

/**
 * Splits a text/event-stream into events. Per the SSE spec an event ends at a blank line; its
 * `data:` lines are joined with "\n"; a line starting with ":" is a comment.
 */
export function parseSseFrames(buffer) {
  const events = [];
  const frames = buffer.split(/\r?\n\r?\n/);
  const rest = frames.pop() ?? "";
  for (const frame of frames) {
    let event = "message";
    const data = [];
    for (const line of frame.split(/\r?\n/)) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length > 0) events.push({ event, data: data.join("\n") });
  }
  return { events, rest };
}

/**
 * POST /v1/chat with stream: true. Calls onToken(text) for each `token` event and resolves to the
 * `done` payload; an `error` event or a problem response rejects with ApiError. Abort through signal.
 */
export async function streamChat(request, { signal, onToken }) {
  const response = await fetch("/v1/chat", {
    method: "POST",
    headers: authHeaders({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify({ ...request, stream: true }),
    signal,
  });
  if (!response.ok) throw await failed(response);
  const type = response.headers.get("Content-Type") ?? "";
  if (!type.startsWith("text/event-stream")) {
    // A server that ignored stream: true still answers in one piece.
    const result = await response.json();
    onToken(result.answer ?? "");
    return result;
  }

  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let done = null;
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buffer += value;
    const parsed = parseSseFrames(buffer);
    buffer = parsed.rest;
    for (const { event, data } of parsed.events) {
      const payload = JSON.parse(data);
      if (event === "token") onToken(payload.text ?? "");
      else if (event === "done") done = payload;
      else if (event === "error") throw new ApiError(payload.status ?? 500, payload.title ?? "Error", payload.detail);
    }
  }
  if (!done) throw new ApiError(502, "Incomplete answer", "The stream ended before the answer was complete.");
  return done;
}
