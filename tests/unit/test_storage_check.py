"""The storage check's decision: which ready photos lost objects, and what it says about them."""

from __future__ import annotations

import pytest

from infra.storage_check import Loss, ReadyPhoto, Report, find_losses, settle

pytestmark = pytest.mark.unit

UPLOADS, DERIVATIVES = "up", "der"


def ready(n: int, derivatives: int = 2) -> ReadyPhoto:
    return ReadyPhoto(f"p{n}", "e1", f"originals/e1/p{n}",
                      tuple(f"derivatives/e1/p{n}/{i}.jpg" for i in range(derivatives)))


def listed(*photos: ReadyPhoto, without: tuple[str, ...] = ()) -> dict[str, set[str]]:
    return {UPLOADS: {p.original_key for p in photos} - set(without),
            DERIVATIVES: {k for p in photos for k in p.derivative_keys} - set(without)}


def losses(photos: list[ReadyPhoto], present: dict[str, set[str]]) -> list[Loss]:
    return find_losses(photos, uploads_bucket=UPLOADS, derivatives_bucket=DERIVATIVES, listed=present)


def test_a_photo_with_every_object_listed_is_no_loss() -> None:
    photos = [ready(1), ready(2)]
    assert losses(photos, listed(*photos)) == []


def test_a_missing_original_is_a_loss_named_in_the_reason() -> None:
    photos = [ready(1), ready(2)]
    [loss] = losses(photos, listed(*photos, without=("originals/e1/p2",)))
    assert (loss.photo_id, loss.original_missing, loss.missing) == ("p2", True, ("s3://up/originals/e1/p2",))
    assert loss.reason == "lost from storage: the original s3://up/originals/e1/p2"


def test_missing_derivatives_alone_are_a_loss_too() -> None:
    photo = ready(1, derivatives=3)
    [loss] = losses([photo], listed(photo, without=photo.derivative_keys[1:]))
    assert not loss.original_missing
    assert loss.missing == ("s3://der/derivatives/e1/p1/1.jpg", "s3://der/derivatives/e1/p1/2.jpg")
    assert loss.reason == "lost from storage: 2 derivative(s), first s3://der/derivatives/e1/p1/1.jpg"


def test_everything_gone_counts_the_derivatives_after_the_original() -> None:
    photo = ready(1, derivatives=2)
    [loss] = losses([photo], {UPLOADS: set(), DERIVATIVES: set()})
    assert loss.reason == "lost from storage: the original s3://up/originals/e1/p1 and 2 derivative(s)"


def test_the_summary_is_one_line_with_counts_and_ids() -> None:
    photos = [ready(n) for n in range(12)]
    found = losses(photos, listed(*photos, without=tuple(p.original_key for p in photos[:10])))
    report = Report(checked=12, losses=found, marked_failed=10)
    line = report.summary()
    assert "\n" not in line
    assert line.startswith("storage check: 12 ready photos checked, 10 with objects missing (10 originals, "
                           "0 only derivatives) -> 0 rebuilt from their originals, 10 marked failed: ")
    assert "p0, p1" in line and line.endswith("and 2 more")
    assert Report(checked=3).summary() == "storage check: 3 ready photos checked, all objects present"
    assert "would rebuild 0 from their originals and mark 10 failed (dry run)" in Report(
        checked=12, losses=found, dry_run=True).summary()


def test_only_derivatives_gone_are_rebuilt_and_only_what_cannot_be_is_failed() -> None:
    photos = [ready(n) for n in range(5)]
    found = losses(photos, listed(*photos, without=(
        "originals/e1/p0", *(p.derivative_keys[0] for p in photos[1:]))))
    answers = {"p1": ("ready", "derivatives rebuilt from the original"),
               "p2": ("failed", "the original is not the one the photo was registered with"),
               "p3": ("error", "ConnectionError: the photo service is unavailable")}  # p4: no answer
    report = Report(checked=5, losses=found)
    to_fail = settle(found, answers, report)
    assert [x.photo_id for x in to_fail] == ["p0", "p2"]
    assert to_fail[0].reason == "lost from storage: the original s3://up/originals/e1/p0"
    assert to_fail[1].reason == ("lost from storage: 1 derivative(s), first s3://der/derivatives/e1/p2/0.jpg;"
                                 " not rebuilt: the original is not the one the photo was registered with")
    assert (report.rebuilt, report.not_rebuilt) == (["p1"], ["p3", "p4"])  # an outage is not a loss
    report.marked_failed = 2
    line = report.summary()
    assert "-> 1 rebuilt from their originals, 2 marked failed, 2 not rebuilt (an outage" in line
    assert report.as_dict()["rebuilt"] == ["p1"]
