"""Content-addressed cache keys: ``{plugin}:{policy}:v{version}:{company}:{digest}``.

The digest is BLAKE2b (128-bit) over the canonical msgspec JSON encoding of the normalised
request: dictionary keys, set members and Struct fields are sorted, so a Struct and a dict
with the same fields, or two dicts built in a different order, give the same key. Anything
beyond that (trimming, upper-casing a RUT, rounding) is the plugin's normalisation, done
before calling the cache. ``company`` is the caller's company for ``scope="company"``
policies and the literal ``global`` for ``scope="global"`` ones, so two companies never
share a key.
"""

from __future__ import annotations

import re
from hashlib import blake2b
from typing import Any

import msgspec

__all__ = ["COMPANY_QUERY_PATTERN", "GLOBAL", "company_segment", "digest", "glob_escape"]

#: The company segment of keys of ``scope="global"`` policies.
GLOBAL = "global"
_COMPANY = re.compile(r"^[A-Za-z0-9_.,@+*-]{1,128}$")
#: ``?company=`` of ``DELETE /_platform/cache``: a company segment, or empty for none.
COMPANY_QUERY_PATTERN = r"^[A-Za-z0-9_.,@+*-]{0,128}$"
_GLOB = re.compile(r"([*?\[\]\\])")
_canonical = msgspec.json.Encoder(order="sorted").encode


def digest(key: Any) -> str:
    """The hex digest of a msgspec-encodable request (32 characters).

    Raises:
        TypeError: ``key`` is not msgspec-encodable.
    """
    return blake2b(_canonical(key), digest_size=16).hexdigest()


def company_segment(company: int | str) -> str:
    """The key segment of a company id.

    Raises:
        ValueError: not an int, nor a short string of letters, digits and ``_.,@+*-``.
    """
    if type(company) is int:
        return str(company)
    if isinstance(company, str) and _COMPANY.match(company):
        return company
    raise ValueError(
        f"company {company!r} cannot be part of a cache key: "
        "pass the company id (an int, or letters, digits and _.,@+*-)"
    )


def glob_escape(text: str) -> str:
    """``text`` with Redis glob characters escaped, for ``SCAN MATCH`` patterns."""
    return _GLOB.sub(r"\\\1", text)
