/**
 * Browser client for django-async-image-upload. Dependency-free ES module.
 *
 * One upload runs the same three steps a mobile app does:
 *   1. POST {field, filename, content_type, size} to the app's uploads endpoint
 *      and get back a presigned S3 POST policy for exactly one key;
 *   2. POST the file straight to S3 (XMLHttpRequest, because fetch() reports
 *      no upload progress);
 *   3. poll the upload's status URL with backoff until the Lambda's callback
 *      has marked it `ready` (variants, placeholder) or `failed` (error code).
 *
 *   import { upload } from "/static/async_image_upload/uploader.js";
 *   const task = upload(file, { field: "photos.Photo.image", onProgress, onReady, onError });
 *   const status = await task.promise;   // or task.cancel()
 *
 * docs/js-client.md documents every option, callback and error kind.
 */

/** Server statuses after which polling stops. */
const FINAL_STATUSES = new Set(["ready", "failed", "expired"]);

/** Used when the browser does not know a file's type (Chrome leaves .heic blank). */
const TYPES_BY_EXTENSION = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  gif: "image/gif",
  heic: "image/heic",
  heif: "image/heif",
  avif: "image/avif",
};

export const DEFAULTS = Object.freeze({
  endpoint: "/api/uploads/",
  field: "",
  filename: undefined,
  contentType: undefined,
  headers: {},
  credentials: "same-origin",
  csrfToken: undefined, // undefined: read the cookie/form; null: never send one
  csrfCookieName: "csrftoken",
  csrfHeaderName: "X-CSRFToken",
  pollInitialDelay: 250,
  pollMaxDelay: 2000,
  pollFactor: 1.6,
  processingTimeout: 120000,
  maxPollErrors: 5,
  signal: undefined,
  onPresigned: undefined,
  onProgress: undefined,
  onUploaded: undefined,
  onStatus: undefined,
  onReady: undefined,
  onError: undefined,
});

/**
 * Every way an upload can end other than `ready`.
 *
 * `kind` tells a UI what to say:
 *   rejected  the API refused the file before any byte moved (type or size); see fieldErrors
 *   http      the API answered another error (not signed in, throttled, server error)
 *   storage   S3 refused the POST (policy expired, size outside the signed range, …)
 *   network   no answer at all (offline, CORS, server down)
 *   failed    the file arrived but could not be processed; `code` is the stable error code
 *   expired   the server gave up on the upload
 *   timeout   still pending after `processingTimeout` ms
 *   aborted   cancel() or the caller's AbortSignal
 */
export class UploadError extends Error {
  constructor(kind, message, details = {}) {
    super(message);
    this.name = "UploadError";
    this.kind = kind;
    this.code = details.code ?? null;
    this.httpStatus = details.httpStatus ?? null;
    this.fieldErrors = details.fieldErrors ?? null;
    this.upload = details.upload ?? null;
  }

  get aborted() {
    return this.kind === "aborted";
  }
}

/** Django's CSRF token: from the cookie, else from a {% csrf_token %} input on the page. */
export function csrfTokenFromPage(cookieName = DEFAULTS.csrfCookieName) {
  if (typeof document === "undefined") return null;
  const prefix = `${cookieName}=`;
  for (const part of document.cookie ? document.cookie.split(";") : []) {
    const item = part.trim();
    if (item.startsWith(prefix)) return decodeURIComponent(item.slice(prefix.length));
  }
  // CSRF_COOKIE_HTTPONLY or CSRF_USE_SESSIONS hide the cookie; forms still carry the token.
  const input = document.querySelector('input[name="csrfmiddlewaretoken"]');
  return input ? input.value : null;
}

/** The MIME type to declare: the browser's, else one guessed from the extension. */
export function contentTypeOf(file) {
  if (file.type) return file.type;
  const extension = (file.name || "").split(".").pop().toLowerCase();
  return TYPES_BY_EXTENSION[extension] || "application/octet-stream";
}

/** Start uploading `file`; returns an UploadTask whose `promise` settles at the end. */
export function upload(file, options = {}) {
  return new UploadTask(file, options);
}

/** Bind shared options (endpoint, field, headers, …) once: `createUploader(o).upload(file)`. */
export function createUploader(defaults = {}) {
  return {
    upload: (file, options = {}) => upload(file, { ...defaults, ...options }),
  };
}

export class UploadTask {
  constructor(file, options = {}) {
    this.file = file;
    this.options = { ...DEFAULTS, ...options, headers: { ...(options.headers || {}) } };
    /** The upload id, known once the presign succeeded (see onPresigned). */
    this.id = null;
    /** presigning → uploading → processing → ready | failed | error | cancelled */
    this.phase = "presigning";
    /** The last status body the server returned. */
    this.status = null;
    this._controller = new AbortController();
    const external = this.options.signal;
    if (external) {
      if (external.aborted) this._controller.abort();
      else external.addEventListener("abort", () => this.cancel(), { once: true });
    }
    this.promise = this._run();
    // Callers who listen through onError need not also catch the promise;
    // without this the browser would log every failure as "unhandled".
    if (this.options.onError) this.promise.catch(() => {});
  }

  /**
   * Stop now: aborts the request or the S3 POST in flight, or stops polling.
   * An upload that already reached S3 is still processed server-side; it just
   * stays unattached and expires. The promise rejects with kind "aborted";
   * onError is not called, since the caller asked for it.
   */
  cancel() {
    this._controller.abort();
  }

  get cancelled() {
    return this._controller.signal.aborted;
  }

  async _run() {
    const signal = this._controller.signal;
    try {
      const presign = await this._presign(signal);
      this.id = presign.id;
      this._call("onPresigned", presign);

      this.phase = "uploading";
      await this._postToStorage(presign, signal);
      this._progress(this.file.size, this.file.size); // S3 accepted it: exactly 100 %
      this.phase = "processing";
      this._call("onUploaded", presign);

      const status = await this._poll(presign.status_url, signal);
      this.phase = "ready";
      this._call("onReady", status);
      return status;
    } catch (raw) {
      const error = this._asUploadError(raw);
      if (error.aborted) {
        this.phase = "cancelled";
      } else {
        this.phase = error.kind === "failed" ? "failed" : "error";
        this._call("onError", error);
      }
      throw error;
    }
  }

  // -- step 1: presign --------------------------------------------------------
  async _presign(signal) {
    const opts = this.options;
    const body = {
      field: opts.field || "",
      filename: opts.filename ?? this.file.name ?? "",
      content_type: opts.contentType || contentTypeOf(this.file),
      size: this.file.size,
    };
    const response = await this._fetchApi(opts.endpoint, {
      method: "POST",
      body: JSON.stringify(body),
      signal,
    });
    const data = await readJson(response);
    if (response.status === 201) return data;
    if (response.status === 400) {
      throw new UploadError("rejected", messageFromErrors(data) || "The file was refused.", {
        httpStatus: 400,
        fieldErrors: data,
      });
    }
    throw httpError("Could not start the upload", response, data);
  }

  // -- step 2: the file straight to S3 ---------------------------------------
  _postToStorage(presign, signal) {
    const form = new FormData();
    // S3 evaluates the policy against the fields that precede the file, so
    // every signed field goes first and `file` last.
    for (const [name, value] of Object.entries(presign.fields)) form.append(name, value);
    form.append("file", this.file, this.file.name || "upload");

    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(abortedError());
        return;
      }
      const xhr = new XMLHttpRequest();
      const onAbort = () => xhr.abort();
      signal.addEventListener("abort", onAbort, { once: true });
      const done = (fn, value) => {
        signal.removeEventListener("abort", onAbort);
        fn(value);
      };
      xhr.open("POST", presign.url);
      xhr.upload.addEventListener("progress", (event) => {
        // event.total counts the whole multipart body (fields too); scale to the file.
        if (event.lengthComputable && event.total > 0) {
          const fraction = Math.min(1, event.loaded / event.total);
          this._progress(Math.round(fraction * this.file.size), this.file.size, fraction);
        }
      });
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) done(resolve, xhr);
        else done(reject, storageError(xhr));
      });
      xhr.addEventListener("error", () =>
        done(
          reject,
          new UploadError(
            "network",
            "The upload to storage was interrupted (network error, or the bucket's CORS " +
              "rules do not allow this page's origin).",
          ),
        ),
      );
      xhr.addEventListener("abort", () => done(reject, abortedError()));
      xhr.send(form);
    });
  }

  // -- step 3: poll -----------------------------------------------------------
  async _poll(statusUrl, signal) {
    const opts = this.options;
    const deadline = Date.now() + opts.processingTimeout;
    let delay = opts.pollInitialDelay;
    let errorsInARow = 0;
    for (;;) {
      let response;
      let data;
      try {
        response = await this._fetchApi(statusUrl, { method: "GET", signal });
        data = await readJson(response);
      } catch (error) {
        if (isAbort(error)) throw error;
        response = null; // a dropped connection counts as one transient error
      }
      if (response && response.ok && data && data.status) {
        errorsInARow = 0;
        this.status = data;
        this._call("onStatus", data);
        if (data.status === "ready") return data;
        if (data.status === "failed") throw processingError(data);
        if (data.status === "expired") {
          throw new UploadError("expired", "The upload expired before it was processed.", {
            code: "expired",
            upload: data,
          });
        }
      } else if (response && !isTransient(response.status)) {
        throw httpError("Could not check the upload's status", response, data);
      } else if (++errorsInARow >= opts.maxPollErrors) {
        throw new UploadError(
          "network",
          `The status check failed ${errorsInARow} times in a row; is the server up?`,
          { httpStatus: response ? response.status : null },
        );
      }
      if (Date.now() + delay > deadline) {
        throw new UploadError(
          "timeout",
          `Still processing after ${Math.round(opts.processingTimeout / 1000)} s; ` +
            "it may finish later — check again from the status URL.",
          { upload: this.status },
        );
      }
      // Honour Retry-After on 429/503 so a throttled client backs off as asked.
      const retryAfter = response ? Number(response.headers.get("Retry-After")) : NaN;
      await sleep(retryAfter > 0 ? retryAfter * 1000 : delay, signal);
      delay = Math.min(delay * opts.pollFactor, opts.pollMaxDelay);
    }
  }

  // -- helpers ----------------------------------------------------------------
  _fetchApi(url, init) {
    const opts = this.options;
    const headers = { Accept: "application/json", ...opts.headers };
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    // The CSRF token only ever goes to our own origin, never to a third party.
    if (init.method !== "GET" && isSameOrigin(url) && opts.csrfToken !== null) {
      const token =
        typeof opts.csrfToken === "function"
          ? opts.csrfToken()
          : opts.csrfToken || csrfTokenFromPage(opts.csrfCookieName);
      if (token) headers[opts.csrfHeaderName] = token;
    }
    return fetch(url, { ...init, headers, credentials: opts.credentials }).catch((error) => {
      if (isAbort(error)) throw abortedError();
      throw new UploadError("network", `Could not reach the server: ${error.message}`);
    });
  }

  _progress(loaded, total, fraction = total ? loaded / total : 1) {
    this._call("onProgress", { loaded, total, fraction, percent: Math.round(fraction * 100) });
  }

  /** Run a user callback; an exception in it is reported, never allowed to break the upload. */
  _call(name, value) {
    const callback = this.options[name];
    if (typeof callback !== "function") return;
    try {
      callback(value, this);
    } catch (error) {
      if (typeof reportError === "function") reportError(error);
      else console.error(error);
    }
  }

  _asUploadError(error) {
    if (error instanceof UploadError) return error;
    if (isAbort(error)) return abortedError();
    return new UploadError("network", error && error.message ? error.message : String(error));
  }
}

// -- module helpers -------------------------------------------------------------

function abortedError() {
  return new UploadError("aborted", "The upload was cancelled.");
}

function isAbort(error) {
  return (
    (error instanceof UploadError && error.aborted) ||
    (error && typeof error === "object" && error.name === "AbortError")
  );
}

/** Worth retrying: throttled, gateway trouble, server hiccup. */
function isTransient(httpStatus) {
  return httpStatus === 429 || httpStatus >= 500;
}

function isSameOrigin(url) {
  if (typeof location === "undefined") return false;
  return new URL(url, location.href).origin === location.origin;
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null; // an HTML error page or an empty body
  }
}

/** A DRF error body as one readable sentence: "The file is larger than …". */
function messageFromErrors(data) {
  if (!data || typeof data !== "object") return "";
  if (typeof data.detail === "string") return data.detail;
  const messages = [];
  for (const value of Object.values(data)) {
    if (Array.isArray(value)) messages.push(...value.filter((m) => typeof m === "string"));
    else if (typeof value === "string") messages.push(value);
  }
  return messages.join(" ");
}

function httpError(prefix, response, data) {
  const detail = messageFromErrors(data) || response.statusText || "no details";
  return new UploadError("http", `${prefix} (HTTP ${response.status}): ${detail}`, {
    httpStatus: response.status,
    code: data && typeof data.code === "string" ? data.code : null,
  });
}

/** S3 answers errors as XML: <Error><Code>EntityTooLarge</Code><Message>…</Message></Error>. */
function storageError(xhr) {
  const text = xhr.responseText || "";
  const code = (text.match(/<Code>([^<]*)<\/Code>/) || [])[1] || null;
  const message = (text.match(/<Message>([^<]*)<\/Message>/) || [])[1] || xhr.statusText;
  return new UploadError(
    "storage",
    `Storage refused the upload (HTTP ${xhr.status}${code ? `, ${code}` : ""}): ${message}`,
    { httpStatus: xhr.status, code },
  );
}

function processingError(status) {
  const error = status.error || {};
  const message = error.message || "The image could not be processed.";
  return new UploadError("failed", message, { code: error.code || "failed", upload: status });
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortedError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
