"""The stack's own sidecar (the one `make up` starts and the deployed functions call) refuses
whoever is not verified: the same cases as tests/integration/sidecar/test_identity.py, pointed
at it. Read-only; run under the stack lock like every e2e test."""

from __future__ import annotations

import pytest

from tests.identity import STACK_SIDECAR, SidecarRef
from tests.integration.sidecar.test_identity import (  # noqa: F401 (collected here, against the stack)
    test_a_bad_or_forged_token_is_unauthenticated,
    test_a_plaintext_call_is_refused,
    test_a_self_signed_certificate_is_refused,
    test_a_service_the_intentions_deny_is_refused,
    test_each_service_gets_only_its_methods,
    test_the_person_is_whoever_the_token_says_and_nobody_else,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sidecar() -> SidecarRef:
    return STACK_SIDECAR
