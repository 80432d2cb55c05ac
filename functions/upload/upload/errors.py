"""Why an upload could not become a photo."""

from __future__ import annotations


class ImageRejected(Exception):
    """The upload is not an image we accept; the message is shown to the photographer as is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WorkInProgressError(Exception):
    """Another invocation holds the lock on this object; raising lets Lambda's async retry come back later."""
