"""LocalStack's S3 and SQS with our durable providers, in a LocalStack of the test's own.

A second LocalStack (its virtualenv, S3 and SQS only, a free port, state in a temporary folder)
runs the providers from this checkout, so the shared stack is not disturbed. Each restart is a
``kill -9``: nothing is saved on the way out, so what comes back came from the journal.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.integration.localstack.own_localstack import LS_PYTHON, OwnLocalStack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ENTRY_POINTS = """[localstack.aws.provider]
s3:durable = photostack_localstack_executor.durable_state:s3_durable
sqs:durable = photostack_localstack_executor.durable_state:sqs_durable
"""


class LocalStack(OwnLocalStack):
    def __init__(self, tmp: Path) -> None:
        self.state = tmp / "state"
        super().__init__(tmp, dist_name="photostack-durable-under-test", entry_points=ENTRY_POINTS,
                         base_env=os.environ,
                         env={"SERVICES": "s3,sqs", "PROVIDER_OVERRIDE_S3": "durable",
                              "PROVIDER_OVERRIDE_SQS": "durable",
                              "PHOTOSTACK_DURABLE_STATE_DIR": str(self.state), "EAGER_SERVICE_LOADING": "1"})

    def start(self) -> None:
        process = self.launch()
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"LocalStack exited:\n{self.log[-3000:]}"
            with contextlib.suppress(requests.RequestException):
                health = requests.get(f"{self.endpoint}/_localstack/health", timeout=2).json()["services"]
                if health.get("s3") == "running" and health.get("sqs") == "running":
                    return
            assert time.monotonic() < deadline, f"LocalStack not ready in 120 s:\n{self.log[-3000:]}"
            time.sleep(0.5)

    def restart(self) -> None:
        self.kill_9()
        self.start()


@pytest.fixture(scope="module")
def localstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    if not LS_PYTHON.exists():
        pytest.fail("LocalStack's virtualenv is missing: run `make setup`")
    ls = LocalStack(tmp_path_factory.mktemp("durable-localstack"))
    ls.start()
    yield ls
    ls.kill_9()


def test_s3_objects_tags_deletes_and_versions_come_back_after_kill_9(localstack: LocalStack) -> None:
    s3 = localstack.client("s3")
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="kept", Body=b"first bytes")
    s3.put_object(Bucket="plain", Key="kept", Body=b"overwritten bytes", Metadata={"who": "me"})
    s3.put_object_tagging(Bucket="plain", Key="kept", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    for key in ("deleted", "batch-1", "batch-2", "nested/deep/key.jpg"):
        s3.put_object(Bucket="plain", Key=key, Body=key.encode())
    s3.delete_object(Bucket="plain", Key="deleted")
    s3.delete_objects(Bucket="plain", Delete={"Objects": [{"Key": "batch-1"}, {"Key": "batch-2"}]})
    s3.create_bucket(Bucket="versions")
    s3.put_bucket_versioning(Bucket="versions", VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket="versions", Key="doc", Body=b"v1")["VersionId"]
    marker = s3.delete_object(Bucket="versions", Key="doc")["VersionId"]
    s3.create_bucket(Bucket="dropped")
    s3.put_object(Bucket="dropped", Key="x", Body=b"x")
    s3.delete_object(Bucket="dropped", Key="x")
    s3.delete_bucket(Bucket="dropped")

    localstack.restart()
    s3 = localstack.client("s3")
    kept = s3.get_object(Bucket="plain", Key="kept")
    assert (kept["Body"].read(), kept["Metadata"]) == (b"overwritten bytes", {"who": "me"})
    assert s3.get_object_tagging(Bucket="plain", Key="kept")["TagSet"] == [{"Key": "k", "Value": "v"}]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="plain")["Contents"]]
    assert keys == ["kept", "nested/deep/key.jpg"]
    listed = s3.list_object_versions(Bucket="versions")
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker, True)]
    assert [v["VersionId"] for v in listed["Versions"]] == [v1]
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_object(Bucket="versions", Key="doc")  # behind its delete marker, as before
    assert s3.get_object(Bucket="versions", Key="doc", VersionId=v1)["Body"].read() == b"v1"
    assert "dropped" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert not (localstack.state / "s3" / "objects" / "dropped").exists()


def test_sqs_queues_and_messages_come_back_after_kill_9(localstack: LocalStack) -> None:
    sqs = localstack.client("sqs")
    url = sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    fifo_attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    fifo = sqs.create_queue(QueueName="work.fifo", Attributes=fifo_attributes)["QueueUrl"]
    gone = sqs.create_queue(QueueName="gone")["QueueUrl"]
    sqs.delete_queue(QueueUrl=gone)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": f"m{n}"} for n in range(5)])
    taken = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=taken[0]["ReceiptHandle"])  # done: must not come back
    for n in range(3):
        sqs.send_message(QueueUrl=fifo, MessageBody=f"f{n}", MessageGroupId="g")

    localstack.restart()
    sqs = localstack.client("sqs")
    names = sorted(u.rsplit("/", 1)[1] for u in sqs.list_queues().get("QueueUrls", []))
    assert names == ["work", "work.fifo"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "300"}
    bodies = []
    for _ in range(10):
        reply = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        bodies += [m["Body"] for m in reply.get("Messages", [])]
        if len(bodies) >= 4:
            break
    # The received-but-not-deleted one is back (visible, as after its timeout); the deleted one is not.
    assert sorted(bodies) == sorted({f"m{n}" for n in range(5)} - {taken[0]["Body"]})
    fifo_bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]]
    assert fifo_bodies == ["f0", "f1", "f2"]


def test_a_torn_journal_tail_and_stray_files_are_dropped_at_start(localstack: LocalStack) -> None:
    s3 = localstack.client("s3")
    s3.create_bucket(Bucket="torn")
    s3.put_object(Bucket="torn", Key="acknowledged", Body=b"safe")
    localstack.kill_9()
    with open(localstack.state / "s3" / "journal", "ab") as journal:
        journal.write(b"\x00\x00\x10\x00garbage of a record cut off mid-write")
    stray = localstack.state / "s3" / "objects" / "torn" / "objects" / "deadbeef.1.2.tmp"
    stray.write_bytes(b"half an overwrite")

    localstack.start()
    s3 = localstack.client("s3")
    assert s3.get_object(Bucket="torn", Key="acknowledged")["Body"].read() == b"safe"
    assert not stray.exists()
    assert "torn record" in localstack.log
    s3.put_object(Bucket="torn", Key="after", Body=b"appended after the compaction")
    localstack.restart()
    assert localstack.client("s3").get_object(Bucket="torn", Key="after")["Body"].read() == (
        b"appended after the compaction")
