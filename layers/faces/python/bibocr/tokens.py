"""Which recognised text is a bib number: pure functions, no models.

A bib number is what ``photostack.contract.BIB_NUMBER`` says (1-6 digits with an optional
one-letter prefix: "1234", "A123"). Text around it ("No. 1234", "RUN 42") is split on anything
that is not a letter or digit; a token with letters inside or after the digits ("12AB") is not
a bib.
"""

from __future__ import annotations

import re

from photostack.contract import BIB_NUMBER


def bib_tokens(text: str) -> list[str]:
    """The bib numbers in one recognised line, normalised (upper case, leading zeros kept)."""
    return [t for t in re.split(r"[^0-9A-Z]+", text.upper()) if BIB_NUMBER.fullmatch(t)]
