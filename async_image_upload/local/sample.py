"""A sample photo for smoke runs, drawn with Pillow so nothing binary is shipped."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFilter


def sample_photo_bytes(width: int = 3000, height: int = 2000) -> bytes:
    """A landscape-like JPEG (sky gradient, sun, hills, grain) with camera and GPS EXIF.

    The EXIF is there on purpose: the Lambda must strip it from every output.
    """
    sky = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    sky = Image.merge(
        "RGB",
        [
            sky.getchannel(0).point(lambda v: 90 + v // 3),
            sky.getchannel(0).point(lambda v: 140 + v // 4),
            sky.getchannel(0).point(lambda v: 230 - v // 5),
        ],
    )
    draw = ImageDraw.Draw(sky)
    draw.ellipse((width * 0.7, height * 0.12, width * 0.82, height * 0.3), fill=(255, 226, 120))
    for index, colour in enumerate([(60, 110, 60), (45, 90, 50), (30, 70, 40)]):
        top = int(height * (0.55 + index * 0.12))
        points = (
            [(0, height)]
            + [
                (x, top + int(60 * ((x * (index + 3)) % 700) / 700))
                for x in range(0, width + 50, 50)
            ]
            + [(width, height)]
        )
        draw.polygon(points, fill=colour)
    grain = Image.effect_noise((width, height), 24).convert("RGB")
    photo = Image.blend(sky, grain, 0.08).filter(ImageFilter.SMOOTH)
    exif = Image.Exif()
    exif[0x010F] = "ExampleCam"
    exif[0x0110] = "Model 1"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=92, exif=exif)
    return buffer.getvalue()
