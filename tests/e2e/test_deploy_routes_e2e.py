"""A route added or removed by a deploy is served or gone, and LocalStack is neither restarted nor emptied.

LocalStack's community CloudFormation has no update for a REST API or its stage; the executor plugin's
``apigateway_updates`` module supplies them (infra/deploy.py used to restart LocalStack instead, which
dropped every stored object). The stack here is a small one of the test's own, deployed with deploy.py's
own steps (``deploy_stack``, ``missing_outputs``), so the shared stack is not touched.
"""

from __future__ import annotations

import io
import json
import os
import time
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from infra import deploy
from tests.conftest import aws_client

pytestmark = pytest.mark.e2e

ENDPOINT = os.environ.get("PHOTOSTACK_AWS_ENDPOINT", "http://127.0.0.1:4566")
HANDLER = b'''import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"resource": event["resource"]})}
'''
TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
  RoutesApi:
    Type: AWS::Serverless::Api
    Properties: {{StageName: Prod}}
  RoutesFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: {name}
      Runtime: python3.13
      Handler: handler.handler
      CodeUri: s3://{bucket}/handler.zip
      Events:
{events}
Outputs:
  ApiId: {{Value: !Ref RoutesApi}}
"""


def template(name: str, bucket: str, paths: list[str]) -> dict[str, Any]:
    events = "\n".join(f"        Route{i}: {{Type: Api, Properties: {{RestApiId: !Ref RoutesApi, "
                       f"Path: {path}, Method: GET}}}}" for i, path in enumerate(paths))
    body = TEMPLATE.format(name=name, bucket=bucket, events=events)
    return {"body": body, "parsed": deploy.yaml.load(body, Loader=deploy.CfnLoader)}


def session() -> str:
    """LocalStack's session id: a new one after any restart."""
    return str(requests.get(f"{ENDPOINT}/_localstack/info", timeout=10).json()["session_id"])


def get(api_id: str, path: str) -> requests.Response:
    return requests.get(f"{ENDPOINT}/restapis/{api_id}/Prod/_user_request_{path}", timeout=30)


@pytest.fixture
def own_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    suffix = uuid.uuid4().hex[:8]
    name, bucket = f"routes-test-{suffix}", f"routes-test-{suffix}"
    monkeypatch.setattr(deploy, "STACK", name)
    s3, cfn = aws_client("s3"), aws_client("cloudformation")
    s3.create_bucket(Bucket=bucket)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("handler.py", HANDLER)
    s3.put_object(Bucket=bucket, Key="handler.zip", Body=archive.getvalue())
    s3.put_object(Bucket=bucket, Key="stored-before.txt", Body=b"kept across deploys")
    try:
        yield {"name": name, "bucket": bucket, "s3": s3, "cfn": cfn}
    finally:
        cfn.delete_stack(StackName=name)
        for key in ("handler.zip", "stored-before.txt"):
            s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_bucket(Bucket=bucket)


def deploy_routes(stack: dict[str, Any], paths: list[str]) -> tuple[str, float]:
    """Deploy the stack with these routes the way infra/deploy.py does; (its API id, seconds taken)."""
    started = time.monotonic()
    wanted = template(stack["name"], stack["bucket"], paths)
    action = deploy.deploy_stack(wanted["body"], stack["cfn"])
    assert action in ("create", "update", "re-create"), action
    assert not deploy.missing_outputs(stack["cfn"], wanted["parsed"]), "LocalStack applied it only in part"
    outputs = stack["cfn"].describe_stacks(StackName=stack["name"])["Stacks"][0]["Outputs"]
    return next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ApiId"), time.monotonic() - started


def test_a_route_added_or_removed_by_a_deploy_is_served_or_gone_without_a_restart(
        own_stack: dict[str, Any]) -> None:
    api_id, _ = deploy_routes(own_stack, ["/first"])
    assert get(api_id, "/first").json() == {"resource": "/first"}
    assert get(api_id, "/second").status_code in (403, 404)  # API Gateway: no such route
    before = session()

    same_api, added_s = deploy_routes(own_stack, ["/first", "/second"])
    assert same_api == api_id  # updated in place: the API keeps its id and its URL
    assert get(api_id, "/second").json() == {"resource": "/second"}
    assert get(api_id, "/first").json() == {"resource": "/first"}

    _, removed_s = deploy_routes(own_stack, ["/first"])
    gone = get(api_id, "/second")
    assert gone.status_code in (403, 404), gone.text
    assert get(api_id, "/first").json() == {"resource": "/first"}

    assert session() == before, "LocalStack was restarted"
    stored = own_stack["s3"].get_object(Bucket=own_stack["bucket"], Key="stored-before.txt")["Body"].read()
    assert stored == b"kept across deploys"
    missing = f"{gone.status_code} {json.dumps(gone.text[:60])}"
    print(f"\nroute change deploys (in place): added {added_s:.1f} s, removed {removed_s:.1f} s; "
          f"a missing route answers {missing}")


def test_a_stack_left_failed_by_its_create_is_created_again_without_a_restart(
        own_stack: dict[str, Any]) -> None:
    before = session()
    broken = template(own_stack["name"], own_stack["bucket"], ["/first"])["body"].replace(
        "handler.zip", "no-such-artifact.zip")
    with pytest.raises(SystemExit, match="failed"):
        deploy.deploy_stack(broken, own_stack["cfn"])
    assert deploy.settled_status(own_stack["cfn"]) in ("ROLLBACK_COMPLETE", "CREATE_FAILED")

    api_id, _ = deploy_routes(own_stack, ["/first"])  # deletes the failed stack, creates it again
    assert get(api_id, "/first").json() == {"resource": "/first"}
    assert session() == before, "LocalStack was restarted"
