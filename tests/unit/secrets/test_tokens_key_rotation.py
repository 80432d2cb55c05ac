"""Token keys from the secret: rotation seen by warm processes, unknown kids, store outages."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from photostack import jwt_keys, tokens
from photostack.config import get_settings
from photostack.jwt_keys import KeySet
from photostack.secrets import CachedSecret, SecretUnavailable
from photostack.tokens import TokenError, issue_access_token, verify_access_token

from tests.signing_keys import kid_of_token, token_signed_with

pytestmark = pytest.mark.unit

OLD_DEFAULT = "local-development-only-secret-change-me!"  # what template.yaml used to ship


class FakeStore:
    """A secret and a clock: what Secrets Manager holds and when."""

    def __init__(self, keys: KeySet) -> None:
        self.text = jwt_keys.dump(keys)
        self.now = 0.0
        self.down = False
        self.reads = 0

    def read(self) -> str:
        self.reads += 1
        if self.down:
            raise SecretUnavailable("the secret store is unreachable")
        return self.text

    def rotate(self) -> tuple[KeySet, str, str, int]:
        """Rotate now; the rotated document, the new key, its kid and when it signs."""
        rotated = jwt_keys.rotate(jwt_keys.parse(self.text), now=int(time.time()), keep_s=3600,
                                  publish_s=jwt_keys.publish_delay_s(300))
        self.text = jwt_keys.dump(rotated)
        assert rotated.next is not None
        return rotated, rotated.next.key, rotated.next.kid, rotated.next.signs_from


@pytest.fixture
def store() -> Iterator[FakeStore]:
    fake = FakeStore(KeySet(jwt_keys.new_key()))
    tokens.signing_keys.install(CachedSecret("keys", fake.read, jwt_keys.parse, max_age_s=300, min_gap_s=10,
                                             clock=lambda: fake.now))
    tokens.signing_keys.get().get()  # the cold start's read
    fake.now += 10  # a while later: a re-read is allowed again
    yield fake
    tokens.signing_keys.reset()


def forged(key: str, kid: str, role: str = "admin") -> str:
    return token_signed_with(key, kid, sub="attacker", role=role)


def test_keys_are_read_once_then_served_from_the_warm_slot(store: FakeStore) -> None:
    for _ in range(5):
        verify_access_token(issue_access_token("u1", "customer")[0])
    assert store.reads == 1


def test_after_a_rotation_old_tokens_verify_and_a_warm_verifier_learns_the_new_kid(store: FakeStore) -> None:
    old_token, _ = issue_access_token("u1", "customer")
    first = kid_of_token(old_token)
    _, new_key, new_kid, _ = store.rotate()
    # A token of the new key reaching a process whose copy predates the rotation (its store was
    # unreachable when the copy aged out, say): the unknown kid makes it read the secret again.
    new_token = forged(new_key, new_kid, role="customer")
    assert verify_access_token(new_token).user_id == "attacker"
    assert store.reads == 2
    assert verify_access_token(old_token).user_id == "u1"
    # Knowing the new key does not make it sign before its time.
    assert kid_of_token(issue_access_token("u2", "customer")[0]) == first


def test_a_warm_signer_signs_with_the_new_key_from_its_time_on(store: FakeStore) -> None:
    first = KeySet(jwt_keys.parse(store.text).current).current_kid
    _, _, new_kid, signs_from = store.rotate()
    # Its copy predates the rotation: the old key, even once the new one's time has come.
    assert kid_of_token(issue_access_token("u1", "customer", now=signs_from)[0]) == first
    store.now += 300  # the copy ages out and is read again
    assert kid_of_token(issue_access_token("u1", "customer")[0]) == first
    assert store.reads == 2
    assert kid_of_token(issue_access_token("u1", "customer", now=signs_from - 1)[0]) == first
    assert kid_of_token(issue_access_token("u1", "customer", now=signs_from)[0]) == new_kid


def test_no_process_signs_with_a_key_before_every_warm_verifier_holds_it() -> None:
    """Publish first, sign later, on one clock: copies read at any time before the rotation, and
    no unknown-kid re-read to rescue a verifier. Signing with the new key at once fails this."""
    max_age, clock = 30, [0.0]
    store = FakeStore(KeySet(jwt_keys.new_key()))

    def copy() -> CachedSecret[KeySet]:
        return CachedSecret("keys", store.read, jwt_keys.parse, max_age_s=max_age, min_gap_s=10**9,
                            clock=lambda: clock[0])

    signer, verifiers = copy(), [copy() for _ in range(6)]
    signer.get()
    for n, verifier in enumerate(verifiers):  # read at 3, 8, ... 28
        clock[0] = 3 + 5 * n
        verifier.get()
    rotation_at = 29
    store.text = jwt_keys.dump(jwt_keys.rotate(jwt_keys.parse(store.text), now=rotation_at, keep_s=3600,
                                               publish_s=jwt_keys.publish_delay_s(max_age)))
    signed_with = set()
    for t in range(rotation_at, rotation_at + 3 * max_age):
        clock[0] = t
        kid, _ = signer.get().signing_key(t)
        signed_with.add(kid)
        for verifier in verifiers:
            assert kid in verifier.get().verification_keys(), f"at {t} s a verifier does not know {kid}"
    assert len(signed_with) == 2  # the new key did sign within the window


def test_unknown_kids_re_read_the_secret_at_most_once_per_gap_then_fail(store: FakeStore) -> None:
    stranger = jwt_keys.new_key()
    token = forged(stranger, jwt_keys.kid_of(stranger))
    for _ in range(20):
        with pytest.raises(TokenError, match="unknown signing key"):
            verify_access_token(token)
    assert store.reads == 2  # the cold start's read, one re-read
    store.now += 10
    with pytest.raises(TokenError, match="unknown signing key"):
        verify_access_token(token)
    assert store.reads == 3


def test_an_admin_token_forged_with_the_old_default_is_refused_without_a_re_read(store: FakeStore) -> None:
    for kid in ("local-1", jwt_keys.kid_of(OLD_DEFAULT), jwt_keys.kid_of(jwt_keys.parse(store.text).current)):
        with pytest.raises(TokenError):
            verify_access_token(forged(OLD_DEFAULT, kid))
    assert store.reads <= 2


def test_a_store_outage_keeps_the_cached_keys(store: FakeStore) -> None:
    token, _ = issue_access_token("u1", "customer")
    store.down = True
    store.now += 301
    assert verify_access_token(token).user_id == "u1"
    reads = store.reads
    assert verify_access_token(token).user_id == "u1"
    assert store.reads == reads  # not asked again before the gap


def test_without_any_copy_an_outage_is_unavailable_not_unauthorized() -> None:
    def down() -> str:
        raise SecretUnavailable("the secret store is unreachable")

    tokens.signing_keys.install(CachedSecret("keys", down, jwt_keys.parse, max_age_s=300))
    try:
        with pytest.raises(SecretUnavailable) as caught:
            issue_access_token("u1", "customer")
        assert caught.value.status == 503
    finally:
        tokens.signing_keys.reset()


def test_a_document_with_a_shipped_value_is_refused_outside_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOTOSTACK_ENV", "staging")
    monkeypatch.setenv("PHOTOSTACK_DATABASE_URL", "postgresql://app:s3cret-from-elsewhere@db/photostack")
    monkeypatch.setenv("PHOTOSTACK_REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("PHOTOSTACK_JWT_KEYS_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:k")
    settings = get_settings()
    tokens.signing_keys.install(CachedSecret("keys", lambda: jwt_keys.dump(KeySet(OLD_DEFAULT)),
                                             lambda text: tokens.checked_keys(text, settings.env),
                                             max_age_s=300))
    try:
        with pytest.raises(SecretUnavailable, match="local"):
            issue_access_token("u1", "customer")
    finally:
        tokens.signing_keys.reset()
