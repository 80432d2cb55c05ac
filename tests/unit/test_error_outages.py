"""An ErrorTable's outages: a dependency that is down answers 503 (with each function's message,
code and Retry-After), wherever in the view it surfaces; domain errors keep their rows."""

from __future__ import annotations

from collections.abc import Callable

import psycopg2
import pytest
import redis
from photostack import errors
from transactions import errors as te
from transactions.web import ERRORS as TRANSACTIONS
from users import domain as ud
from users.web import domain_errors

pytestmark = pytest.mark.unit


def raising(exc: Exception) -> Callable[[], None]:
    def view() -> None:
        raise exc

    return view


@pytest.mark.parametrize("outage", [psycopg2.OperationalError("connection refused"),
                                    redis.ConnectionError("refused"), redis.TimeoutError("timed out")])
def test_users_outages_are_a_503_without_retry_after(outage: Exception) -> None:
    with pytest.raises(errors.ServiceUnavailable) as caught:
        domain_errors(raising(outage))()
    answer = caught.value
    assert (answer.status, answer.body(), answer.headers) == (
        503, {"error": {"code": "service_unavailable",
                        "message": "the users service is unavailable right now"}}, {})
    assert answer.__cause__ is outage


@pytest.mark.parametrize("outage", [psycopg2.OperationalError("refused"), psycopg2.InterfaceError("closed")])
def test_a_transactions_database_outage_is_a_503_to_retry_after_a_second(outage: Exception) -> None:
    with pytest.raises(errors.ServiceUnavailable) as caught:
        TRANSACTIONS.mapped(raising(outage))()
    answer = caught.value
    assert (answer.status, answer.body(), answer.headers) == (
        503, {"error": {"code": "database_unavailable",
                        "message": "the database is unavailable; retry later"}}, {"Retry-After": "1"})


def test_domain_errors_keep_their_rows_and_other_failures_are_not_outages() -> None:
    with pytest.raises(errors.Conflict):
        domain_errors(raising(ud.EmailTaken("taken")))()
    with pytest.raises(errors.ApiError) as caught:
        TRANSACTIONS.mapped(raising(te.Missing("no such order")))()
    assert caught.value.status == 404
    # Not an outage: a bug stays a bug (api_route answers it 500 and logs it).
    with pytest.raises(psycopg2.ProgrammingError):
        TRANSACTIONS.mapped(raising(psycopg2.ProgrammingError("syntax")))()
    # A table without outages maps only its domain errors.
    with pytest.raises(psycopg2.OperationalError):
        errors.ErrorTable().mapped(raising(psycopg2.OperationalError("refused")))()
