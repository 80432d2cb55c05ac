"""Upload reservations whose bytes never came: the rules, no I/O.

A reservation (``ReservePhoto``) hands out a presigned PUT or multipart URLs and leaves the
photo ``pending``. If no original ever arrives, nothing else would move the photo on: the
reconciler asks for reservations idle for longer than the URL's lifetime plus a grace, checks
that their original is indeed not in the bucket, and expires each one here, where the
photo's state is decided. Idle means pending, not unlisted, and not touched since: a replayed
reservation (a new URL for the same photo) or a change restarts the clock (``updated_at``),
and the expiry re-checks that under the photo's row lock, so a reservation renewed between
the listing and the expiry is left alone.
"""

from __future__ import annotations

from sidecar.domain import InvalidArgument, page_size

MAX_IDLE_S = 366 * 86400
MAX_LISTED = 1000
DEFAULT_LISTED = 100


def idle_seconds(idle_s: int) -> int:
    if not 1 <= idle_s <= MAX_IDLE_S:
        raise InvalidArgument(f"idle_s must be between 1 and {MAX_IDLE_S}")
    return idle_s


def listed(limit: int) -> int:
    return page_size(limit, default=DEFAULT_LISTED, most=MAX_LISTED)


def expired_reason(idle_s: int) -> str:
    """The failure reason the photographer sees on an expired reservation."""
    return (f"upload expired: no original arrived within {idle_s} s of the reservation; "
            "upload the photo again")
