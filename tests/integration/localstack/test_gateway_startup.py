"""An API Gateway invoke URL answers clearly while LocalStack starts: never an empty 200.

LocalStack loads API Gateway's provider, which adds the invoke URL routes to its gateway, on the
first request for API Gateway; a path-style invoke URL (``/restapis/<id>/<stage>/_user_request_/``,
what this stack's clients use) does not count as one. So after a restart, until the deploy's
first API Gateway call, a POST to an invoke URL came back HTTP 200 with an empty body (an
acknowledgement as far as a client can tell: the chaos suite's "orders" while LocalStack
restarted), and a GET as an S3 AccessDenied for a bucket named "restapis". The plugin's
``apigateway_routes.py`` loads the provider before LocalStack listens.

A LocalStack of the test's own (its virtualenv, S3 and API Gateway, a free port, a temporary
folder; lazy service loading as in ``infra/services.sh``), with the checkout's hook declared as
``infra/localstack/executor/pyproject.toml`` declares it. Requests go out from before the process
starts until LocalStack has answered a number of them, through its first start and through a
``kill -9`` and restart after a REST API was deployed, as the chaos suite does to the shared stack.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.integration.localstack.own_localstack import EXECUTOR, LS_PYTHON, OwnLocalStack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

HOOKS = "localstack.hooks.on_infra_start"
HOOK = "photostack_apigateway_routes"
START_TIMEOUT_S = 120
# HTTP answers collected per start, once LocalStack listens (the old behaviour: every POST
# among them was an empty 200, for as long as nothing called API Gateway's API).
ANSWERS_PER_START = 40


def declared_hook() -> str:
    """The entry point of the hook, as the plugin's pyproject.toml declares it."""
    project = tomllib.loads((EXECUTOR / "pyproject.toml").read_text())["project"]
    hooks: dict[str, str] = project["entry-points"][HOOKS]
    assert HOOK in hooks, f"{HOOK} is not declared in {EXECUTOR / 'pyproject.toml'}"
    return f"{HOOK} = {hooks[HOOK]}"


@dataclass(frozen=True)
class Answer:
    method: str
    status: int | None  # None: no HTTP answer (``error`` says why)
    body: str = ""
    error: str = ""

    @property
    def refused(self) -> bool:
        return self.status is None and "refused" in self.error.lower()

    def api_gateway_message(self) -> str:
        """API Gateway's own JSON answer: {"message": "..."}."""
        try:
            return str(json.loads(self.body)["message"])
        except (ValueError, KeyError, TypeError):
            return ""


class LocalStack(OwnLocalStack):
    def __init__(self, tmp: Path) -> None:
        # No EAGER_SERVICE_LOADING: services load on their first request, as on the shared stack.
        super().__init__(tmp, dist_name="photostack-gateway-under-test",
                         entry_points=f"[{HOOKS}]\n{declared_hook()}\n",
                         base_env={k: v for k, v in os.environ.items() if k != "EAGER_SERVICE_LOADING"},
                         env={"SERVICES": "s3,apigateway", "AWS_ACCESS_KEY_ID": "test",
                              "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"})

    def invoke_url(self, api_id: str, path: str) -> str:
        return f"{self.endpoint}/restapis/{api_id}/Prod/_user_request_/{path}"

    def start_answering(self, url: str) -> list[Answer]:
        """Start LocalStack and call ``url`` (POST and GET in turn) from before it starts until it
        has answered ANSWERS_PER_START times and says it is ready; every answer, in order."""
        process = self.launch()
        answers: list[Answer] = []
        deadline = time.monotonic() + START_TIMEOUT_S
        while sum(a.status is not None for a in answers) < ANSWERS_PER_START or not self.ready():
            assert process.poll() is None, f"LocalStack exited:\n{self.log[-3000:]}"
            assert time.monotonic() < deadline, (f"LocalStack not ready in {START_TIMEOUT_S} s:\n"
                                                 f"{self.log[-3000:]}")
            method = "POST" if len(answers) % 2 == 0 else "GET"
            try:
                r = requests.request(method, url, json={"photo_ids": ["p1"]}, timeout=30)
                answers.append(Answer(method, r.status_code, r.text))
            except requests.RequestException as exc:
                answers.append(Answer(method, None, error=f"{type(exc).__name__}: {exc}"))
                time.sleep(0.05)  # polling a port that is not open yet, not synchronisation
        return answers

    def ready(self) -> bool:
        with contextlib.suppress(requests.RequestException, ValueError):
            r = requests.get(f"{self.endpoint}/_localstack/health", timeout=5)
            return "apigateway" in r.json()["services"]
        return False


@pytest.fixture
def localstack(tmp_path: Path) -> Iterator[LocalStack]:
    if not LS_PYTHON.exists():
        pytest.fail("LocalStack's virtualenv is missing: run `make setup`")
    ls = LocalStack(tmp_path)
    yield ls
    if ls.process is not None and ls.process.poll() is None:
        ls.kill_9()


def deploy_mock_api(ls: LocalStack) -> str:
    """A REST API whose POST /orders answers 201 {"order_id": "o1"} (a MOCK integration), staged as Prod."""
    apigw = ls.client("apigateway")
    api_id: str = apigw.create_rest_api(name="startup-probe")["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    orders = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="orders")["id"]
    apigw.put_method(restApiId=api_id, resourceId=orders, httpMethod="POST", authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=orders, httpMethod="POST", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 201}'})
    apigw.put_method_response(restApiId=api_id, resourceId=orders, httpMethod="POST", statusCode="201")
    apigw.put_integration_response(restApiId=api_id, resourceId=orders, httpMethod="POST", statusCode="201",
                                   responseTemplates={"application/json": '{"order_id": "o1"}'})
    apigw.create_deployment(restApiId=api_id, stageName="Prod")
    return api_id


def unclear(answers: list[Answer]) -> list[Answer]:
    """Answers that are neither a refused connection nor API Gateway's JSON 404 for an API it
    does not have (what a restarted LocalStack has until the stack is deployed again)."""
    return [a for a in answers if not a.refused
            and not (a.status == 404 and "does not correspond to a deployed" in a.api_gateway_message())]


def test_invoke_urls_never_answer_an_empty_200_while_localstack_starts(localstack: LocalStack) -> None:
    answers = localstack.start_answering(localstack.invoke_url("nosuchapi1", "orders"))
    assert [a for a in answers if a.status == 200] == [], "an empty 200 while LocalStack started"
    assert unclear(answers) == []
    assert {a.method for a in answers if a.status == 404} == {"POST", "GET"}

    # Once started, an API deployed into it serves as before.
    api_id = deploy_mock_api(localstack)
    url = localstack.invoke_url(api_id, "orders")
    r = requests.post(url, json={"photo_ids": ["p1"]}, timeout=30)
    assert (r.status_code, r.json()) == (201, {"order_id": "o1"})

    # kill -9 and start again, calling the deployed API's URL all along: LocalStack keeps API
    # Gateway in memory, so the API is gone until it is deployed again, and says so.
    localstack.kill_9()
    answers = localstack.start_answering(url)
    assert [a for a in answers if a.status == 200] == [], "an empty 200 while LocalStack restarted"
    assert unclear(answers) == []
    assert any(a.refused for a in answers), "no request went out while LocalStack was down"
    again = deploy_mock_api(localstack)
    r = requests.post(localstack.invoke_url(again, "orders"), json={"photo_ids": ["p1"]}, timeout=30)
    assert (r.status_code, r.json()) == (201, {"order_id": "o1"})
