"""The uploader in a real browser against the real local stack.

Chromium picks files on the example page and in the admin; the bytes go to
the embedded S3, the bundled Lambda makes the variants, its signed callback
reaches Django, and the page shows what came back.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import LocalStack

pytestmark = pytest.mark.browser

#: 2:1 so every box fit is exact: the expected sizes need no rounding rule.
SOURCE_SIZE = (4000, 2000)
EXPECTED_SIZES = {
    "50x50": (50, 25),
    "100x100": (100, 50),
    "400x400": (400, 200),
    "original": SOURCE_SIZE,
}
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the app's default, which the example keeps


def photo_jpeg() -> bytes:
    """A ~5 MB JPEG with real structure (gradient, blotches, grain), as a camera makes."""
    width, height = SOURCE_SIZE
    gradient = Image.linear_gradient("L").resize(SOURCE_SIZE)
    blotches = Image.effect_noise((width // 4, height // 4), 64).resize(
        SOURCE_SIZE, Image.Resampling.BILINEAR
    )
    grain = Image.effect_noise(SOURCE_SIZE, 48)
    image = Image.merge(
        "RGB",
        (
            gradient,
            blotches,
            Image.blend(grain, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 0.4),
        ),
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=96)
    return out.getvalue()


def card(page: Any, filename: str) -> Any:
    return page.locator(".upload", has=page.locator(".upload__name", has_text=filename))


def screenshot(page: Any, name: str) -> None:
    """Keep pictures of the page when BROWSER_SCREENSHOTS names a folder (CI artifacts)."""
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@contextmanager
def explained(what: str, local_stack: LocalStack, console: list[str]) -> Iterator[None]:
    """Turn a browser timeout into a failure that shows the console and the stack's log."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        yield
    except PlaywrightError as exc:
        raise AssertionError(
            f"{what}: {exc}\nbrowser console:\n"
            + "\n".join(console)
            + "\nstack log:\n"
            + local_stack.log_tail()
        ) from exc


def test_photo_goes_up_and_thumbnails_come_back(
    page: Any, local_stack: LocalStack, console: list[str]
) -> None:
    data = photo_jpeg()
    assert 3_500_000 < len(data) < 8_000_000, len(data)
    # Record every value the progress bar shows, to check it climbs to 100 and never back.
    page.evaluate(
        """() => {
          window.progressSeen = [];
          new MutationObserver((records) => {
            for (const r of records) {
              if (r.target.matches?.("progress")) window.progressSeen.push(r.target.value);
            }
          }).observe(document.getElementById("uploads"),
                     {subtree: true, attributes: true, attributeFilter: ["value"]});
          // Capture phase: runs before the page's own handler starts the upload.
          document.getElementById("file-input").addEventListener(
            "change", () => { window.pickedAt = performance.now(); }, {capture: true, once: true});
        }"""
    )

    started = time.perf_counter()
    page.set_input_files(
        "#file-input", files=[{"name": "beach.jpg", "mimeType": "image/jpeg", "buffer": data}]
    )
    beach = card(page, "beach.jpg")
    with explained("the photo did not finish", local_stack, console):
        beach.and_(page.locator("[data-state=ready]")).wait_for(timeout=30_000)
        # Every variant image decoded (complete, with pixels) and the 400px hero faded in.
        shown_at = page.wait_for_function(
            """() => {
              const card = document.querySelector(".upload[data-state=ready]");
              const imgs = [...card.querySelectorAll(".variants img")];
              const done = imgs.length === 8 && imgs.every((i) => i.complete && i.naturalWidth > 0)
                && card.querySelector(".stage__full.is-loaded");
              return done && performance.now();
            }""",
            timeout=20_000,
        ).json_value()
    in_page = (shown_at - page.evaluate("window.pickedAt")) / 1000
    wall = time.perf_counter() - started  # includes Playwright handing the bytes to Chromium
    print(
        f"\n{len(data) / 1e6:.1f} MB photo: pick → all thumbnails shown in {in_page:.2f} s "
        f"in the page ({wall:.2f} s wall clock)"
    )
    screenshot(page, "ready")

    assert beach.locator("progress").evaluate("p => p.value") == 100
    assert beach.locator(".progress__pct").inner_text() == "100%"
    seen = page.evaluate("window.progressSeen")
    assert seen and seen[-1] == 100 and seen == sorted(seen), seen

    # The inline placeholder came with the status, before any thumbnail request.
    placeholder = beach.locator(".stage__placeholder")
    assert placeholder.get_attribute("src").startswith("data:image/")
    assert placeholder.evaluate("img => img.naturalWidth") > 0

    images = beach.locator(".variants img").evaluate_all(
        """imgs => imgs.map((i) => ({
             name: i.dataset.variant, blurred: i.dataset.blurred === "true",
             natural: [i.naturalWidth, i.naturalHeight],
             reported: [Number(i.dataset.width), Number(i.dataset.height)]}))"""
    )
    plain = {i["name"]: tuple(i["natural"]) for i in images if not i["blurred"]}
    assert plain == EXPECTED_SIZES
    blurred = [i for i in images if i["blurred"]]
    assert sorted(i["name"] for i in blurred) == sorted(EXPECTED_SIZES)
    for image in images:  # what the API says is what the browser decoded
        assert image["natural"] == image["reported"], image
    captions = beach.locator(".variants figcaption").all_inner_texts()
    assert any("400x400" in c and "400\u00d7200" in c and "KiB" in c for c in captions), captions

    # Attached to a Photo through the example's API; the page lists it after a reload.
    beach.locator(".upload__saved", has_text="Saved as photo #").wait_for()
    photo_id = beach.get_attribute("data-photo-id")
    page.reload()
    # The photo itself (with its srcset), not the inline placeholder stacked under it.
    gallery_img = page.locator(f'#gallery [data-photo="{photo_id}"] img[srcset]')
    gallery_img.evaluate("img => img.decode()")  # resolves once loaded, throws if broken
    assert gallery_img.evaluate("img => img.naturalWidth") > 0
    # Nothing went wrong on the page (the admin login page's missing favicon aside).
    problems = [
        line
        for line in console
        if line.startswith(("error", "pageerror", "http")) and "/favicon.ico" not in line
    ]
    assert not problems, console


def test_bad_files_explain_themselves(
    page: Any, local_stack: LocalStack, console: list[str], tmp_path: Path
) -> None:
    too_large = tmp_path / "huge.jpg"
    with too_large.open("wb") as handle:  # sparse: only the declared size matters
        handle.truncate(25 * 1024 * 1024)
    page.set_input_files(
        "#file-input",
        files=[
            # A text file renamed .jpg: accepted by type, refused by the Lambda's sniffing.
            {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"just some text\n" * 200},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"plain text"},
        ],
    )
    page.set_input_files("#file-input", str(too_large))

    failed = card(page, "notes.jpg")
    with explained("no failure shown", local_stack, console):
        failed.and_(page.locator("[data-state=failed]")).wait_for(timeout=30_000)
    message = failed.locator(".upload__message").inner_text()
    assert "Processing failed" in message and "unsupported_format" in message, message
    # It did reach S3 in full before the Lambda judged it.
    assert failed.locator("progress").evaluate("p => p.value") == 100

    wrong_type = card(page, "notes.txt")
    wrong_type.and_(page.locator("[data-state=rejected]")).wait_for()
    message = wrong_type.locator(".upload__message").inner_text()
    assert "Rejected" in message and "'text/plain' is not accepted" in message, message
    assert wrong_type.locator("progress").evaluate("p => p.value") == 0

    huge = card(page, "huge.jpg")
    huge.and_(page.locator("[data-state=rejected]")).wait_for()
    message = huge.locator(".upload__message").inner_text()
    assert f"larger than the limit of 20 MiB ({MAX_UPLOAD_BYTES:,} bytes)" in message, message
    assert "This file is 25.0 MiB; the limit is 20.0 MiB." in message, message
    screenshot(page, "errors")


def test_client_cancels_cleanly(page: Any) -> None:
    """cancel() during the S3 POST: rejects as aborted, no more callbacks, onError silent."""
    outcome = page.evaluate(
        """async () => {
          const { upload } = await import("/static/async_image_upload/uploader.js");
          const file = new File([new Uint8Array(8 * 1024 * 1024)], "big.jpg", {type: "image/jpeg"});
          const seen = { errors: 0, progress: 0, phaseAtCancel: null };
          const task = upload(file, {
            field: "photos.Photo.image",
            onProgress: () => {
              seen.progress += 1;
              seen.phaseAtCancel ??= task.phase;
              task.cancel();
            },
            onError: () => { seen.errors += 1; },
          });
          try {
            await task.promise;
            return { resolved: true };
          } catch (error) {
            return { kind: error.kind, name: error.name, phase: task.phase, id: task.id, ...seen };
          }
        }"""
    )
    assert outcome["kind"] == "aborted" and outcome["name"] == "UploadError", outcome
    assert outcome["phaseAtCancel"] == "uploading" and outcome["phase"] == "cancelled", outcome
    # Aborted in flight: neither the 100 % of a finished upload nor an error report followed.
    assert outcome["progress"] == 1 and outcome["errors"] == 0, outcome
    assert outcome["id"], outcome  # the presign had run


def test_admin_widget_uploads_and_previews(
    page: Any, local_stack: LocalStack, console: list[str]
) -> None:
    page.goto(f"{local_stack.url}/admin/photos/photo/add/")
    page.select_option("#id_owner", label="demo")
    page.fill("#id_title", "From the admin")
    widget = page.locator(".async-image-widget")
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 600), (40, 120, 200)).save(buffer, "JPEG")
    widget.locator("input[type=file]").set_input_files(
        files=[{"name": "admin.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}]
    )
    with explained("no preview", local_stack, console):
        page.wait_for_function(
            """() => {
              const img = document.querySelector(".async-image-widget__preview img");
              return img?.src.includes("/100x100.jpg") && img.complete && img.naturalWidth > 0;
            }""",
            timeout=30_000,
        )
    preview = widget.locator(".async-image-widget__preview img")
    assert preview.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [100, 50]
    upload_id = page.input_value("#id_image")
    assert len(upload_id) == 36
    screenshot(page, "admin-widget")

    page.click("input[name=_continue]")
    page.wait_for_url("**/change/")
    # The saved form renders the server-side preview of the same upload.
    assert page.input_value("#id_image") == upload_id
    saved = page.locator(".async-image-widget__preview img")
    assert f"/image/{upload_id}/100x100.jpg" in saved.get_attribute("src")
    # Rendered by render_img, like {% async_img %}: the box is sized before the bytes arrive.
    assert (saved.get_attribute("width"), saved.get_attribute("height")) == ("100", "50")
    assert "100w" in saved.get_attribute("srcset")
    saved.evaluate("img => img.decode()")
    assert saved.evaluate("img => img.currentSrc").split("?")[0].endswith("/100x100.jpg")
