"""Which recognised text is a bib number: pure functions, no models.

A bib number is 1-6 digits with an optional one-letter prefix ("1234", "A123"). Text around
it ("No. 1234", "RUN 42") is split on anything that is not a letter or digit; a token with
letters inside or after the digits ("12AB") is not a bib.
"""

from __future__ import annotations

import re

BIB = re.compile(r"^[A-Z]?[0-9]{1,6}$")


def bib_tokens(text: str) -> list[str]:
    """The bib numbers in one recognised line, normalised (upper case, leading zeros kept)."""
    return [t for t in re.split(r"[^0-9A-Z]+", text.upper()) if BIB.match(t)]
