"""Which ``charset`` a JSON body may declare: UTF-8 only (RFC 8259 §8.1).

quipu decodes every JSON body as UTF-8. A body declared in another charset
(``application/json; charset=latin-1``) used to be read as UTF-8 all the same, so its
accented letters came out wrong or failed to decode; it is now refused with 415.
"""

from __future__ import annotations

from email.message import Message

__all__ = ["UTF8_ALIASES", "unsupported_charset"]

#: Declarations read as UTF-8: UTF-8 itself and ASCII, a subset of it.
UTF8_ALIASES = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


def unsupported_charset(content_type: str) -> str | None:
    """The charset ``content_type`` declares when it is not UTF-8, else None.

    No ``charset`` parameter means UTF-8, as RFC 8259 says for JSON.

    >>> unsupported_charset("application/json; charset=ISO-8859-1")
    'iso-8859-1'
    >>> unsupported_charset('application/json; charset="UTF-8"') is None
    True
    """
    # This runs on every JSON request: the usual headers are settled without parsing
    # (the stdlib's parser costs ~40 us).
    lowered = content_type.lower()
    if "charset" not in lowered or lowered.replace(" ", "").endswith(";charset=utf-8"):
        return None
    # The stdlib's MIME parser handles quoting, case and stray whitespace of parameters.
    header = Message()
    header["content-type"] = content_type
    charset = header.get_content_charset()
    if charset is None or charset in UTF8_ALIASES:
        return None
    return charset
