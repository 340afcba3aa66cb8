"""Why a month's indicators could not be answered; each is a clear HTTP answer.

They are Litestar ``HTTPException`` subclasses so a route can let them through and the
platform answers ``{"detail": ...}`` with the right status, never a 500.
"""

from __future__ import annotations

from litestar.exceptions import HTTPException
from litestar.status_codes import (
    HTTP_404_NOT_FOUND,
    HTTP_502_BAD_GATEWAY,
    HTTP_503_SERVICE_UNAVAILABLE,
)

__all__ = ["ExtractionRefused", "FetchUnavailable", "IndicatorsNotFound", "IndicatorsProblem"]


class IndicatorsProblem(HTTPException):
    """Base: the month's indicators cannot be answered now."""


class IndicatorsNotFound(IndicatorsProblem):
    """No source has values for the month (404). Nothing is ever extrapolated."""

    status_code = HTTP_404_NOT_FOUND


class FetchUnavailable(IndicatorsProblem):
    """The Previred fetch could not run: network, Previred or the LLM is down (503)."""

    status_code = HTTP_503_SERVICE_UNAVAILABLE


class ExtractionRefused(IndicatorsProblem):
    """Previred's document or the model's reading of it was refused (502); nothing stored."""

    status_code = HTTP_502_BAD_GATEWAY
