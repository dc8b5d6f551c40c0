/**
 * Clears the inline placeholder of {% async_img %} images once the real image has
 * loaded, so it never shows through a transparent photo. Optional: without it the
 * placeholder stays behind the image (invisible under an opaque one).
 * Include once per page: {% async_img_script %} or a <script defer> of this file.
 */
(() => {
  const MARK = "data-async-img-placeholder";
  const clear = (img) => {
    img.style.removeProperty("background-image");
    img.removeAttribute(MARK);
  };
  // Loads that happen after this runs (load does not bubble; capture sees it).
  document.addEventListener(
    "load",
    (event) => {
      if (event.target instanceof HTMLImageElement && event.target.hasAttribute(MARK)) clear(event.target);
    },
    true,
  );
  // Images that loaded before (from the cache, typically).
  const sweep = () => {
    for (const img of document.querySelectorAll(`img[${MARK}]`)) {
      if (img.complete && img.naturalWidth > 0) clear(img);
    }
  };
  sweep();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", sweep, { once: true });
})();
