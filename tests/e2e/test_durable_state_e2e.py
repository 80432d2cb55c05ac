"""What S3 and SQS acknowledged survives `kill -9` of LocalStack, or `make down`, and a `make up`.

Objects (1 KiB, 5 MiB, two versions of a key, a multipart upload in progress) and queue
messages (one waiting, one received and not yet deleted) are stored; LocalStack is killed with
SIGKILL, so nothing can be saved on the way out (or stopped as `make down` stops it);
`infra/up.sh` (what `make up` runs) brings it back and deploys the stack again. Then every
object has the same bytes and version ids, the multipart upload completes, both messages are
delivered, and a photo uploaded after the restart is processed (the uploads bucket's S3
notification still invokes the upload function).

Restarting LocalStack disturbs everyone using the stack: run it alone, holding the stack lock
exclusively (`flock -o -x /tmp/ps/stack.lock ...`). It leaves the stack up and deployed, and
updates the session's stack outputs in place (the deploy creates new API ids).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STACK_OUTPUTS, aws_client, forget_stack_secrets
from tests.e2e import fixtures_images as images
from tests.e2e.journey_support import Apis, create_event, person, reserve, send, wait_processed

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]
PIDFILE = ROOT / ".state" / "run" / "localstack.pid"


def localstack_pid() -> int:
    return int(PIDFILE.read_text().strip())


def runs_durable_state(pid: int) -> bool:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return b"PROVIDER_OVERRIDE_S3=durable" in environ and b"PROVIDER_OVERRIDE_SQS=durable" in environ


def kill_9_localstack() -> None:
    pid = localstack_pid()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text():
        assert time.monotonic() < deadline, f"LocalStack (pid {pid}) still alive 30 s after SIGKILL"
        time.sleep(0.2)


def make_up(stack: dict[str, str]) -> str:
    """``infra/up.sh`` as `make up` runs it; the session's stack outputs follow the new deploy."""
    done = subprocess.run(["bash", str(ROOT / "infra" / "up.sh")], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, f"make up failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    stack.clear()
    stack.update(json.loads(STACK_OUTPUTS.read_text()))
    forget_stack_secrets()
    return done.stdout


@pytest.fixture
def names() -> Iterator[tuple[str, str]]:
    suffix = uuid.uuid4().hex[:10]
    bucket, queue = f"photostack-durable-e2e-{suffix}", f"photostack-durable-e2e-{suffix}"
    yield bucket, queue
    s3, sqs = aws_client("s3"), aws_client("sqs")  # durable state: clean up, or it stays for good
    with contextlib.suppress(s3.exceptions.ClientError):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
        for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        s3.delete_bucket(Bucket=bucket)
    with contextlib.suppress(sqs.exceptions.ClientError):
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])


def stop_localstack_as_make_down_does() -> None:
    subprocess.run(["bash", str(ROOT / "infra" / "services.sh"), "down", "localstack"], cwd=ROOT, check=True,
                   timeout=120, capture_output=True)


STOPS = {"kill -9": kill_9_localstack, "make down": stop_localstack_as_make_down_does}


@pytest.mark.parametrize("stop", list(STOPS))
def test_objects_versions_and_messages_survive_a_stop_and_make_up(
        stack: dict[str, str], names: tuple[str, str], stop: str) -> None:
    if not runs_durable_state(localstack_pid()):
        # Started before durable state existed (or with PHOTOSTACK_DURABLE_STATE=0): one restart
        # the way `make up` does it brings it up with the durable providers.
        kill_9_localstack()
        make_up(stack)
        assert runs_durable_state(localstack_pid()), "make up started LocalStack without durable S3/SQS"

    bucket, queue = names
    s3, sqs = aws_client("s3"), aws_client("sqs")
    small, big = b"acknowledged " * 80, os.urandom(5 * 1024 * 1024)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put: dict[str, Any] = {
        "small": s3.put_object(Bucket=bucket, Key="small.txt", Body=small),
        "big": s3.put_object(Bucket=bucket, Key="big.bin", Body=big),
    }
    v1 = s3.put_object(Bucket=bucket, Key="versioned", Body=b"first")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="versioned", Body=b"second")["VersionId"]
    multipart = s3.create_multipart_upload(Bucket=bucket, Key="multipart.bin")
    part = s3.upload_part(Bucket=bucket, Key="multipart.bin", UploadId=multipart["UploadId"], PartNumber=1,
                          Body=big)
    queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="in flight when killed")
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, VisibilityTimeout=600)
    assert [m["Body"] for m in received["Messages"]] == ["in flight when killed"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="waiting when killed")

    STOPS[stop]()
    started = time.monotonic()
    output = make_up(stack)
    restart_s = time.monotonic() - started
    assert "storage check:" in output, output  # make up reconciled the database against storage

    s3, sqs = aws_client("s3"), aws_client("sqs")
    got_small = s3.get_object(Bucket=bucket, Key="small.txt")
    assert got_small["Body"].read() == small
    assert got_small["VersionId"] == put["small"]["VersionId"] and got_small["ETag"] == put["small"]["ETag"]
    got_big = s3.get_object(Bucket=bucket, Key="big.bin")
    assert hashlib.sha256(got_big["Body"].read()).digest() == hashlib.sha256(big).digest()
    assert got_big["ETag"] == put["big"]["ETag"]
    versions = s3.list_object_versions(Bucket=bucket, Prefix="versioned")["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(v2, True), (v1, False)]
    assert s3.get_object(Bucket=bucket, Key="versioned", VersionId=v1)["Body"].read() == b"first"
    assert s3.get_object(Bucket=bucket, Key="versioned")["Body"].read() == b"second"
    s3.complete_multipart_upload(Bucket=bucket, Key="multipart.bin", UploadId=multipart["UploadId"],
                                 MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
    assert s3.get_object(Bucket=bucket, Key="multipart.bin")["Body"].read() == big

    # The message that was in flight is delivered again (as after its visibility timeout), the other once.
    queue_url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    bodies: list[str] = []
    deadline = time.monotonic() + 30
    while len(bodies) < 2 and time.monotonic() < deadline:
        reply = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2)
        for message in reply.get("Messages", []):
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(bodies) == ["in flight when killed", "waiting when killed"]

    # S3 notifications still work: an upload after the restart is processed to ready.
    apis = Apis.of(stack)
    photographer = person(apis, "photographer")
    upload = reserve(apis, photographer, create_event(apis, photographer, "After a LocalStack kill -9"),
                     images.jpeg(800, 600, seed=91), "image/jpeg")
    send(apis, photographer, upload)
    assert wait_processed(apis, photographer, [upload.photo_id])[upload.photo_id]["status"] == "ready"
    print(f"{stop} -> make up -> stack deployed again: {restart_s:.0f} s;",
          next(line for line in output.splitlines() if line.startswith("storage check:")))
