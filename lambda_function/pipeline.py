"""The image pipeline: bytes and a spec in, encoded variants out. No I/O.

How it stays fast on a 12 MP phone photo:

* the format is sniffed and the pixel count read from the header; nothing is
  decoded before both checks pass;
* the original-size variant is the source with its metadata cut out
  (:mod:`.stripping`), not a re-encode;
* the blurred original is computed and stored at reduced resolution (a blur
  has no detail to lose; see :func:`blur_reduction`);
* so a JPEG only needs decoding at the size of the largest *reduced* output,
  and libjpeg's DCT scaling (``draft``) decodes it at 1/2, 1/4 or 1/8 size;
* every output is resized from the smallest already-made image that is still
  large enough (a cascade), and RGBA is resized and blurred premultiplied so
  transparent pixels do not bleed dark fringes; a blur keeps the sharp alpha,
  so a transparent PNG's blurred version has no halo around its subject.
"""

from __future__ import annotations

import base64
import io
import math
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PIL import Image, ImageFile, ImageFilter

from . import formats, memory_budget, outputs
from . import icc as icc_profiles
from .errors import ErrorCode, ImageError
from .formats import Format
from .limits import MAX_BOX
from .once import once
from .opening import open_image
from .outputs import OutputFormat
from .stripping import huffman_jpeg_too_short, strip_gif, strip_jpeg, strip_png, strip_webp
from .structure import check_structure

if TYPE_CHECKING:
    from PIL import ImageCms, ImageMath
else:  # loaded on first use, not at INIT: few uploads need them (see .lazy_modules)
    from .lazy_modules import ImageCms, ImageMath

ORIGINAL = "original"
_BOX_NAME = re.compile(r"([1-9][0-9]{0,4})x([1-9][0-9]{0,4})")

# Blurring at 1/f resolution with radius R/f and upscaling back stays within a
# mean absolute difference of 2/255 of the full-resolution blur as long as the
# reduced radius is at least this many pixels (measured: tests and benchmark).
MIN_REDUCED_BLUR_RADIUS = 2.5
PLACEHOLDER_BOX = 16
PLACEHOLDER_FORMAT = outputs.WEBP
PLACEHOLDER_QUALITY = 40

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Pillow raises a zoo of exception types on hostile input; all mean "corrupt".
_DECODE_ERRORS = (
    OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, RuntimeError
)  # fmt: skip


@dataclass(frozen=True)
class VariantSpec:
    """One requested variant: fit within ``box`` (never upscaled) or, with no box, full size."""

    name: str
    box: tuple[int, int] | None

    @classmethod
    def parse(cls, name: str) -> VariantSpec:
        """Parse ``"400x300"`` or ``"original"``; raise ValueError for anything else."""
        if name == ORIGINAL:
            return cls(ORIGINAL, None)
        match = _BOX_NAME.fullmatch(name)
        if not match or max(int(match[1]), int(match[2])) > MAX_BOX:
            raise ValueError(f"not a variant name: {name!r}")
        return cls(name, (int(match[1]), int(match[2])))


@dataclass(frozen=True)
class Spec:
    """What to make and the limits to enforce while making it."""

    variants: tuple[VariantSpec, ...]
    blur_radius: int = 20
    output_format: str = "auto"
    quality: int = 82
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000
    max_animation_pixels: int = 250_000_000
    #: The function's memory size; None skips the memory budget (scripts, benchmarks).
    memory_mb: int | None = None
    background: tuple[int, int, int] = (255, 255, 255)


@dataclass(frozen=True)
class Output:
    """One encoded file. ``width``/``height`` are its pixels as displayed upright."""

    name: str
    blurred: bool
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    display_width: int
    display_height: int


@dataclass(frozen=True)
class Result:
    """Everything the handler stores and reports about one processed source."""

    format: str
    width: int
    height: int
    frames: int
    outputs: tuple[Output, ...]
    placeholder: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    #: What the memory budget expected the pipeline to hold beyond the runtime (MB).
    memory_estimate_mb: int = 0


def blur_reduction(radius: float) -> int:
    """How many times smaller a blur of ``radius`` may be computed (1 = full size)."""
    return max(1, int(radius / MIN_REDUCED_BLUR_RADIUS))


def variant_blur_radius(radius: int, variant_long: int, display_long: int) -> float:
    """Scale the configured radius with the variant so every size looks alike.

    Never below ``long side / 100`` (the original deployment's thumbnail radius,
    so small thumbnails still look blurred) and never above ``radius``.
    """
    scaled = radius * variant_long / display_long
    return min(float(radius), max(scaled, variant_long / 100))


def fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size with ``size``'s aspect ratio inside ``box``, never larger than ``size``."""
    width, height = size
    scale = min(1.0, box[0] / width, box[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def process(data: bytes, spec: Spec, checkpoint: Callable[[], None] | None = None) -> Result:
    """Validate ``data`` and make every variant in ``spec``; raise ImageError with a code.

    ``checkpoint`` is called after every stage; it raises (``processing_timeout``)
    to stop a run whose time is up (the handler's :mod:`.deadline`).

    Safe to call from several threads at once: it changes no process-wide state
    (no Pillow setting, no warning filter) while it runs.
    """
    if not data:
        raise ImageError(ErrorCode.EMPTY, "the uploaded file is empty")
    if len(data) > spec.max_bytes:
        raise ImageError(ErrorCode.TOO_LARGE, f"{len(data)} bytes exceeds {spec.max_bytes}")
    fmt = formats.sniff(data)
    check_structure(data, fmt)  # floods of tiny structures never reach a parser
    try:
        return _Job(data, fmt, spec, checkpoint).run()
    except ImageError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        # Pillow's own check, inside a plugin, against its default: past our cap or not,
        # the image is too large to decode here. (The warning is an exception only where
        # the host turned warnings into errors, as the test suite does.)
        raise ImageError(ErrorCode.TOO_MANY_PIXELS, str(exc)) from None
    except _DECODE_ERRORS as exc:
        raise ImageError(ErrorCode.CORRUPT, f"cannot decode {fmt.name}: {exc}") from None


class _Handle:
    """Hands the one reference to an opened image over, so the receiver can free it early."""

    def __init__(self, image: ImageFile.ImageFile) -> None:
        self._image: ImageFile.ImageFile | None = image

    def take(self) -> ImageFile.ImageFile:
        image, self._image = self._image, None
        assert image is not None, "an image handle is taken once"
        return image


class _Job:
    """One run of the pipeline; holds the intermediate images of the cascade."""

    def __init__(
        self, data: bytes, fmt: Format, spec: Spec, checkpoint: Callable[[], None] | None
    ) -> None:
        self.data = data
        self.checkpoint = checkpoint
        self.fmt = fmt
        self.spec = spec
        self.timings: dict[str, float] = {}
        self._clock = time.perf_counter()

    def _lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(self.timings.get(stage, 0.0) + (now - self._clock) * 1000, 2)
        self._clock = now
        if self.checkpoint is not None:
            self.checkpoint()

    def run(self) -> Result:
        image = open_image(self.data, self.fmt, self.spec.max_pixels)
        width, height = image.size
        if self.fmt.name == "PNG":
            # PNG's getexif() decodes every pixel to find an eXIf chunk after them, so
            # the full-size decode must be within budget before the orientation is read.
            memory_budget.plan(
                memory_budget.Source(
                    kind=memory_budget.source_kind(self.fmt.name, image.mode, 1),
                    size=image.size,
                    data_bytes=2 * len(self.data),  # the source and its stripped copy
                ),
                image.size,
                [image.size],
                self.spec.memory_mb,
            )
        kept_original, frames = self._lossless_original(image)
        if frames * width * height > self.spec.max_animation_pixels:
            raise ImageError(
                ErrorCode.ANIMATION_TOO_LARGE,
                f"{frames} frames of {width}x{height} exceed {self.spec.max_animation_pixels} "
                "pixels in total",
            )
        orientation = self._orientation(image)
        display = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
        self._lap("inspect")

        targets = self._targets(display, reencode_original=kept_original is None)
        largest = max(targets.values(), key=_area)
        stored_largest = (largest[1], largest[0]) if orientation in (5, 6, 7, 8) else largest
        plan = memory_budget.plan(
            memory_budget.Source(
                kind=memory_budget.source_kind(self.fmt.name, image.mode, frames),
                size=image.size,
                data_bytes=len(self.data),
                kept_original_bytes=len(kept_original or b""),
            ),
            stored_largest,
            list(targets.values()),
            self.spec.memory_mb,
        )
        self._lap("budget")
        # The decode below owns the source from here on, so it can free it early.
        handle = _Handle(image)
        del image
        working = self._decode(handle, display, orientation, plan)
        encoded, placeholder = self._make_all(working, targets, display, kept_original)
        return Result(
            format=self.fmt.name,
            width=display[0],
            height=display[1],
            frames=frames,
            outputs=tuple(encoded),
            placeholder=placeholder,
            timings_ms=self.timings,
            memory_estimate_mb=plan.estimate_mb,
        )

    # -- inspection ---------------------------------------------------------

    def _lossless_original(self, image: Image.Image) -> tuple[bytes | None, int]:
        """The metadata-free source bytes (or None to re-encode) and the frame count."""
        wants_original = any(variant.box is None for variant in self.spec.variants)
        if self.fmt.name == "GIF":
            stripped, frames = strip_gif(self.data)
            if stripped is None:  # a structure the copy does not handle: count with Pillow
                frames = getattr(image, "n_frames", 1)
            return (stripped if wants_original else None), max(frames, 1)
        if self.fmt.name == "JPEG" and huffman_jpeg_too_short(self.data, *image.size):
            raise ImageError(
                ErrorCode.CORRUPT,
                f"{len(self.data)} bytes cannot hold {image.size[0]}x"
                f"{image.size[1]} pixels: the file is truncated",
            )
        frames = getattr(image, "n_frames", 1) if self.fmt.name in ("PNG", "WEBP") else 1
        if not wants_original:
            return None, frames
        orientation = self._orientation(image)
        if self.fmt.name == "JPEG":
            return strip_jpeg(self.data, orientation), frames
        # Only JPEG keeps an Orientation tag: browsers ignore it in PNG and WebP.
        if (
            orientation != 1
            and frames > 1
            and frames * image.width * image.height <= (self.spec.max_pixels)
        ):  # every frame is held at once: no more pixels than one still may have
            return _animation_upright(image, self.fmt.name, orientation), frames
        if orientation != 1:
            return None, frames
        if self.fmt.name == "PNG":
            return strip_png(self.data), frames
        if self.fmt.name == "WEBP":
            return strip_webp(self.data), frames
        return None, frames  # HEIF/AVIF: browsers do not all display them

    @staticmethod
    def _orientation(image: Image.Image) -> int:
        try:
            value = image.getexif().get(0x0112, 1)
        except _DECODE_ERRORS:
            return 1  # unreadable EXIF: the pixels are still fine
        return value if value in range(1, 9) else 1

    def _targets(
        self, display: tuple[int, int], reencode_original: bool
    ) -> dict[tuple[str, bool], tuple[int, int]]:
        """Pixel size of every image to make, keyed by (variant name, blurred)."""
        targets: dict[tuple[str, bool], tuple[int, int]] = {}
        for variant in self.spec.variants:
            if variant.box is None:
                if reencode_original:
                    targets[(variant.name, False)] = display
                if self.spec.blur_radius:
                    factor = self._original_blur_factor(display)
                    targets[(variant.name, True)] = (
                        max(1, math.ceil(display[0] / factor)),
                        max(1, math.ceil(display[1] / factor)),
                    )
            else:
                size = fit(display, variant.box)
                targets[(variant.name, False)] = size
                if self.spec.blur_radius:
                    targets[(variant.name, True)] = size
        targets[("placeholder", False)] = fit(display, (PLACEHOLDER_BOX, PLACEHOLDER_BOX))
        return targets

    def _original_blur_factor(self, display: tuple[int, int]) -> int:
        """Reduction for the blurred original; small sources stay near full size (cheap anyway)."""
        return max(1, min(blur_reduction(self.spec.blur_radius), max(display) // 256))

    # -- decoding -----------------------------------------------------------

    def _decode(
        self,
        handle: _Handle,
        display: tuple[int, int],
        orientation: int,
        plan: memory_budget.Plan,
    ) -> Image.Image:
        """Decode once, as small as the plan allows, upright, in sRGB.

        Each step replaces the only reference to the previous image, so at most
        two full copies exist at any time (the budget counts on it).
        """
        image = handle.take()
        if plan.draft_scale > 1:
            # The DCT scale (1/2..1/8) the plan chose from the header; floor sizes make
            # draft() pick exactly that scale (see memory_budget.draft_scale).
            image.draft(None, (image.width // plan.draft_scale, image.height // plan.draft_scale))
        image.load()
        self._lap("decode")
        icc = image.info.get("icc_profile")
        if image.mode in _REDUCIBLE:
            # Here, not in _to_working_mode: rebinding frees the full-size decode.
            image = _reduce(image, plan.reduce_factor)
            image = _to_working_mode(image)
        else:
            image = _to_working_mode(image, plan.reduce_factor)
        if orientation != 1:
            image = image.transpose(_TRANSPOSE[orientation])
        if icc:
            image = _to_srgb(image, icc)
        image.info = {}  # nothing from the source may leak into an output
        if image.mode == "RGBA":
            image = image.convert("RGBa")  # premultiplied: clean edges when resizing/blurring
        self._lap("convert")
        return image

    # -- making -------------------------------------------------------------

    def _make_all(
        self,
        working: Image.Image,
        targets: dict[tuple[str, bool], tuple[int, int]],
        display: tuple[int, int],
        kept_original: bytes | None,
    ) -> tuple[list[Output], str]:
        """Make, blur and encode each target, largest first, keeping only what comes next.

        Each size is resized from the previous (smaller) one when it covers it,
        else from ``working``; an image is encoded as soon as it is made and
        dropped, so memory holds ``working`` plus about three target-sized
        images whatever the number of variants.
        """
        keys_by_size: dict[tuple[int, int], list[tuple[str, bool]]] = {}
        for key, size in targets.items():
            keys_by_size.setdefault(size, []).append(key)
        made: dict[tuple[str, bool], Output] = {}
        placeholder = ""
        previous = working
        for size in sorted(keys_by_size, key=_area, reverse=True):
            if size == working.size:
                resized = working
            else:
                covers = previous.width >= size[0] and previous.height >= size[1]
                source = previous if covers else working
                resized = source.resize(
                    size, Image.Resampling.LANCZOS, reducing_gap=memory_budget.REDUCING_GAP
                )
                del source
            previous = resized  # the one before is freed here (unless it is ``working``)
            self._lap("resize")
            for name, blurred in keys_by_size[size]:
                if name == "placeholder":
                    placeholder = self._placeholder(resized)
                elif blurred:
                    if name == ORIGINAL:
                        radius = self.spec.blur_radius * max(size) / max(display)
                    else:
                        radius = variant_blur_radius(self.spec.blur_radius, max(size), max(display))
                    image = _blur(resized, radius)
                    self._lap("blur")
                    made[(name, blurred)] = self._output(name, True, image, display)
                    del image
                else:
                    made[(name, blurred)] = self._output(name, False, resized, display)
                self._lap("encode")
            del resized
        encoded: list[Output] = []
        for variant in self.spec.variants:
            for blurred in (False, True) if self.spec.blur_radius else (False,):
                if (variant.name, blurred) == (ORIGINAL, False) and kept_original is not None:
                    encoded.append(
                        Output(
                            name=ORIGINAL,
                            blurred=False,
                            data=kept_original,
                            content_type=self.fmt.mime,
                            extension=self.fmt.extension,
                            width=display[0],
                            height=display[1],
                            display_width=display[0],
                            display_height=display[1],
                        )
                    )
                else:
                    encoded.append(made[(variant.name, blurred)])
        return encoded, placeholder

    def _output(
        self, name: str, blurred: bool, image: Image.Image, display: tuple[int, int]
    ) -> Output:
        """Encode one made image; an original reports the full display size even when reduced."""
        shown = display if name == ORIGINAL else image.size
        output_format = self._output_format(image)
        return Output(
            name=name,
            blurred=blurred,
            data=_encode(image, output_format, self.spec.quality, self.spec.background),
            content_type=output_format.content_type,
            extension=output_format.extension,
            width=image.width,
            height=image.height,
            display_width=shown[0],
            display_height=shown[1],
        )

    def _output_format(self, image: Image.Image) -> OutputFormat:
        """The format of an output, from OUTPUT_FORMAT and the source."""
        if self.spec.output_format != "auto":
            return outputs.OUTPUTS[self.spec.output_format]
        has_alpha = image.mode in ("RGBa", "RGBA", "LA")
        return {
            "JPEG": outputs.JPEG,
            "PNG": outputs.PNG,
            "WEBP": outputs.WEBP,
            "GIF": outputs.PNG,  # a still from the first frame; PNG keeps its transparency
        }.get(self.fmt.name, outputs.WEBP if has_alpha else outputs.JPEG)

    def _placeholder(self, image: Image.Image) -> str:
        """A ``data:`` URI small enough to inline in the callback and in HTML."""
        encoded = _encode(image, PLACEHOLDER_FORMAT, PLACEHOLDER_QUALITY, self.spec.background)
        data = base64.b64encode(encoded).decode("ascii")
        return f"data:{PLACEHOLDER_FORMAT.content_type};base64,{data}"


def _animation_upright(image: Image.Image, format_name: str, orientation: int) -> bytes:
    """Every frame turned upright and encoded again in the source's format (animation kept).

    Browsers ignore EXIF orientation in PNG and WebP, so a lossless copy would show
    sideways; the still re-encode would lose the animation. Frames are taken as
    composited RGBA in sRGB, with their durations and the loop count.
    """
    icc = image.info.get("icc_profile")
    frames, durations = [], []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        frame = image.convert("RGBA").transpose(_TRANSPOSE[orientation])
        frames.append(_to_srgb(frame, icc) if icc else frame)
        durations.append(int(image.info.get("duration", 100)) or 100)
    image.seek(0)
    loop = int(image.info.get("loop", 0))
    buffer = io.BytesIO()
    options = {"lossless": True} if format_name == "WEBP" else {}
    frames[0].save(
        buffer, format_name, save_all=True, append_images=frames[1:], duration=durations,
        loop=loop, **options,
    )  # fmt: skip
    return buffer.getvalue()


def _blur(image: Image.Image, radius: float) -> Image.Image:
    """Gaussian blur; with alpha, the colour is blurred and the shape is kept.

    Blurring the alpha channel too would spread the subject of a transparent
    PNG into its see-through surroundings: the blurred version, shown in
    place of the sharp one while it loads, then has a smeared halo around the
    subject that the sharp one does not have. So an ``RGBa`` (premultiplied)
    image is blurred whole, which weighs every colour by its opacity (the
    colour under a transparent pixel counts for nothing: no dark or keyed-out
    fringe), un-premultiplied by the blurred alpha, and given the sharp alpha
    back: transparent areas stay transparent, the edge keeps the subject's
    colour.
    """
    blurred = image.filter(ImageFilter.GaussianBlur(radius))
    if image.mode != "RGBa":
        return blurred
    blurred = blurred.convert("RGBA")
    blurred.putalpha(image.getchannel(3))
    return blurred


def _area(size: tuple[int, int]) -> int:
    return size[0] * size[1]


#: Modes ``Image.reduce`` accepts; others are converted first and reduced after.
_REDUCIBLE = frozenset({"L", "LA", "RGB", "RGBA", "RGBa", "CMYK", "I", "F"})


def _reduce(image: Image.Image, factor: int) -> Image.Image:
    """Shrink by an integer ``factor`` (box filter) if the mode allows; else unchanged."""
    if factor > 1 and image.mode in _REDUCIBLE:
        return image.reduce(factor)
    return image


def _to_working_mode(image: Image.Image, reduce_factor: int = 1) -> Image.Image:
    """Convert any decoded mode to L, RGB or RGBA (alpha only if something is see-through).

    ``reduce_factor`` shrinks the converted image, as early as the mode allows
    (:mod:`.memory_budget`); the caller reduces reducible modes itself.
    """
    mode = image.mode
    if mode in ("1", "L", "RGB") and "transparency" in image.info:
        # A tRNS colour key (one grey level or RGB colour is see-through): Pillow
        # applies it when converting to RGBA, and only then.
        image = image.convert("RGBA")
        mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # convert("L") would clip 16-bit values at 255; scale them down instead.
        key = image.info.get("transparency") if mode != "F" else None
        wide = _reduce(image.convert("I"), reduce_factor)
        reduce_factor = 1
        image = wide.point(lambda value: value * (1 / 257)).convert("L")
        if isinstance(key, int):  # a 16-bit tRNS grey key: Pillow's convert ignores it
            alpha = ImageMath.lambda_eval(lambda args: (args["wide"] != key) * 255, wide=wide)
            image = Image.merge("LA", (image, alpha.convert("L"))).convert("RGBA")
    elif mode in ("1", "L", "RGB"):
        image = image.convert("L") if mode == "1" else image
    elif mode == "CMYK" and image.info.get("icc_profile"):
        pass  # _to_srgb converts CMYK through its profile
    elif mode in ("P", "PA", "LA", "La", "RGBa"):
        image = image.convert("RGBA")
    elif mode != "RGBA":  # CMYK without a profile, YCbCr, RGBX, LAB, HSV
        image = image.convert("RGB")
    image = _reduce(image, reduce_factor)
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    return image


@once
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    """The sRGB profile, built on first use and then shared (read-only) by every thread."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    """Convert from the embedded profile to sRGB, the space every output is in.

    Outputs carry no profile (sRGB is what untagged images mean to browsers).
    Grey images keep their values. An unreadable profile is ignored rather
    than failing the upload: the pixels are still a reasonable sRGB guess.
    """
    if image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        if image.mode != "CMYK" and icc_profiles.is_srgb(icc):  # by its numbers, not its name
            return image
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(
            image, source, _srgb_profile(), outputMode=output_mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image.convert("RGB") if image.mode == "CMYK" else image
    return converted if converted is not None else image


def _encode(
    image: Image.Image, output_format: OutputFormat, quality: int, background: tuple[int, int, int]
) -> bytes:
    """Encode without any metadata: no EXIF, XMP, ICC or comments are passed or kept."""
    if image.mode == "RGBa":
        image = image.convert("RGBA")
    if not output_format.alpha and image.mode == "RGBA":
        flat = Image.new("RGB", image.size, background)
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    buffer = io.BytesIO()
    options = output_format.save_options(image.width * image.height, quality)
    image.save(buffer, output_format.pillow_format, **options)
    return buffer.getvalue()
