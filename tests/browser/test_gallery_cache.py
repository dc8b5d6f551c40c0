"""A repeat visit to the example gallery loads its images from the browser cache.

Presigned GET URLs are signed per window (``URL_SIGNING_WINDOW``), so the
page a user sees again within the window carries the same URLs, and the
outputs' ``Cache-Control: public, max-age=…, immutable`` lets Chromium reuse
what it fetched. What came from where is read from Chromium's own network
log over the DevTools protocol (``Network.*`` events: a response's
``fromDiskCache``, ``requestServedFromCache`` and the bytes ``loadingFinished``
counts as received from the network). ``performance.getEntriesByType
("resource")`` cannot show it here: the images are cross-origin (the
embedded S3 is another port) and S3 sends no ``Timing-Allow-Origin``, so
their ``transferSize`` reads 0 on every visit, cached or not.
"""

from __future__ import annotations

import io
import time
from collections import defaultdict
from typing import Any

import pytest
from PIL import Image

from async_image_upload.conf import DEFAULTS
from tests.browser.conftest import LocalStack
from tests.browser.test_uploader import explained

pytestmark = pytest.mark.browser

PHOTOS = 2


def noisy_jpeg(seed: int) -> bytes:
    """A photo-like JPEG (noise compresses badly), a few hundred KB, 2:1."""
    noise = Image.effect_noise((1600, 800), 40 + seed)
    image = Image.merge(
        "RGB", (noise, noise.rotate(180), Image.linear_gradient("L").resize(noise.size))
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


class NetworkLog:
    """Chromium's network events for one page, by request id."""

    def __init__(self, page: Any) -> None:
        self.session = page.context.new_cdp_session(page)
        self.session.send("Network.enable")
        self.urls: dict[str, str] = {}
        self.types: dict[str, str] = {}
        self.from_disk: dict[str, bool] = {}
        self.served_from_cache: set[str] = set()
        self.network_bytes: dict[str, float] = defaultdict(float)
        self.session.on("Network.requestWillBeSent", self._sent)
        self.session.on("Network.responseReceived", self._response)
        self.session.on("Network.requestServedFromCache", self._cached)
        self.session.on("Network.loadingFinished", self._finished)

    def clear_cache(self) -> None:
        self.session.send("Network.clearBrowserCache")

    def reset(self) -> None:
        for record in (self.urls, self.types, self.from_disk, self.network_bytes):
            record.clear()
        self.served_from_cache.clear()

    def _sent(self, event: dict[str, Any]) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]
        self.types[event["requestId"]] = event.get("type", "")

    def _response(self, event: dict[str, Any]) -> None:
        self.from_disk[event["requestId"]] = bool(event["response"].get("fromDiskCache"))

    def _cached(self, event: dict[str, Any]) -> None:
        self.served_from_cache.add(event["requestId"])

    def _finished(self, event: dict[str, Any]) -> None:
        self.network_bytes[event["requestId"]] += event.get("encodedDataLength", 0)

    def images(self, urls: set[str]) -> list[dict[str, Any]]:
        """What happened to each request for one of ``urls``."""
        return [
            {
                "url": url,
                "from_disk_cache": self.from_disk.get(request_id, False),
                "served_from_cache": request_id in self.served_from_cache,
                "network_bytes": self.network_bytes.get(request_id, 0),
            }
            for request_id, url in self.urls.items()
            if url in urls
        ]


def gallery_images(page: Any) -> list[dict[str, Any]]:
    """Wait until every gallery image has decoded, then read what the browser chose."""
    page.wait_for_function(
        """(count) => {
          const imgs = [...document.querySelectorAll("#gallery img")];
          return imgs.length === count && imgs.every((i) => i.complete && i.naturalWidth > 0);
        }""",
        arg=PHOTOS,
        timeout=20_000,
    )
    return page.locator("#gallery img").evaluate_all(
        """imgs => imgs.map((i) => ({
             src: i.getAttribute("src"), srcset: i.getAttribute("srcset"),
             currentSrc: i.currentSrc, width: i.getAttribute("width"),
             height: i.getAttribute("height"), natural: [i.naturalWidth, i.naturalHeight],
             box: [i.getBoundingClientRect().width, i.getBoundingClientRect().height]}))"""
    )


def placeholders_cleared(page: Any) -> None:
    """async_img.js took each loaded image's inline placeholder background away."""
    page.wait_for_function(
        """() => [...document.querySelectorAll("#gallery img")].every(
             (i) => !i.hasAttribute("data-async-img-placeholder") && !i.style.backgroundImage)""",
        timeout=5_000,
    )


def wait_out_a_window_ending_soon(margin_s: float = 90) -> None:
    """URLs change when a signing window ends: do not let that fall between the two visits."""
    window = int(DEFAULTS["URL_SIGNING_WINDOW"])  # the example keeps the default
    left = window - time.time() % window
    if left < margin_s:
        time.sleep(left + 1)


def test_a_repeat_visit_fetches_no_image_bytes(
    page: Any, local_stack: LocalStack, console: list[str]
) -> None:
    files = [
        {"name": f"cache-{n}.jpg", "mimeType": "image/jpeg", "buffer": noisy_jpeg(n)}
        for n in range(PHOTOS)
    ]
    page.set_input_files("#file-input", files=files)
    with explained("the photos were not saved", local_stack, console):
        for item in files:
            page.locator(".upload", has_text=item["name"]).locator(
                ".upload__saved", has_text="Saved as photo #"
            ).wait_for(timeout=30_000)
    wait_out_a_window_ending_soon()
    network = NetworkLog(page)

    # First visit, with an empty cache: the images come over the network.
    network.clear_cache()
    page.goto(f"{local_stack.url}/admin/")
    page.goto(f"{local_stack.url}/")
    first = gallery_images(page)
    served = page.request.get(f"{local_stack.url}/").text()  # the HTML before any script ran
    assert served.count('data-async-img-placeholder style="background-image:url(') == PHOTOS
    placeholders_cleared(page)  # by the load event, once each image arrived
    first_urls = {image["currentSrc"] for image in first}
    fetched = network.images(first_urls)
    assert fetched and sum(r["network_bytes"] for r in fetched) > 10_000, fetched

    # Away and back by following links, as a user would (not a reload).
    page.click("header nav a[href='/admin/']")
    page.wait_for_url(f"{local_stack.url}/admin/")
    network.reset()
    page.click("a[href='/']")  # the admin's "View site"
    page.wait_for_url(f"{local_stack.url}/")
    second = gallery_images(page)
    placeholders_cleared(page)  # from the cache, often before the script ran: its sweep

    # The same signed URLs within the window: that is what makes them cacheable.
    assert [i["src"] for i in second] == [i["src"] for i in first]
    assert [i["srcset"] for i in second] == [i["srcset"] for i in first]
    again = network.images({image["currentSrc"] for image in second})
    on_the_network = [r for r in again if r["network_bytes"] and not r["from_disk_cache"]]
    assert on_the_network == [], on_the_network
    assert all(r["from_disk_cache"] or r["served_from_cache"] for r in again), again
    assert sum(r["network_bytes"] for r in again if not r["from_disk_cache"]) == 0
    from_disk = sum(r["from_disk_cache"] for r in again)
    print(
        f"\nfirst visit: {sum(r['network_bytes'] for r in fetched):,.0f} image bytes from the "
        f"network; repeat visit: {len(again)} image requests, {from_disk} from the disk cache, "
        f"{len(again) - from_disk} from the memory cache, 0 bytes from the network"
    )
    assert len(again) == len(second)  # every image was asked for, and answered by the cache

    # A new tab of the same browser profile has no memory cache of its own: the disk cache.
    tab = page.context.new_page()
    tab_network = NetworkLog(tab)
    tab.goto(f"{local_stack.url}/")
    third = gallery_images(tab)
    assert [i["src"] for i in third] == [i["src"] for i in first]
    from_tab = tab_network.images({image["currentSrc"] for image in third})
    assert len(from_tab) == PHOTOS, from_tab
    assert all(r["from_disk_cache"] or r["served_from_cache"] for r in from_tab), from_tab
    assert [r for r in from_tab if r["network_bytes"] and not r["from_disk_cache"]] == []
    print(f"new tab: {sum(r['from_disk_cache'] for r in from_tab)} from the disk cache")

    for image in second:
        # No layout shift: the box is reserved from width/height before any byte arrives.
        assert image["width"] and image["height"], image
        assert int(image["width"]) / int(image["height"]) == pytest.approx(2.0)
        # The srcset resolved to one of its own candidates, and it decoded.
        candidates = [entry.rsplit(" ", 1)[0] for entry in image["srcset"].split(", ")]
        assert image["currentSrc"] in candidates, image
        assert image["natural"][0] > 0
    problems = [
        line
        for line in console
        if line.startswith(("error", "pageerror", "http")) and "/favicon.ico" not in line
    ]
    assert not problems, console
