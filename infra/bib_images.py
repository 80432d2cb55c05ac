"""Synthetic race photos with known bib numbers, for `make eval-search` and the bib tests.

A bib is a light card with a number in a bold face (and sometimes a sponsor line that is not
a number), rendered at a chosen height, rotated, blurred, lit darker or brighter, and pasted
onto a real photo (the shared face set's group photos and crops, read-only, resized and
cropped). Every choice comes from a seeded random generator, so a seed gives the same set.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf")
SPONSORS = ("CITY MARATHON", "RUN FOR FUN", "TRAIL SERIES", "FINISHER", "HALF")
WORDS = ("FINISH", "START", "WATER", "GO TEAM", "ENERGY")


@dataclass(frozen=True)
class BibSpec:
    number: str
    height: int  # pixels in the final photo
    angle: float  # degrees
    blur: float  # Gaussian radius in pixels
    light: float  # brightness factor of the bib


@dataclass(frozen=True)
class Sample:
    name: str
    jpeg: bytes
    bibs: tuple[BibSpec, ...]


def font(size: int, index: int = 0) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_FILES[index % len(FONT_FILES)]
    if Path(path).is_file():
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def backgrounds(folder: Path) -> list[Image.Image]:
    files = sorted(folder.glob("groups/*.jpg")) + sorted(folder.glob("people/*/*.png"))
    return [Image.open(f).convert("RGB") for f in files]


def render_bib(number: str, height: int, rng: random.Random) -> Image.Image:
    """The card, upright, at 4x its final height for clean downscaling."""
    scale = 4
    h = height * scale
    sponsor = rng.random() < 0.5
    digits_h = int(h * (0.62 if sponsor else 0.78))
    face = font(digits_h, rng.randrange(2))
    left, top, right, bottom = face.getbbox(number)
    w = max(int((right - left) * 1.25), int(h * 1.2))
    card_colour = rng.choice([(250, 250, 250), (255, 240, 120), (230, 240, 255), (255, 220, 200)])
    ink = rng.choice([(10, 10, 10), (20, 20, 120), (150, 0, 0)])
    card = Image.new("RGB", (w, h), card_colour)
    draw = ImageDraw.Draw(card)
    y = h - digits_h - (h - digits_h) // 4 if sponsor else (h - (bottom - top)) // 2 - top
    draw.text(((w - (right - left)) // 2 - left, y - (top if sponsor else 0)), number, font=face, fill=ink)
    if sponsor:
        small = font(max(4, h // 9))
        draw.text((w // 2, h // 14), rng.choice(SPONSORS), font=small, fill=ink, anchor="mt")
    for hole in ((h // 12, h // 12), (w - h // 12, h // 12)):  # safety-pin holes
        r = h // 40
        draw.ellipse([hole[0] - r, hole[1] - r, hole[0] + r, hole[1] + r], fill=(90, 90, 90))
    return card.resize((max(1, w // scale), height), Image.Resampling.LANCZOS)


def random_number(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.choice((2, 3, 3, 4, 4, 4, 5))))
    digits = digits.lstrip("0") or "7"
    return (rng.choice("ABCFKM") + digits) if rng.random() < 0.12 else digits


def background(pool: list[Image.Image], rng: random.Random, size: tuple[int, int]) -> Image.Image:
    src = rng.choice(pool)
    scale = max(size[0] / src.width, size[1] / src.height) * rng.uniform(1.0, 1.3)
    big = src.resize((int(src.width * scale) + 1, int(src.height * scale) + 1), Image.Resampling.BILINEAR)
    x, y = rng.randrange(big.width - size[0] + 1), rng.randrange(big.height - size[1] + 1)
    out = big.crop((x, y, x + size[0], y + size[1]))
    return out.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if rng.random() < 0.5 else out


def paste(photo: Image.Image, card: Image.Image, spec: BibSpec, taken: list[tuple[int, int, int, int]],
          rng: random.Random) -> bool:
    card = ImageEnhance.Brightness(card).enhance(spec.light)
    if spec.blur:
        card = card.filter(ImageFilter.GaussianBlur(spec.blur))
    mask = Image.new("L", card.size, 255)
    card = card.rotate(spec.angle, resample=Image.Resampling.BICUBIC, expand=True)
    mask = mask.rotate(spec.angle, resample=Image.Resampling.BICUBIC, expand=True)
    if card.width >= photo.width or card.height >= photo.height:
        return False
    for _ in range(20):
        x, y = rng.randrange(photo.width - card.width), rng.randrange(photo.height - card.height)
        box = (x, y, x + card.width, y + card.height)
        if all(box[2] < t[0] or box[0] > t[2] or box[3] < t[1] or box[1] > t[3] for t in taken):
            photo.paste(card, (x, y), mask)
            taken.append(box)
            return True
    return False


def make_sample(name: str, pool: list[Image.Image], rng: random.Random, n_bibs: int,
                heights: tuple[int, int] = (14, 160), size: tuple[int, int] = (1600, 1067)) -> Sample:
    photo = background(pool, rng, size if rng.random() < 0.7 else (size[1], size[0]))
    placed: list[BibSpec] = []
    taken: list[tuple[int, int, int, int]] = []
    numbers: set[str] = set()
    for _ in range(n_bibs):
        number = random_number(rng)
        if number in numbers:
            continue
        spec = BibSpec(number, round(rng.uniform(*heights)), rng.uniform(-25, 25),
                       rng.choice((0.0, 0.0, 0.6, 1.2, 2.0)), rng.uniform(0.55, 1.15))
        if paste(photo, render_bib(number, spec.height, rng), spec, taken, rng):
            placed.append(spec)
            numbers.add(number)
    if rng.random() < 0.3:  # text that is no bib: signs and banners
        draw = ImageDraw.Draw(photo)
        draw.text((rng.randrange(photo.width // 2), rng.randrange(photo.height - 60)), rng.choice(WORDS),
                  font=font(rng.randrange(24, 60)), fill=(240, 240, 240))
    photo = ImageEnhance.Brightness(photo).enhance(rng.uniform(0.7, 1.2))
    photo = ImageEnhance.Contrast(photo).enhance(rng.uniform(0.8, 1.2))
    if rng.random() < 0.2:
        photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2)))  # camera shake
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=85)
    return Sample(name, buffer.getvalue(), tuple(placed))


def generate(folder: Path, count: int, seed: int = 16, without_bibs: float = 0.2,
             heights: tuple[int, int] = (14, 160)) -> list[Sample]:
    """`count` photos; a fraction `without_bibs` has none, the others one to three."""
    rng = random.Random(seed)
    pool = backgrounds(folder)
    out = []
    for i in range(count):
        n = 0 if rng.random() < without_bibs else rng.choice((1, 1, 2, 3))
        out.append(make_sample(f"bib-{seed}-{i:04d}", pool, rng, n, heights))
    return out


def clean_sample(folder: Path, numbers: list[str], height: int = 110, seed: int = 0) -> Sample:
    """A photo with these numbers on bibs easy to read (upright-ish, sharp, well lit): for tests
    that check the plumbing rather than the reading."""
    rng = random.Random(seed)
    photo = background(backgrounds(folder), rng, (1600, 1067))
    taken: list[tuple[int, int, int, int]] = []
    placed = []
    for number in numbers:
        spec = BibSpec(number, height, rng.uniform(-5, 5), 0.0, 1.0)
        if not paste(photo, render_bib(number, height, rng), spec, taken, rng):
            raise ValueError("no room for another bib")
        placed.append(spec)
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)
    return Sample(f"clean-{seed}", buffer.getvalue(), tuple(placed))
