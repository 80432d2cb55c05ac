"""Bad inputs at the pipeline level, with the real models: each is a clear, typed 4xx error
(or an empty result), never a crash or a wrong match."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from facerec.errors import FaceInputError, ImageTooLarge, NoFaceFound, NotAnImage, SeveralFacesFound
from facerec.models import FaceModels
from facerec.pipeline import faces_in_image, load_image, single_face
from PIL import Image

from infra.eval_faces import DATA, Indexed
from sidecar.vector_index import DEFAULT_THRESHOLD, InMemoryVectorIndex

pytestmark = pytest.mark.integration


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _gradient() -> bytes:
    ramp = np.tile(np.linspace(0, 255, 640, dtype=np.uint8), (480, 1))
    return _png(Image.fromarray(np.dstack([ramp, ramp[::-1], np.full_like(ramp, 90)]), "RGB"))


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG header for a huge frame with almost no data: a decompression bomb's shape."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_no_face_in_a_gradient(face_models: FaceModels) -> None:
    image = load_image(_gradient())
    assert faces_in_image(image, face_models) == []
    with pytest.raises(NoFaceFound) as caught:
        single_face(image, face_models)
    assert caught.value.status == 422 and caught.value.code == "no_face"
    assert "no face" in caught.value.message


def test_a_group_photo_is_not_a_selfie(face_models: FaceModels) -> None:
    image = load_image((DATA / "groups" / "bbt3.jpg").read_bytes())
    with pytest.raises(SeveralFacesFound) as caught:
        single_face(image, face_models)
    assert caught.value.status == 422 and caught.value.code == "several_faces"
    assert "several faces" in caught.value.message


def test_one_face_in_a_tight_crop(face_models: FaceModels) -> None:
    face = single_face(load_image((DATA / "people" / "penny" / "penny2.png").read_bytes()), face_models)
    assert face.embedding.shape == (512,)


@pytest.mark.parametrize("data", [
    b"",
    b"%PDF-1.7 definitely not a photo",
    b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    _png(Image.new("RGB", (4, 4)))[:40],
    (DATA / "groups" / "bbt1.jpg").read_bytes()[:2000],
], ids=["empty", "pdf", "gif", "cut-png", "cut-jpeg"])
def test_non_images_are_refused(data: bytes) -> None:
    with pytest.raises(NotAnImage) as caught:
        load_image(data)
    assert caught.value.status == 400 and isinstance(caught.value, FaceInputError)


def test_a_huge_image_is_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLarge) as caught:
        load_image(_png_claiming(40_000, 40_000))
    assert caught.value.status == 413
    assert "40000x40000" in caught.value.message or "pixels" in caught.value.message


def test_the_pixel_cap_is_the_callers_to_set() -> None:
    data = _png(Image.new("RGB", (300, 200), (10, 20, 30)))
    assert load_image(data, max_pixels=60_000).size == (300, 200)
    with pytest.raises(ImageTooLarge, match="300x200"):
        load_image(data, max_pixels=59_999)


def test_a_person_not_in_the_event_finds_nothing(indexed: list[Indexed]) -> None:
    crops = [i.photo for i in indexed if i.photo.person is not None]
    embeddings = {i.photo.photo_id: i.faces[0].embedding for i in indexed if i.photo.person is not None}
    for absent in sorted({p.person for p in crops if p.person}):
        index = InMemoryVectorIndex()
        present = [p for p in crops if p.person != absent]
        index.add("event", [p.photo_id for p in present], [p.photo_id for p in present],
                  np.stack([embeddings[p.photo_id] for p in present]))
        for selfie in (p for p in crops if p.person == absent):
            assert index.search("event", embeddings[selfie.photo_id], threshold=DEFAULT_THRESHOLD) == []
