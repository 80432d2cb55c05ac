"""The S3 object store against LocalStack, the work claims against Redis."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis
from upload.claims import RedisWorkClaims
from upload.ports import ClaimState, ObjectChanged, ObjectMissing, ObjectTooLarge
from upload.storage import S3ObjectStore

pytestmark = pytest.mark.integration


def test_head_get_put(s3: Any, store: S3ObjectStore, buckets: tuple[str, str]) -> None:
    uploads, derivatives = buckets
    s3.put_object(Bucket=uploads, Key="originals/e/p", Body=b"hello", Metadata={"watermark": "Jane Doe"})
    head = store.head(uploads, "originals/e/p")
    assert head.size == 5 and head.metadata == {"watermark": "Jane Doe"} and '"' not in head.etag
    assert store.get(uploads, "originals/e/p", etag=head.etag, max_bytes=5) == b"hello"
    with pytest.raises(ObjectTooLarge):
        store.get(uploads, "originals/e/p", etag=head.etag, max_bytes=4)

    store.put(derivatives, "derivatives/e/p/thumb.webp", b"RIFF", content_type="image/webp")
    got = s3.get_object(Bucket=derivatives, Key="derivatives/e/p/thumb.webp")
    assert got["ContentType"] == "image/webp" and got["Body"].read() == b"RIFF"


def test_missing_and_replaced_objects(s3: Any, store: S3ObjectStore, buckets: tuple[str, str]) -> None:
    uploads, _ = buckets
    with pytest.raises(ObjectMissing):
        store.head(uploads, "originals/e/none")
    s3.put_object(Bucket=uploads, Key="originals/e/q", Body=b"one")
    etag = store.head(uploads, "originals/e/q").etag
    s3.put_object(Bucket=uploads, Key="originals/e/q", Body=b"two")
    with pytest.raises(ObjectChanged):
        store.get(uploads, "originals/e/q", etag=etag, max_bytes=100)


def test_claim_finish_duplicate(claims: RedisWorkClaims) -> None:
    first = claims.claim("b/k@1")
    assert first.state is ClaimState.ACQUIRED and first.attempt == 1
    assert claims.claim("b/k@1").state is ClaimState.BUSY
    claims.finish("b/k@1", first.token, "ready")
    again = claims.claim("b/k@1")
    assert (again.state, again.outcome) == (ClaimState.DONE, "ready")
    assert claims.claim("b/k@2").state is ClaimState.ACQUIRED  # another ETag is other work


def test_release_lets_a_retry_in_as_a_first_attempt(claims: RedisWorkClaims) -> None:
    first = claims.claim("b/k@1")
    claims.release("b/k@1", "not-the-token")  # someone else's release changes nothing
    assert claims.claim("b/k@1").state is ClaimState.BUSY
    claims.release("b/k@1", first.token)
    retry = claims.claim("b/k@1")
    assert (retry.state, retry.attempt) == (ClaimState.ACQUIRED, 1)


def test_an_expired_lock_shows_up_as_a_second_attempt(claims: RedisWorkClaims,
                                                      redis_client: redis.Redis) -> None:
    claims.claim("b/k@1")  # then the invocation is killed: no finish, no release
    redis_client.delete(f"{claims.prefix}:b/k@1:lock")  # what the lock's TTL does after 75 s
    retry = claims.claim("b/k@1")
    assert (retry.state, retry.attempt) == (ClaimState.ACQUIRED, 2)


def test_lock_has_a_ttl(claims: RedisWorkClaims, redis_client: redis.Redis) -> None:
    claims.claim("b/k@1")
    assert 0 < redis_client.ttl(f"{claims.prefix}:b/k@1:lock") <= 75


def test_exactly_one_of_many_concurrent_claims_wins(claims: RedisWorkClaims) -> None:
    results: list[ClaimState] = []
    start = threading.Barrier(8)

    def claim() -> None:
        start.wait()
        results.append(claims.claim("b/race@1").state)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count(ClaimState.ACQUIRED) == 1
    assert results.count(ClaimState.BUSY) == 7
