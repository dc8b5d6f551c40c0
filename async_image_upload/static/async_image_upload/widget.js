/**
 * Turns every AsyncImageWidget on the page into an uploader (admin change forms,
 * ModelForms). Loaded as a module by the widget's Media; see widgets.py.
 *
 * The widget's text input keeps the upload id, so the form posts exactly what
 * it would without JavaScript; this only adds a file picker that fills it in.
 */
const ENHANCED = "asyncImageWidgetReady";

/**
 * The client module, by the URL Django's static storage gave it (data-uploader).
 * A relative `import "./uploader.js"` is not rewritten by ManifestStaticFilesStorage:
 * it would load an unhashed copy that browsers may keep stale across releases, and
 * that is missing where only hashed files are served (WhiteNoise's
 * WHITENOISE_KEEP_ONLY_HASHED_FILES).
 */
function loadUploader(root) {
  return import(root.dataset.uploader || new URL("./uploader.js", import.meta.url).href);
}

async function enhance(root) {
  // Admin inlines keep an unused template row (".empty-form"); it is cloned
  // later and enhanced then, through the "formset:added" event below.
  if (root.dataset[ENHANCED] || root.closest(".empty-form")) return;
  const panel = root.querySelector(".async-image-widget__uploader");
  const idInput = root.querySelector("input:not([type=file])");
  if (!panel || !idInput || !root.dataset.endpoint) return;
  root.dataset[ENHANCED] = "1";
  let upload;
  try {
    ({ upload } = await loadUploader(root));
  } catch (error) {
    // The text input still takes a pasted id; without the client there is no picker.
    console.error("async_image_upload: could not load the uploader", error);
    return;
  }

  const fileInput = panel.querySelector(".async-image-widget__file");
  const bar = panel.querySelector(".async-image-widget__progress");
  const cancelButton = panel.querySelector(".async-image-widget__cancel");
  const message = panel.querySelector(".async-image-widget__message");
  const form = root.closest("form");
  let task = null;
  panel.hidden = false;

  const say = (text, isError = false) => {
    message.textContent = text;
    message.classList.toggle("async-image-widget__message--error", isError);
  };

  // Saving while an upload is still running would save the old id; hold the submit.
  form?.addEventListener("submit", (event) => {
    if (task) {
      event.preventDefault();
      say("Wait for the upload to finish (or cancel it) before saving.", true);
    }
  });

  cancelButton.addEventListener("click", () => task?.cancel());

  fileInput.addEventListener("change", async () => {
    const file = fileInput.files[0];
    if (!file) return;
    task?.cancel();
    bar.hidden = false;
    bar.value = 0;
    cancelButton.hidden = false;
    say(`Uploading ${file.name}…`);
    const current = upload(file, {
      endpoint: root.dataset.endpoint,
      field: root.dataset.field || "",
      onProgress: ({ percent }) => (bar.value = percent),
      onUploaded: () => say("Processing…"),
    });
    task = current;
    try {
      const status = await current.promise;
      idInput.value = status.id;
      // Anything listening for edits (admin "unsaved changes" prompts) should know.
      idInput.dispatchEvent(new Event("change", { bubbles: true }));
      showPreview(root, status);
      say("Ready. Save the form to keep it.");
    } catch (error) {
      if (error.kind === "aborted") say("Cancelled.");
      else if (error.kind === "failed") say(`Processing failed (${error.code}): ${error.message}`, true);
      else say(error.message, true);
    } finally {
      if (task === current) {
        task = null;
        cancelButton.hidden = true;
        bar.hidden = true;
        fileInput.value = "";
      }
    }
  });
}

/** Replace (or create) the preview the template rendered for the saved value. */
function showPreview(root, status) {
  let preview = root.querySelector(".async-image-widget__preview");
  if (!preview) {
    preview = document.createElement("div");
    preview.className = "async-image-widget__preview";
    root.append(preview);
  }
  preview.dataset.status = status.status;
  preview.replaceChildren();
  const wanted = root.dataset.variant;
  const plain = status.variants.filter((v) => !v.blurred);
  const variant = plain.find((v) => v.name === wanted) || plain[0];
  const img = document.createElement("img");
  img.alt = "";
  img.className = "async-image-widget__image";
  // The inline placeholder shows at once; the thumbnail replaces it when loaded.
  if (status.placeholder) img.src = status.placeholder;
  if (variant) {
    // The box's aspect ratio before the thumbnail arrives, as the server-rendered preview has.
    img.width = variant.display_width;
    img.height = variant.display_height;
    const thumb = new Image();
    thumb.addEventListener("load", () => (img.src = thumb.src), { once: true });
    thumb.src = variant.url;
  }
  const label = document.createElement("span");
  label.className = "async-image-widget__status";
  const source = status.source;
  label.textContent = source?.width ? `${status.status} · ${source.width}×${source.height}` : status.status;
  preview.append(img, label);
}

function enhanceAll(scope) {
  scope.querySelectorAll(".async-image-widget").forEach(enhance);
}

enhanceAll(document);
document.addEventListener("formset:added", (event) => enhanceAll(event.target));
