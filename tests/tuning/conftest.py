"""Fixtures for the tuning tests: a folder of real photos written by Pillow, and a bad one."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFilter


def _scene(size: tuple[int, int], seed: int) -> Image.Image:
    """Shapes, gradients and grain: compresses like a photo, not like a flat colour."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x, y, x + rng.randrange(20, 300), y + rng.randrange(20, 300)), colour)
    grain = Image.effect_noise(size, 30).convert("RGB").filter(ImageFilter.GaussianBlur(0.6))
    return Image.blend(image, grain, 0.15)


@pytest.fixture(scope="session")
def photo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real photos (a JPEG with EXIF rotation, a PNG with alpha), a corrupt JPEG, a note."""
    folder = tmp_path_factory.mktemp("photos")
    exif = Image.Exif()
    exif[0x0112] = 6
    _scene((1600, 1200), 1).save(folder / "camera.jpg", "JPEG", quality=88, exif=exif)
    nested = folder / "album"
    nested.mkdir()
    logo = _scene((640, 480), 2).convert("RGBA")
    logo.putalpha(Image.radial_gradient("L").resize((640, 480)))
    logo.save(nested / "logo.png", "PNG")
    good = (folder / "camera.jpg").read_bytes()
    (folder / "broken.jpg").write_bytes(good[:2000])  # a truncated upload
    (folder / "notes.txt").write_text("not a photo; a folder walk skips it")
    return folder
