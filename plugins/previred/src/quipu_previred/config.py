"""``[plugins.previred]``: where and how the Previred fetch downloads a month's document.

Every field has a default; a bad value stops start-up with the platform's one message
(``__post_init__`` raises, the platform reports the section and the key). Cache TTLs are
not here: they are the platform's ``[plugins.previred.cache]`` overrides of the
``indicators_closed`` and ``indicators_current`` policies.
"""

from __future__ import annotations

import string
from typing import Final
from urllib.parse import urlsplit

import msgspec

from quipu_previred.periods import MESES

__all__ = ["DEFAULT_FETCH_URLS", "URL_FIELDS", "PreviredConfig", "render_url"]

_PREVIRED_UPLOADS = "https://www.previred.com/wp-content/uploads/{year}/{month}/"

#: Previred's PDF names, tried in order (original-ai-service.md §5.3).
DEFAULT_FETCH_URLS: Final = (
    _PREVIRED_UPLOADS + "Indicadores-Previsionales-Previred-{mes}-{year}.pdf",
    _PREVIRED_UPLOADS + "Indicadores-Previsionales-Previred-{mes}-{yy}.pdf",
    _PREVIRED_UPLOADS + "Indicadores-Previsionales-Previred-{Mes}-{year}.pdf",
)


#: Placeholders a URL template may use: ``{year}`` 2026, ``{yy}`` 26, ``{month}`` 09,
#: ``{mes}`` septiembre, ``{Mes}`` Septiembre.
URL_FIELDS: Final = frozenset({"year", "yy", "month", "mes", "Mes"})


def render_url(template: str, year: int, month: int) -> str:
    """Fill a URL template for one remuneration month."""
    mes = MESES[month - 1]
    return template.format(
        year=f"{year:04d}", yy=f"{year % 100:02d}", month=f"{month:02d}", mes=mes, Mes=mes.title()
    )


def _template_problem(template: str) -> str | None:
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        return f"{template!r}: {exc}"
    unknown = fields - URL_FIELDS
    if unknown:
        return (
            f"{template!r} uses unknown placeholders {sorted(unknown)}; known: {sorted(URL_FIELDS)}"
        )
    parts = urlsplit(render_url(template, 2025, 7))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{template!r} is not an http(s) URL"
    return None


class PreviredConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The Previred plugin's settings.

    Attributes:
        fetch_urls: URL templates of the month's PDF, tried in order (see
            :data:`URL_FIELDS`); empty turns the Previred fetch off.
        fetch_timeout_s: Connect/read timeout of each download.
        max_pdf_bytes: A larger download is abandoned (Previred's PDF is well under 1 MB).
        max_text_chars: Text of the PDF sent to the model, at most.
        fetch_ahead_months: How far past the current month a fetch is attempted; later
            months are answered 404 without any download.
        force_min_interval_s: ``?force=true`` reuses the outcome of a fetch of the same
            month younger than this, so repeated forced calls cannot multiply LLM spending.
        failure_ttl_s: How long this process remembers that a month could not be fetched
            (Previred had no document, or its extraction was refused) and answers the same
            without downloading or calling the model again (``force`` ignores it).
        user_agent: Sent with every download.
    """

    fetch_urls: tuple[str, ...] = DEFAULT_FETCH_URLS
    fetch_timeout_s: float = 20.0
    max_pdf_bytes: int = 5 * 1024 * 1024
    max_text_chars: int = 30_000
    fetch_ahead_months: int = 1
    force_min_interval_s: float = 300.0
    failure_ttl_s: float = 600.0
    user_agent: str = "quipu-previred/0.1 (+indicadores previsionales)"

    def __post_init__(self) -> None:
        problems = [p for t in self.fetch_urls if (p := _template_problem(t)) is not None]
        if self.fetch_timeout_s <= 0:
            problems.append("fetch_timeout_s must be > 0")
        if self.max_pdf_bytes <= 0:
            problems.append("max_pdf_bytes must be > 0")
        if self.max_text_chars < 1000:
            problems.append("max_text_chars must be >= 1000")
        if not 0 <= self.fetch_ahead_months <= 12:
            problems.append("fetch_ahead_months must be between 0 and 12")
        if self.force_min_interval_s < 0 or self.failure_ttl_s < 0:
            problems.append("force_min_interval_s and failure_ttl_s must be >= 0")
        if problems:
            raise ValueError("; ".join(problems))
