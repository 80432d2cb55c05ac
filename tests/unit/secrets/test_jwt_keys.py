"""The signing keys document: what CloudFormation creates, rotation, pruning, key ids."""

from __future__ import annotations

import json

import pytest
from photostack import jwt_keys
from photostack.jwt_keys import KeyDocumentError, KeySet, RetiredKey

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


def test_rotation_makes_a_new_current_key_and_keeps_the_old_one_verifying() -> None:
    rotated = jwt_keys.rotate(KeySet(A), now=1000, keep_s=600, key=B)
    assert rotated.current == B
    assert rotated.previous == (RetiredKey(A, 1000),)
    assert set(rotated.verification_keys().values()) == {A, B}
    assert jwt_keys.parse(jwt_keys.dump(rotated)) == rotated


def test_rotation_drops_keys_retired_longer_ago_than_any_token_lives() -> None:
    keys = KeySet(C, (RetiredKey(B, 1500), RetiredKey(A, 1000)))
    rotated = jwt_keys.rotate(keys, now=1000 + 600, keep_s=600)
    assert [r.key for r in rotated.previous] == [C, B]  # A retired exactly keep_s ago: gone
    assert A not in rotated.verification_keys().values()


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
])
def test_unusable_documents_are_refused(text: str) -> None:
    with pytest.raises(KeyDocumentError):
        jwt_keys.parse(text)


def test_rotation_refuses_to_reuse_a_key() -> None:
    with pytest.raises(KeyDocumentError):
        jwt_keys.rotate(KeySet(A, (RetiredKey(B, 1),)), now=2, keep_s=10, key=B)
