"""photostack.contract is the one definition of the photo contract: it agrees with the proto,
and no product module spells a role, a photo status, the content types, the upload limit, the
sidecar's name, the original-key format, the bib-number pattern, a proto-enum map or a cursor
codec a second time."""

from __future__ import annotations

import ast
import datetime as dt
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from photostack import contract
from photostack.photo.v1 import photo_pb2 as pb

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
# Product code: what is deployed (functions, layers, the sidecar). The CLI is a client of the
# public API and tests/ may spell values out on purpose.
PRODUCT = [ROOT / "functions", ROOT / "layers", ROOT / "sidecar"]
OWNER = ROOT / "layers" / "core" / "python" / "photostack" / "contract.py"
GENERATED = ROOT / "layers" / "core" / "python" / "photostack" / "photo"
# base64url for something that is not a cursor: the signing key's id.
OTHER_BASE64_USERS = {ROOT / "layers" / "core" / "python" / "photostack" / "jwt_keys.py"}

LIMITS = {contract.MAX_UPLOAD_BYTES}
# A photo status as a SQL literal inside a query ("... SET status = 'failed'").
SQL_STATUS = re.compile(r"'(" + "|".join(map(re.escape, contract.STATUSES)) + r")'")
# The transactions function's payments are pending, succeeded or failed: another concept that
# happens to share two words with photo statuses (its photo-facing code, catalog_grpc.py, reads
# photo statuses only as proto enums). Its payment statuses are its own to name.
PAYMENT_STATUS_USERS = ROOT / "functions" / "transactions"
ENUM_PREFIXES = ("VISIBILITY_", "PHOTO_STATUS_")
# A regex that accepts and refuses each of these as contract.BIB_NUMBER does is the bib rule
# spelled again, however it is written (\d for [0-9], {0,1} for ?, [A-Za-z] for [A-Z], anchors
# or fullmatch).
BIB_SAMPLES = ("0", "42", "000123", "123456", "A1", "A123", "Z999999",
               "", "A", "AB1", "1234567", "A1234567", "12A", "1A2", "1-2", "12 ", "No. 12")


# --- agreement with the proto ----------------------------------------------------------

@pytest.mark.parametrize(("enum", "prefix", "to_pb"), [
    (pb.Visibility, "VISIBILITY_", contract.VISIBILITY_TO_PB),
    (pb.PhotoStatus, "PHOTO_STATUS_", contract.STATUS_TO_PB),
])
def test_enum_maps_name_every_proto_value(enum: object, prefix: str, to_pb: dict[str, int]) -> None:
    values = enum.DESCRIPTOR.values  # type: ignore[attr-defined]
    expected = {v.name.removeprefix(prefix).lower(): v.number for v in values if v.number != 0}
    assert to_pb == expected


def test_reverse_maps_and_names_agree() -> None:
    assert contract.VISIBILITY_FROM_PB == {pb.VISIBILITY_PUBLIC: contract.PUBLIC,
                                           pb.VISIBILITY_PRIVATE: contract.PRIVATE}
    assert contract.STATUS_FROM_PB == {pb.PHOTO_STATUS_PENDING: contract.PENDING,
                                       pb.PHOTO_STATUS_READY: contract.READY,
                                       pb.PHOTO_STATUS_FAILED: contract.FAILED}


def test_sidecar_grpc_service_is_the_protos() -> None:
    assert pb.DESCRIPTOR.services_by_name["PhotoService"].full_name == contract.SIDECAR_GRPC_SERVICE


def test_original_key_round_trips() -> None:
    key = contract.original_key("e-1", "p_2")
    match = contract.ORIGINAL_KEY.fullmatch(key)
    assert match is not None and (match["event_id"], match["photo_id"]) == ("e-1", "p_2")
    assert contract.ORIGINAL_KEY.fullmatch("originals/e/p/../x") is None


def test_bib_number_is_one_letter_at_most_then_one_to_six_digits() -> None:
    assert all(contract.BIB_NUMBER.match(n) for n in ("7", "1234", "000123", "A123", "Z999999"))
    assert not any(contract.BIB_NUMBER.match(n) for n in ("", "12AB", "AB12", "1234567", "a12", "1 2"))
    # The API's query pattern is the same rule before the API strips and upper-cases the value
    # (photos/bibs.py parse_bib): what the document admits is exactly what the API takes.
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    for sample in (*BIB_SAMPLES, "a1", "z999999", "a1234567", "ab1", " 123", "A12 ", "\t 7\n", "1 2", "A 1",
                   "\u3000z9\u00a0", "\u0131" + "12", "\u017f" + "1", "\u00df" + "1", "\ufeff1", "\u200b1",
                   "x",
                   *(f"{s}A1{s}" for s in spaces)):
        assert (re.fullmatch(contract.BIB_QUERY_PATTERN, sample) is None) == (
            contract.BIB_NUMBER.fullmatch(sample.strip().upper()) is None), repr(sample)
    # Every letter the API's upper-casing turns into A-Z, and no other.
    letters = [chr(c) for c in range(0x110000) if contract.BIB_NUMBER.fullmatch(chr(c).upper() + "1")]
    assert [x for x in letters if not re.fullmatch(contract.BIB_QUERY_PATTERN, x + "1")] == []


def test_cursor_codec_round_trips_and_refuses_garbage() -> None:
    text = f'["{dt.datetime(2026, 1, 1, tzinfo=dt.UTC).isoformat()}", "x"]'
    assert contract.decode_cursor(contract.encode_cursor(text)) == text
    assert "=" not in contract.encode_cursor("ab")
    with pytest.raises(contract.InvalidCursor):
        contract.decode_cursor("a")  # no base64 string has one character
    with pytest.raises(contract.InvalidCursor):
        contract.decode_cursor("_w")  # valid base64, not UTF-8


# --- no second spelling in product code ------------------------------------------------

def _int_value(node: ast.expr) -> int | None:
    """The value of an integer expression made only of literals (64 * 1024 * 1024, 1 << 26)."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp):
        left, right = _int_value(node.left), _int_value(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.LShift) and right < 64:
            return left << right
        if isinstance(node.op, ast.Pow) and right < 64:
            return int(left**right)
    return None


def _is_bib_pattern(text: str) -> bool:
    """Whether ``text``, read as a regular expression, is the bib-number rule restated."""
    if len(text) > 80 or not ("[" in text or "\\d" in text):  # no digit class: not that rule
        return False
    try:
        with warnings.catch_warnings():  # odd strings may warn (nested sets): they are not patterns
            warnings.simplefilter("ignore")
            pattern = re.compile(text)
    except (re.error, OverflowError, RecursionError):
        return False
    return all((pattern.fullmatch(s) is None) == (contract.BIB_NUMBER.fullmatch(s) is None)
               for s in BIB_SAMPLES)


def second_spellings(source: str, *, cursor_codec_allowed: bool = False,
                     statuses_allowed: bool = False) -> Iterator[tuple[int, str]]:
    """(line, what) for each value of the contract that ``source`` spells out itself."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if not statuses_allowed and (node.value in contract.STATUSES or SQL_STATUS.search(node.value)):
                word = node.value if node.value in contract.STATUSES else SQL_STATUS.search(node.value)[1]  # type: ignore[index]
                yield node.lineno, f"photo status {word!r}"
            if node.value in contract.ROLES:
                yield node.lineno, f"role {node.value!r}"
            elif node.value == contract.SIDECAR_SERVICE:
                yield node.lineno, "the sidecar's service name"
            elif node.value.startswith(contract.ORIGINALS_PREFIX):
                yield node.lineno, "the original-key format"
            if _is_bib_pattern(node.value):
                yield node.lineno, "the bib-number pattern"
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and str(first.value).startswith(contract.ORIGINALS_PREFIX):
                yield node.lineno, "the original-key format"
        elif isinstance(node, ast.BinOp | ast.Constant) and _int_value(node) in LIMITS:
            yield node.lineno, f"the upload size limit ({_int_value(node)})"
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            types = {e.value for e in node.elts if isinstance(e, ast.Constant)} & set(contract.CONTENT_TYPES)
            if len(types) >= 2:
                yield node.lineno, "the upload content types"
        if isinstance(node, ast.Dict):
            names = [n.attr for n in (*node.keys, *node.values) if isinstance(n, ast.Attribute)]
            if any(name.startswith(ENUM_PREFIXES) for name in names):
                yield node.lineno, "a proto-enum map"
        if (isinstance(node, ast.Attribute) and node.attr.startswith("urlsafe_b64")
                and not cursor_codec_allowed):
            yield node.lineno, "a cursor codec (base64url)"


def _product_files() -> Iterator[Path]:
    for top in PRODUCT:
        for path in sorted(top.rglob("*.py")):
            if path == OWNER or path.is_relative_to(GENERATED) or "__pycache__" in path.parts:
                continue
            yield path


def test_product_code_spells_no_contract_value_twice() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}: {what}"
             for path in _product_files()
             for line, what in second_spellings(
                 path.read_text(), cursor_codec_allowed=path in OTHER_BASE64_USERS,
                 statuses_allowed=path.is_relative_to(PAYMENT_STATUS_USERS))]
    assert not found, "use photostack.contract instead:\n" + "\n".join(found)


def test_the_scan_reads_product_code() -> None:
    assert sum(1 for _ in _product_files()) > 50


@pytest.mark.parametrize(("snippet", "what"), [
    ('ROLES = ("customer", "photographer")', "role 'customer'"),
    ("authenticate(request, roles=['admin'])", "role 'admin'"),
    ("MAX = 64 * 1024 * 1024", "the upload size limit"),
    ("MAX = 64 << 20", "the upload size limit"),
    ('TYPES = ("image/jpeg", "image/png")', "the upload content types"),
    ('name = "photo-sidecar"', "the sidecar's service name"),
    ('key = f"originals/{event}/{photo}"', "the original-key format"),
    ('VIS = {pb.VISIBILITY_PUBLIC: "public"}', "a proto-enum map"),
    ("raw = base64.urlsafe_b64decode(cursor)", "a cursor codec"),
    ('NUMBER = re.compile(r"^[A-Z]?[0-9]{1,6}$")', "the bib-number pattern"),
    (r'ok = re.fullmatch(r"[A-Z]{0,1}\d{1,6}", value.upper())', "the bib-number pattern"),
    ('schema = {"type": "string", "pattern": "^[A-Za-z]?[0-9]{1,6}$"}', "the bib-number pattern"),
    ('ready = photo.status == "ready"', "photo status 'ready'"),
    ('STATUSES = ("pending", "ready", "failed")', "photo status 'pending'"),
    ("cur.execute(\"UPDATE photos SET status = 'failed' WHERE id = %s\", (pid,))", "photo status 'failed'"),
])
def test_the_scan_finds_a_second_spelling(snippet: str, what: str) -> None:
    assert any(found.startswith(what) for _, found in second_spellings(snippet))


@pytest.mark.parametrize("snippet", [
    'message = "already failed over"',  # words, not a status
    "cur.execute(\"SELECT status FROM photos WHERE status = %s\", (contract.READY,))",
    "state = contract.PENDING",
])
def test_the_scan_leaves_other_uses_of_the_words_alone(snippet: str) -> None:
    assert not any(found.startswith("photo status") for _, found in second_spellings(snippet))


@pytest.mark.parametrize("snippet", [
    'tokens = re.split(r"[^0-9A-Z]+", text.upper())',  # the OCR's tokeniser, not the rule
    'digits = re.compile(r"^[0-9]{1,6}$")',  # no letter prefix: another rule
    'code = re.compile(r"^[A-Z][0-9]{1,6}$")',  # the letter required: another rule
    "ok = contract.BIB_NUMBER.match(number)",
])
def test_the_scan_leaves_other_patterns_alone(snippet: str) -> None:
    assert not any(found == "the bib-number pattern" for _, found in second_spellings(snippet))


def test_payment_statuses_are_transactions_own() -> None:
    """Transactions' payment statuses share words with photo statuses; the scan leaves them be."""
    snippet = 'waiting = payment["status"] == "pending"'
    assert list(second_spellings(snippet, statuses_allowed=True)) == []
    assert list(second_spellings(snippet)) == [(1, "photo status 'pending'")]
