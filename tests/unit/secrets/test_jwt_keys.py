"""The signing keys document: what CloudFormation creates, rotation, publication, pruning, key ids."""

from __future__ import annotations

import json

import pytest
from photostack import jwt_keys
from photostack.jwt_keys import KeyDocumentError, KeySet, PendingKey, RetiredKey, RotationInProgress

pytestmark = pytest.mark.unit

A, B, C = "a" * 48, "b" * 48, "c" * 48


def test_the_document_cloudformation_generates_is_a_key_set() -> None:
    # GenerateSecretString with SecretStringTemplate "{}" and GenerateStringKey "current".
    keys = jwt_keys.parse(json.dumps({"current": A}))
    assert keys == KeySet(A)
    assert keys.verification_keys() == {jwt_keys.kid_of(A): A}


def test_kids_name_keys_without_revealing_them() -> None:
    kids = {jwt_keys.kid_of(k) for k in (A, B, C)}
    assert len(kids) == 3
    assert all(jwt_keys.is_kid(kid) and A not in kid for kid in kids)
    assert jwt_keys.kid_of(A) == jwt_keys.kid_of(A)
    assert not jwt_keys.is_kid("local-1")


def test_a_rotated_key_verifies_at_once_and_signs_only_after_its_publication() -> None:
    rotated = jwt_keys.rotate(KeySet(A), now=1000, keep_s=600, publish_s=35, key=B)
    assert rotated == KeySet(A, (), PendingKey(B, 1035))
    assert set(rotated.verification_keys().values()) == {A, B}
    assert rotated.signing_key(1000) == (jwt_keys.kid_of(A), A)
    assert rotated.signing_key(1034.9) == (jwt_keys.kid_of(A), A)
    assert rotated.signing_key(1035) == (jwt_keys.kid_of(B), B)
    assert jwt_keys.parse(jwt_keys.dump(rotated)) == rotated


def test_the_next_rotation_retires_the_key_the_last_one_replaced_when_it_stopped_signing() -> None:
    first = jwt_keys.rotate(KeySet(A), now=1000, keep_s=600, publish_s=35, key=B)
    second = jwt_keys.rotate(first, now=1500, keep_s=600, publish_s=35, key=C)
    assert second == KeySet(B, (RetiredKey(A, 1035),), PendingKey(C, 1535))
    assert set(second.verification_keys().values()) == {A, B, C}


def test_a_rotation_is_refused_while_the_last_ones_key_does_not_sign_yet() -> None:
    first = jwt_keys.rotate(KeySet(A), now=1000, keep_s=600, publish_s=35, key=B)
    with pytest.raises(RotationInProgress) as refused:
        jwt_keys.rotate(first, now=1034, keep_s=600, publish_s=35, key=C)
    assert refused.value.signs_from == 1035
    assert jwt_keys.rotate(first, now=1035, keep_s=600, publish_s=35, key=C).next == PendingKey(C, 1070)


def test_rotation_drops_keys_retired_longer_ago_than_any_token_lives() -> None:
    keys = KeySet(C, (RetiredKey(B, 1500), RetiredKey(A, 1000)))
    rotated = jwt_keys.rotate(keys, now=1000 + 600, keep_s=600, publish_s=35)
    assert [r.key for r in rotated.previous] == [B]  # A retired exactly keep_s ago: gone
    assert A not in rotated.verification_keys().values()
    assert rotated.current == C and rotated.next is not None


def test_publication_waits_for_every_copy_to_age_out() -> None:
    assert jwt_keys.publish_delay_s(300) == 300 + jwt_keys.PUBLISH_MARGIN_S


def test_retention_covers_ttl_cache_age_and_margin() -> None:
    assert jwt_keys.retention_s(900, 300) == 900 + 300 + jwt_keys.MARGIN_S


def test_fresh_keys_are_long_and_distinct() -> None:
    keys = {jwt_keys.new_key() for _ in range(10)}
    assert len(keys) == 10 and all(len(k) >= 64 for k in keys)


@pytest.mark.parametrize("text", [
    "not json", "[]", "{}", json.dumps({"current": "short"}), json.dumps({"current": 5}),
    json.dumps({"current": A, "previous": {}}),
    json.dumps({"current": A, "previous": [{"key": B}]}),
    json.dumps({"current": A, "previous": [{"key": "short", "retired_at": 1}]}),
    json.dumps({"current": A, "previous": [{"key": B, "retired_at": "1"}]}),
    json.dumps({"current": A, "next": B}),
    json.dumps({"current": A, "next": {"key": B}}),
    json.dumps({"current": A, "next": {"key": "short", "signs_from": 1}}),
    json.dumps({"current": A, "next": {"key": B, "signs_from": 1.5}}),
])
def test_unusable_documents_are_refused(text: str) -> None:
    with pytest.raises(KeyDocumentError):
        jwt_keys.parse(text)


def test_rotation_refuses_to_reuse_a_key() -> None:
    with pytest.raises(KeyDocumentError):
        jwt_keys.rotate(KeySet(A, (RetiredKey(B, 1),)), now=2, keep_s=10, publish_s=5, key=B)
