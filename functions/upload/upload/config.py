"""The upload function's own settings, from environment variables with safe defaults.

PHOTOSTACK_UPLOAD_MAX_BYTES      largest original read from S3 (default 64 MiB)
PHOTOSTACK_UPLOAD_MAX_PIXELS     largest declared width x height (default 80 MP)
PHOTOSTACK_UPLOAD_LOCK_TTL_S     lock on one object's work; a little over the function timeout (default 75)
PHOTOSTACK_UPLOAD_DONE_TTL_S     how long a finished object is remembered (default 7 days)
PHOTOSTACK_FACES_QUEUE_URL       where photo-ready notices go for indexing (default: none sent)
PHOTOSTACK_UPLOAD_DLQ_URL        the upload dead-letter queue the reconciler drains (default: none)
PHOTOSTACK_FACES_DLQ_URL         the face-index dead-letter queue the reconciler sends back to
                                 PHOTOSTACK_FACES_QUEUE_URL (default: none)
PHOTOSTACK_UPLOAD_EXPIRY_GRACE_S a reservation whose original never came is failed by the reconciler
                                 this long after its upload URLs expired (PHOTOSTACK_PRESIGN_TTL_S;
                                 default 600: a PUT started just before the expiry may still finish)

The buckets, Redis and the sidecar address come from :mod:`photostack.config`.
"""

from __future__ import annotations

from dataclasses import dataclass

from photostack.config import env_int, env_str
from photostack.contract import MAX_UPLOAD_BYTES


@dataclass(frozen=True)
class UploadSettings:
    max_bytes: int
    max_pixels: int
    lock_ttl_s: int
    done_ttl_s: int
    faces_queue_url: str
    dead_letter_queue_url: str
    faces_dead_letter_queue_url: str
    reservation_grace_s: int


def _positive(name: str, default: int) -> int:
    return env_int(name, default, minimum=1)


def load_upload_settings() -> UploadSettings:
    return UploadSettings(
        max_bytes=_positive("PHOTOSTACK_UPLOAD_MAX_BYTES", MAX_UPLOAD_BYTES),
        max_pixels=_positive("PHOTOSTACK_UPLOAD_MAX_PIXELS", 80_000_000),
        lock_ttl_s=_positive("PHOTOSTACK_UPLOAD_LOCK_TTL_S", 75),
        done_ttl_s=_positive("PHOTOSTACK_UPLOAD_DONE_TTL_S", 7 * 24 * 3600),
        faces_queue_url=env_str("PHOTOSTACK_FACES_QUEUE_URL", ""),
        dead_letter_queue_url=env_str("PHOTOSTACK_UPLOAD_DLQ_URL", ""),
        faces_dead_letter_queue_url=env_str("PHOTOSTACK_FACES_DLQ_URL", ""),
        reservation_grace_s=env_int("PHOTOSTACK_UPLOAD_EXPIRY_GRACE_S", 600, minimum=0),
    )
