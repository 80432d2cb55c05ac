"""The users domain without I/O: input parsing, password policy, refresh rotation rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from users import domain
from users.domain import (
    InvalidInput,
    InvalidRefreshToken,
    RefreshRecord,
    Rotation,
    UserNotFound,
    WeakPassword,
)

pytestmark = pytest.mark.unit

GOOD = {"email": "Ann@Example.com", "password": "a long unusual phrase", "display_name": "Ann",
        "role": "photographer"}


def test_registration_parses_a_valid_body() -> None:
    reg = domain.parse_registration(dict(GOOD))
    assert reg == domain.Registration(email="Ann@Example.com", password="a long unusual phrase",
                                      display_name="Ann", role="photographer")


@pytest.mark.parametrize("field", ["email", "password", "display_name", "role"])
def test_registration_requires_every_field(field: str) -> None:
    body = {k: v for k, v in GOOD.items() if k != field}
    with pytest.raises(InvalidInput) as exc:
        domain.parse_registration(body)
    assert exc.value.field == field


@pytest.mark.parametrize("field,value", [("email", 42), ("password", ["x"]), ("display_name", {"a": 1}),
                                         ("role", True)])
def test_registration_rejects_wrong_types(field: str, value: object) -> None:
    with pytest.raises(InvalidInput) as exc:
        domain.parse_registration({**GOOD, field: value})
    assert exc.value.field == field


def test_registration_rejects_unknown_fields_and_admin_role() -> None:
    with pytest.raises(InvalidInput, match="unknown field"):
        domain.parse_registration({**GOOD, "is_admin": True})
    with pytest.raises(InvalidInput, match="role"):
        domain.parse_registration({**GOOD, "role": "admin"})


@pytest.mark.parametrize("email", ["", "plain", "a@b", "a@@b.com", "a b@c.com", ".a@b.com", "a..b@c.com",
                                   "a@-b.com", "a@b.c", "x" * 65 + "@b.com", "a@" + "b" * 250 + ".com",
                                   "a@b.com\x00", "ü@b.com", "a@b_c.com"])
def test_invalid_emails_are_refused(email: str) -> None:
    with pytest.raises(InvalidInput):
        domain.normalize_email(email)


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@sub.example.org", "O'Neil@example.ie"])
def test_valid_emails_are_kept_as_written(email: str) -> None:
    assert domain.normalize_email(f"  {email} ") == email


def test_email_key_is_case_insensitive() -> None:
    assert domain.email_key("Ann@Example.COM") == domain.email_key(" ann@example.com")


@pytest.mark.parametrize("password", ["short", "x" * 7, "y" * 129])
def test_password_length_is_8_to_128(password: str) -> None:
    with pytest.raises(WeakPassword):
        domain.check_password_policy(password)


def test_password_bounds_are_inclusive_and_need_no_composition() -> None:
    domain.check_password_policy("zqxwvuts")
    domain.check_password_policy("z" * 127 + "q")


@pytest.mark.parametrize("password", ["password", "Password1", "QWERTY123", "iloveyou", "12345678",
                                      "letmein123", "football1"])
def test_common_passwords_are_refused_case_insensitively(password: str) -> None:
    with pytest.raises(WeakPassword, match="too common"):
        domain.check_password_policy(password)


def test_common_password_list_ships_with_the_package() -> None:
    common = domain.common_passwords()
    assert len(common) >= 1000
    assert all(p == p.lower() and p.strip() == p for p in common)


def test_password_must_not_be_the_email() -> None:
    with pytest.raises(WeakPassword, match="email"):
        domain.check_password_policy("ann.smith@example.com", email="Ann.Smith@example.com")
    with pytest.raises(WeakPassword, match="email"):
        domain.check_password_policy("ann.smith", email="ann.smith@example.com")


def test_display_name_is_trimmed_and_bounded() -> None:
    assert domain.normalize_display_name("  Zoë  ") == "Zoë"
    for bad in ["", "   ", "x" * 81, "bad\x07name", "new\nline"]:
        with pytest.raises(InvalidInput):
            domain.normalize_display_name(bad)


def test_credentials_only_check_shape() -> None:
    assert domain.parse_credentials({"email": " a@b.co ", "password": "anything"}) == domain.Credentials(
        "a@b.co", "anything")
    for body in [{}, {"email": "a@b.co"}, {"email": 1, "password": "x"}, {"email": "a@b.co", "password": ""},
                 {"email": "a@b.co", "password": "p" * 129}, {"email": "a@b.co", "password": "x", "x": 1}]:
        with pytest.raises(InvalidInput):
            domain.parse_credentials(body)
    # Found by Schemathesis: a NUL in the email reached PostgreSQL and answered 500.
    for email in ["\x006", "a@b.co\x00", "a\u200b@b.co"]:
        with pytest.raises(InvalidInput):
            domain.parse_credentials({"email": email, "password": "anything"})


def test_profile_change_rules() -> None:
    assert domain.parse_profile_change({"display_name": " Bo "}).display_name == "Bo"
    change = domain.parse_profile_change({"password": "another fine phrase", "current_password": "old one"})
    assert change.new_password == "another fine phrase"
    with pytest.raises(InvalidInput, match="nothing to change"):
        domain.parse_profile_change({})
    with pytest.raises(InvalidInput, match="current_password"):
        domain.parse_profile_change({"password": "another fine phrase"})
    with pytest.raises(InvalidInput, match="current_password"):
        domain.parse_profile_change({"current_password": "old one"})
    with pytest.raises(InvalidInput, match="unknown"):
        domain.parse_profile_change({"role": "admin"})
    with pytest.raises(WeakPassword):
        domain.parse_profile_change({"password": "password1", "current_password": "x"})


def test_admin_change_rules() -> None:
    assert domain.parse_admin_change({"role": "admin"}) == domain.AdminChange("admin", None)
    assert domain.parse_admin_change({"disabled": True}) == domain.AdminChange(None, True)
    for body in [{}, {"role": "root"}, {"disabled": "yes"}, {"disabled": 1}, {"email": "x@y.zz"}]:
        with pytest.raises(InvalidInput):
            domain.parse_admin_change(body)


def test_user_ids_must_be_uuids() -> None:
    upper = "E209B89A-69C2-425F-BE69-C7130F2FDC13"
    assert domain.parse_user_id(upper) == upper.lower()
    for bad in ["me", "1", "' OR 1=1 --", ""]:
        with pytest.raises(UserNotFound):
            domain.parse_user_id(bad)


def test_public_view_never_shows_the_email() -> None:
    user = domain.User("id-1", "a@b.co", "A", "customer", "hash", False, 0, datetime.now(UTC))
    assert "email" not in user.public_view()
    assert "password_hash" not in user.private_view()
    assert user.private_view()["email"] == "a@b.co"


def test_refresh_tokens_are_random_and_hashed() -> None:
    a, b = domain.new_refresh_token(), domain.new_refresh_token()
    assert a != b and len(a) >= 43
    assert len(domain.hash_refresh_token(a)) == 32
    assert domain.hash_refresh_token(a) == domain.hash_refresh_token(a) != domain.hash_refresh_token(b)
    assert domain.parse_refresh_token({"refresh_token": a}) == a


@pytest.mark.parametrize("body", [{}, {"refresh_token": 5}, {"refresh_token": "short"},
                                  {"refresh_token": "has spaces in it and is long enough"},
                                  {"refresh_token": "é" * 40}, {"refresh_token": "x" * 40, "other": 1}])
def test_malformed_refresh_tokens_are_refused(body: dict[str, object]) -> None:
    with pytest.raises((InvalidRefreshToken, InvalidInput)):
        domain.parse_refresh_token(body)


NOW = datetime(2030, 1, 1, tzinfo=UTC)
MAX_SESSION = timedelta(days=30)


def record(**kw: object) -> RefreshRecord:
    base: dict[str, object] = {"family_id": "f", "user_id": "u", "family_started_at": NOW - timedelta(days=1),
                               "expires_at": NOW + timedelta(days=1), "rotated": False,
                               "family_revoked": False, "user_disabled": False}
    base.update(kw)
    return RefreshRecord(**base)  # type: ignore[arg-type]


def decide(rec: RefreshRecord, now: datetime = NOW) -> Rotation:
    return domain.decide_rotation(rec, now, MAX_SESSION)


def test_a_fresh_token_rotates() -> None:
    assert decide(record()) is Rotation.ROTATE


def test_a_rotated_token_used_again_is_reuse_even_after_expiry() -> None:
    assert decide(record(rotated=True)) is Rotation.REUSE_DETECTED
    assert decide(record(rotated=True, expires_at=NOW - timedelta(days=1))) is Rotation.REUSE_DETECTED
    assert decide(record(rotated=True, family_started_at=NOW - timedelta(days=90))) is Rotation.REUSE_DETECTED


def test_a_revoked_family_stays_revoked() -> None:
    assert decide(record(family_revoked=True, rotated=True)) is Rotation.FAMILY_REVOKED
    assert decide(record(family_revoked=True)) is Rotation.FAMILY_REVOKED


def test_expiry_and_disabled_accounts_stop_rotation() -> None:
    assert decide(record(expires_at=NOW)) is Rotation.EXPIRED
    assert decide(record(user_disabled=True)) is Rotation.ACCOUNT_DISABLED


def test_a_session_ends_at_its_absolute_lifetime_however_fresh_its_token() -> None:
    started = NOW - MAX_SESSION
    assert decide(record(family_started_at=started, expires_at=NOW + timedelta(days=13))) \
        is Rotation.SESSION_EXPIRED
    assert decide(record(family_started_at=started + timedelta(seconds=1))) is Rotation.ROTATE


def test_refresh_tokens_slide_but_never_past_the_session_end() -> None:
    sliding = timedelta(days=14)
    started = NOW - timedelta(days=20)
    assert domain.refresh_expiry(NOW, sliding, started, MAX_SESSION) == started + MAX_SESSION
    assert domain.refresh_expiry(NOW, sliding, NOW, MAX_SESSION) == NOW + sliding
