"""Date columns read with one format for the whole column, and the period of a date grid.

:func:`read_dates` parses a column and reports its bad rows (for callers that collect
problems row by row, such as a lift table); :func:`parse_dates` raises :class:`DateError`
instead. Accepted: datetime values; ISO dates (``2024-04-03``, optionally with a time); and
day-month forms (``03/04/2024``, ``03.04.24``, ``03-04-2024``) whose order the column
decides: a first part above 12 makes it day-first, a second part above 12 month-first.
A column where every such date reads both ways is refused, never guessed, and no column is
read partly day-first and partly month-first (as ``pd.to_datetime`` without a format can).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "SHOWN",
    "DateError",
    "ParsedDates",
    "format_dates",
    "infer_period",
    "parse_dates",
    "period_name",
    "read_dates",
]

_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})$")
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
SHOWN = 10  # rows or dates named in a message


class DateError(ValueError):
    """A date column could not be read; the message names the column, rows and the fix."""


@dataclass(frozen=True)
class ParsedDates:
    """A column's dates (``NaT`` in bad rows), its bad rows (0-based) and what is wrong.

    ``problem`` is one sentence naming the column, rows and fix, or None when all rows
    parsed; ``order`` is ``"day-first"``, ``"month-first"``, or None (ISO or datetimes).
    """

    values: pd.DatetimeIndex
    bad_rows: tuple[int, ...]
    problem: str | None
    order: str | None = None


def _shown(rows: np.ndarray | list[int], raw: pd.Series) -> str:
    rows = [int(r) for r in list(rows)[:SHOWN]]
    values = ", ".join(repr(_plain(raw.iloc[r])) for r in rows)
    return f"rows {rows} ({values})"


def _plain(value: Any) -> Any:
    """A numpy scalar as its Python value (for readable messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _as_text(value: Any) -> str | None:
    """A value as date text (datetimes in ISO), or None for a missing or non-text value."""
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | np.datetime64):
        stamp = pd.Timestamp(value)
        return None if pd.isna(stamp) else stamp.isoformat()
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _reading(day: int, month: int) -> str:
    return f"{day} {_MONTHS[month - 1]}" if 1 <= month <= 12 else "?"


def read_dates(values: Any, field: str) -> ParsedDates:
    """Parse ``values`` (a column named ``field``) with one format; never raises for a value."""
    raw = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(raw):
        dates = pd.DatetimeIndex(raw)
        bad = np.flatnonzero(dates.isna())
        problem = (
            f"Column `{field}` has missing dates in rows {bad[:SHOWN].tolist()}."
            if len(bad)
            else None
        )
        return ParsedDates(dates, tuple(bad.tolist()), problem)
    text = [_as_text(v) for v in raw]
    iso = np.array([t is not None and _ISO.match(t) is not None for t in text])
    matches = [None if t is None else _DAY_MONTH.match(t) for t in text]
    dm = np.array([m is not None for m in matches])
    if iso.any() and dm.any():
        return _refuse(
            raw,
            np.flatnonzero(dm),
            f"Column `{field}` mixes YYYY-MM-DD dates ({_shown(np.flatnonzero(iso)[:1], raw)}) "
            f"with day-month dates in {_shown(np.flatnonzero(dm), raw)}; write them all as "
            "YYYY-MM-DD.",
        )
    if dm.any():
        return _read_day_month(raw, matches, field)
    parsed = pd.to_datetime(
        pd.Series([t if ok else None for t, ok in zip(text, iso, strict=True)], dtype=object),
        format="ISO8601",
        errors="coerce",
    )
    return _finish(raw, pd.DatetimeIndex(parsed), field, None)


def _refuse(raw: pd.Series, rows: np.ndarray, problem: str) -> ParsedDates:
    dates = pd.DatetimeIndex([pd.NaT] * len(raw))
    return ParsedDates(dates, tuple(int(r) for r in rows), problem)


def _read_day_month(raw: pd.Series, matches: list, field: str) -> ParsedDates:
    """Day-month dates: the column's order from its values, then one order for every row."""
    parts = np.array([(int(m[1]), int(m[3])) if m else (0, 0) for m in matches], dtype=int).reshape(
        -1, 2
    )
    first, second = parts[:, 0], parts[:, 1]
    day_first = np.flatnonzero((first > 12) & (second <= 12))
    month_first = np.flatnonzero((second > 12) & (first <= 12))
    if len(day_first) and len(month_first):
        return _refuse(
            raw,
            month_first,
            f"Column `{field}` mixes day-first dates ({_shown(day_first[:3], raw)}) and "
            f"month-first dates ({_shown(month_first[:3], raw)}); write every date as "
            "YYYY-MM-DD.",
        )
    ambiguous = np.flatnonzero((first != second) & (first <= 12) & (second <= 12))
    if not len(day_first) and not len(month_first) and len(ambiguous):
        r = int(ambiguous[0])
        a, b, year = int(first[r]), int(second[r]), matches[r][4]
        full = int(year) if len(year) == 4 else 2000 + int(year)
        return _refuse(
            raw,
            ambiguous,
            f"Column `{field}` has dates like {raw.iloc[r]!r} that read as either "
            f"{_reading(a, b)} or {_reading(b, a)}; write them as YYYY-MM-DD "
            f"(e.g. {full:04d}-{b:02d}-{a:02d}).",
        )
    order = "month-first" if len(month_first) else "day-first"
    days, months = (second, first) if order == "month-first" else (first, second)
    iso = [
        f"{_year(m[4])}-{months[i]:02d}-{days[i]:02d}" if m else None for i, m in enumerate(matches)
    ]
    parsed = pd.to_datetime(pd.Series(iso, dtype=object), format="%Y-%m-%d", errors="coerce")
    return _finish(raw, pd.DatetimeIndex(parsed), field, order)


def _year(text: str) -> str:
    """Four-digit year; two digits read as ``%y`` does (69-99: 1900s, else 2000s)."""
    if len(text) == 4:
        return text
    return f"{1900 + int(text) if int(text) >= 69 else 2000 + int(text)}"


def _finish(raw: pd.Series, dates: pd.DatetimeIndex, field: str, order: str | None):
    bad = np.flatnonzero(dates.isna())
    problem = None
    if len(bad):
        problem = (
            f"Column `{field}` has values that are not dates in {_shown(bad, raw)}; "
            "write dates as YYYY-MM-DD."
        )
    return ParsedDates(dates, tuple(int(r) for r in bad), problem, order)


def parse_dates(values: Any, field: str) -> pd.DatetimeIndex:
    """``values`` (the column ``field``) as dates; :class:`DateError` naming rows if not."""
    parsed = read_dates(values, field)
    if parsed.problem:
        raise DateError(parsed.problem)
    return parsed.values


def infer_period(dates: pd.DatetimeIndex) -> pd.Timedelta | pd.DateOffset:
    """The grid step of ``dates``: the most common gap between sorted unique dates.

    Gaps of 28-31 days are read as a monthly grid (a ``DateOffset`` of one month).
    """
    unique = dates.unique().sort_values()
    if len(unique) < 2:
        raise ValueError("a grid needs at least 2 distinct dates")
    gaps = pd.Series(np.diff(unique.asi8)).value_counts()
    step = pd.Timedelta(int(gaps[gaps == gaps.max()].index.min()), unit="ns")
    if pd.Timedelta(days=28) <= step <= pd.Timedelta(days=31):
        return pd.DateOffset(months=1)
    return step


def period_name(step: pd.Timedelta | pd.DateOffset) -> str:
    """``daily``, ``weekly``, ``monthly``, or e.g. ``14-day``."""
    if isinstance(step, pd.DateOffset):
        return "monthly"
    if step == pd.Timedelta(days=1):
        return "daily"
    if step == pd.Timedelta(days=7):
        return "weekly"
    if step % pd.Timedelta(days=1) == pd.Timedelta(0):
        return f"{step.days}-day"
    return f"{step}"


def format_dates(dates: Any, limit: int = SHOWN) -> str:
    """Up to ``limit`` dates as ``2024-03-04, 2024-03-11, ...`` (times shown only if any)."""
    index = pd.DatetimeIndex(dates)
    shown = [d.isoformat() if d != d.normalize() else d.date().isoformat() for d in index[:limit]]
    more = f", ... ({len(index) - limit} more)" if len(index) > limit else ""
    return ", ".join(shown) + more
