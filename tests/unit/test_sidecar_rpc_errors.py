"""How the sidecar's ``rpc`` decorator answers when the database is unreachable."""

from __future__ import annotations

from typing import Any

import grpc
import psycopg2
import pytest

from sidecar.servicer import rpc

pytestmark = pytest.mark.unit


class Aborted(Exception):
    pass


class Context:
    """The part of grpc.ServicerContext the decorator uses; abort raises, as gRPC's does."""

    def __init__(self) -> None:
        self.status: tuple[grpc.StatusCode, str] | None = None

    def time_remaining(self) -> float:
        return 2.0

    def invocation_metadata(self) -> tuple[()]:
        return ()

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.status = (code, details)
        raise Aborted


def answer(error: Exception) -> tuple[grpc.StatusCode, str] | None:
    @rpc
    def GetPhoto(self: Any, request: Any, context: Any) -> Any:
        raise error

    context = Context()
    with pytest.raises(Aborted):
        GetPhoto(None, None, context)
    return context.status


def test_a_database_that_is_down_or_restarting_is_unavailable_not_an_internal_error() -> None:
    # While PostgreSQL restarts, callers retry an UNAVAILABLE (503, the upload pipeline's retry);
    # INTERNAL would have surfaced as a 500 and could mark a healthy photo failed.
    refused = psycopg2.OperationalError("connection refused")
    assert answer(refused) == (grpc.StatusCode.UNAVAILABLE, "the photo database is unavailable")
    closed = answer(psycopg2.InterfaceError("connection already closed"))
    assert closed is not None and closed[0] == grpc.StatusCode.UNAVAILABLE


def test_a_bug_is_still_an_internal_error() -> None:
    assert answer(KeyError("oops")) == (grpc.StatusCode.INTERNAL, "internal error")
