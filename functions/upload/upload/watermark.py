"""Tiled, diagonal, semi-transparent text over the whole preview, so a screenshot is no use for resale.

The lattice is centred on the image and dense (a stamp every text length plus two letters along
the diagonal, rows three letters apart, alternate rows offset by half a stamp), so any crop of
the central 50% carries several whole stamps: tests/unit/upload/test_watermark_crop.py finds the
mark in such a crop of a real preview by correlation with this exact pattern.
The text is rendered once into a rotated stamp (kept in a small named cache: an event's
photos share the photographer's name and a few sizes), then pasted on a lattice that
covers the image, so a warm container pays a few milliseconds per preview.
"""

from __future__ import annotations

import functools
import math

from PIL import Image, ImageDraw, ImageFont

DEFAULT_TEXT = "photostack"
MAX_TEXT_CHARS = 60
_ANGLE = 30  # degrees; diagonal text cannot be cropped away in a band
_OPACITY = 0.32


def clean_text(raw: str | None) -> str:
    """The text to draw: printable, bounded, never empty."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in (raw or "")).split())
    return text[:MAX_TEXT_CHARS] or DEFAULT_TEXT


def apply(im: Image.Image, text: str) -> Image.Image:
    """A copy of an RGB image with the watermark composited over it."""
    fill, mask = overlay(text, im.width, im.height)
    out = im.copy()
    out.paste(fill, (0, 0), mask)
    return out


@functools.lru_cache(maxsize=16)
def overlay(text: str, width: int, height: int) -> tuple[Image.Image, Image.Image]:
    """An RGB layer (white letters, dark edges) and its alpha mask, covering width x height."""
    font_size = max(10, min(width, height) // 14)
    colour_stamp, alpha_stamp = _stamp(text, font_size)
    colour = Image.new("L", (width, height), 0)
    alpha = Image.new("L", (width, height), 0)

    # Lattice along the text's direction: one stamp per text length, rows a few lines apart,
    # every other row shifted by half a stamp so there is no clean gutter to crop along.
    angle = math.radians(_ANGLE)
    step = _text_length(text, font_size) + font_size * 2
    row_gap = font_size * 3
    along = (math.cos(angle) * step, -math.sin(angle) * step)
    across = (math.sin(angle) * row_gap, math.cos(angle) * row_gap)
    reach = int((width + height) / min(step, row_gap)) + 2
    half_w, half_h = colour_stamp.width // 2, colour_stamp.height // 2
    for j in range(-reach, reach + 1):
        shift = 0.5 * (j % 2)
        for i in range(-reach, reach + 1):
            cx = width / 2 + (i + shift) * along[0] + j * across[0]
            cy = height / 2 + (i + shift) * along[1] + j * across[1]
            if -half_w <= cx <= width + half_w and -half_h <= cy <= height + half_h:
                box = (int(cx) - half_w, int(cy) - half_h)
                colour.paste(colour_stamp, box, alpha_stamp)
                alpha.paste(alpha_stamp, box, alpha_stamp)
    return colour.convert("RGB"), alpha.point(lambda v: int(v * _OPACITY))


@functools.lru_cache(maxsize=8)
def _stamp(text: str, font_size: int) -> tuple[Image.Image, Image.Image]:
    font = ImageFont.load_default(size=font_size)
    stroke = max(1, font_size // 14)
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    size = (math.ceil(right - left) + 2, math.ceil(bottom - top) + 2)
    colour, alpha = Image.new("L", size, 0), Image.new("L", size, 0)
    origin = (1 - left, 1 - top)
    ImageDraw.Draw(colour).text(origin, text, font=font, fill=255, stroke_width=stroke, stroke_fill=0)
    ImageDraw.Draw(alpha).text(origin, text, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
    return (colour.rotate(_ANGLE, Image.Resampling.BICUBIC, expand=True),
            alpha.rotate(_ANGLE, Image.Resampling.BICUBIC, expand=True))


def _text_length(text: str, font_size: int) -> int:
    return int(ImageFont.load_default(size=font_size).getlength(text))
