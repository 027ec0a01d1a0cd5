"""One cell of an input table read as the lift-table contract reads it: blank, or a number."""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["blank", "finite_number"]


def blank(raw: object) -> bool:
    """Whether a cell is empty (None, NaN, NaT or whitespace)."""
    return (
        raw is None
        or (isinstance(raw, str) and not raw.strip())
        or raw is pd.NaT
        or (isinstance(raw, float) and math.isnan(raw))
    )


def finite_number(raw: object) -> float | None:
    """A cell as a finite float, or None (blank, text, infinite, or a bool)."""
    if isinstance(raw, bool):
        return None
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
