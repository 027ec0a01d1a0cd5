"""The contract's checks of a lift table, each returning problems by row and field.

:func:`check_row` checks one row's values; :func:`check_dates` the test windows against the
modelled dates (and ``n_periods`` against them); :func:`check_duplicates` repeated tests and
overlapping windows on one channel and geo; :func:`unknown_channel` the message for a
channel the model lacks, with the likely one it meant.
"""

from __future__ import annotations

import difflib
import math

import numpy as np
import pandas as pd

from mmmcal.dates import read_dates
from mmmcal.lift.cells import blank
from mmmcal.lift.problems import LiftProblem

__all__ = [
    "AGGREGATIONS",
    "MAX_MAGNITUDE",
    "SAME_TEST_COLUMNS",
    "check_dates",
    "check_duplicates",
    "check_row",
    "read_window_dates",
    "unknown_channel",
]

AGGREGATIONS = ("mean", "sum")
# Rows equal on these columns report one test (a repeat doubles its weight).
SAME_TEST_COLUMNS = (
    "channel",
    "geo",
    "x",
    "delta_x",
    "date_start",
    "date_end",
    "n_periods",
    "measured_from",
    "measured_to",
)
MAX_MAGNITUDE = 1e15  # larger numbers are an overflow or a units mistake, whatever the data
_NUMERIC = (
    "x",
    "delta_x",
    "delta_y",
    "sigma",
    "true_delta_y",
    "n_periods",
    "measured_from",
    "measured_to",
)
_OPTIONAL_NUMERIC = ("true_delta_y", "n_periods", "measured_from", "measured_to")


def _as_number(value: object) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out


def unknown_channel(name: str, channels: list[str]) -> str | None:
    """Why ``name`` is not one of ``channels`` (matched exactly), with a suggestion; None if it is.

    The suggestion is the channel equal to ``name`` up to case and surrounding spaces, else
    the closest spelling (:func:`difflib.get_close_matches`).
    """
    if name in channels:
        return None
    folded = {str(c).strip().casefold(): str(c) for c in channels}
    close = folded.get(name.strip().casefold())
    if close is None:
        matches = difflib.get_close_matches(name.strip().casefold(), list(folded), n=1)
        close = folded[matches[0]] if matches else None
    hint = "" if close is None else f": did you mean {close!r}?"
    return f"unknown channel {name!r}; the model's channels are {list(channels)}{hint}"


def check_row(i: int, row: pd.Series, channels, geos) -> list[LiftProblem]:
    """Problems of row ``i``'s own values (numbers, signs, channel, geo, periods)."""
    problems: list[LiftProblem] = []

    def bad(field: str, message: str) -> None:
        problems.append(LiftProblem(i, field, message))

    channel = row["channel"]
    if not isinstance(channel, str) or not channel:
        bad("channel", f"must be a channel name, got {channel!r}")
    elif channels is not None and (unknown := unknown_channel(channel, list(channels))):
        bad("channel", unknown)

    num: dict[str, float | None] = {}
    for field in _NUMERIC:
        if field not in row.index:
            continue
        raw = row[field]
        optional = field in _OPTIONAL_NUMERIC
        if optional and (raw is None or (isinstance(raw, float) and math.isnan(raw))):
            num[field] = None
            continue
        value = _as_number(raw)
        if value is None or not math.isfinite(value):
            bad(field, f"must be a finite number, got {raw!r}")
        elif abs(value) > MAX_MAGNITUDE:
            bad(
                field,
                f"{raw!r} is beyond {MAX_MAGNITUDE:g} in magnitude: an overflow or a units "
                "mistake (totals for per period, cents for currency)",
            )
            value = None
        num[field] = value

    x, dx, dy, sigma = (num.get(k) for k in ("x", "delta_x", "delta_y", "sigma"))
    if sigma is not None and math.isfinite(sigma) and sigma <= 0:
        bad("sigma", f"must be > 0 (the standard deviation of delta_y), got {sigma}")
    if x is not None and math.isfinite(x) and x < 0:
        bad("x", f"spend before the test cannot be negative, got {x}")
    if x is not None and dx is not None and math.isfinite(x) and math.isfinite(dx):
        if x + dx < 0:
            bad("delta_x", f"x + delta_x = {x + dx} < 0: spend during the test cannot be negative")
        if dx == 0:
            bad("delta_x", "is 0: a test without a spend change measures nothing")
        elif dx < 0 and dy is not None and math.isfinite(dy) and dy > 0:
            bad(
                "delta_y",
                f"is {dy} > 0 for a spend cut (delta_x = {dx}); a cut cannot raise the target: "
                "check the sign convention (delta_y = test minus control)",
            )
    n = num.get("n_periods")
    if n is not None and math.isfinite(n) and (n < 1 or n != int(n)):
        bad("n_periods", f"must be a whole number of periods >= 1, got {n}")
    first, last = num.get("measured_from"), num.get("measured_to")
    for field, v in (("measured_from", first), ("measured_to", last)):
        if v is not None and math.isfinite(v) and (v < 1 or v != int(v)):
            bad(field, f"must be a whole number of periods >= 1, got {v}")
    if first is not None and last is not None and first > last:
        bad("measured_to", f"{last:g} is before measured_from {first:g}")
    if (first is not None or last is not None) and n is None:
        bad(
            "n_periods", "is needed with measured_from/measured_to (the length of the spend change)"
        )
    if first is not None and n is not None and math.isfinite(first) and first > n and last is None:
        bad("measured_to", f"is needed: measured_from {first:g} lies after the {n:g}-period test")

    aggregation = row["aggregation"] if "aggregation" in row.index else None
    if not blank(aggregation) and aggregation not in AGGREGATIONS:
        bad("aggregation", f"must be one of {list(AGGREGATIONS)}, got {aggregation!r}")
    if "geo" in row.index and geos is not None:
        if row["geo"] not in geos and row["geo"] != "national":
            bad(
                "geo",
                f"unknown geo {row['geo']!r}; the data has {len(geos)} geos like {list(geos)[:3]}",
            )
    return problems


def read_window_dates(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[LiftProblem]]:
    """``df``'s ``date_start``/``date_end`` read as dates: (read, given, problems).

    Each column is read with one format (:func:`mmmcal.dates.read_dates`: ISO, or one
    day-month order the column's values decide; dates that read both ways are refused).
    ``read`` holds the dates (``NaT`` for blank cells and cells that are not dates),
    ``given`` the table as given except day-month dates, rewritten as YYYY-MM-DD so no
    later reader can take them the other way round; ``problems`` names the cells.
    """
    out, given = df.copy(), df.copy()
    problems: list[LiftProblem] = []
    for col in ("date_start", "date_end"):
        if col not in df:
            continue
        filled = np.flatnonzero(~df[col].map(blank).to_numpy(dtype=bool))
        parsed = read_dates(df[col].iloc[filled], col)
        values = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
        values.iloc[filled] = parsed.values.as_unit("ns")
        for r in np.flatnonzero(parsed.values.isna()):  # every filled cell read as no date
            i, raw = int(filled[r]), df[col].iloc[int(filled[r])]
            alone = pd.notna(pd.to_datetime(str(raw), errors="coerce"))  # a date, not this column's
            message = (
                str(parsed.problem).rstrip(".")
                if alone
                else f"must be a date like 2024-03-04, got {raw!r}"
            )
            problems.append(LiftProblem(i, col, message))
        out[col] = values
        if parsed.order is not None:
            iso = values.dt.strftime("%Y-%m-%d")
            given[col] = df[col].astype(object).where(values.isna(), iso)
    return out, given, problems


def check_dates(df: pd.DataFrame, dates: pd.DatetimeIndex | None) -> list[LiftProblem]:
    """Windows that end before they start or lie outside ``dates``.

    ``df``'s date columns are dates already (:func:`read_window_dates`).
    """
    problems: list[LiftProblem] = []
    has_start, has_end = "date_start" in df, "date_end" in df
    if not (has_start or has_end):
        return problems
    parsed = {col: pd.to_datetime(df[col]) for col in ("date_start", "date_end") if col in df}
    if has_start and has_end:
        for i, (s, e) in enumerate(zip(parsed["date_start"], parsed["date_end"], strict=True)):
            if pd.notna(s) and pd.notna(e) and e < s:
                problems.append(
                    LiftProblem(i, "date_end", f"{e.date()} is before date_start {s.date()}")
                )
    if dates is not None and len(dates):
        lo, hi = dates.min(), dates.max()
        for col, values in parsed.items():
            for i, v in enumerate(values):
                if pd.notna(v) and not (lo <= v <= hi):
                    problems.append(
                        LiftProblem(
                            i,
                            col,
                            f"{v.date()} is outside the data ({lo.date()} to {hi.date()}); "
                            "a test window must lie within the modelled dates",
                        )
                    )
        if has_start and has_end and "n_periods" in df:
            problems += _check_window_length(df, parsed, dates)
    return problems


def _check_window_length(df: pd.DataFrame, parsed: dict, dates: pd.DatetimeIndex):
    """Rows whose ``n_periods`` disagrees with the model periods in their date window."""
    problems = []
    n = pd.to_numeric(df["n_periods"], errors="coerce")
    model_dates = dates.unique()
    for i, (s, e) in enumerate(zip(parsed["date_start"], parsed["date_end"], strict=True)):
        if pd.isna(s) or pd.isna(e) or pd.isna(n.iloc[i]) or e < s:
            continue
        counted = int(((model_dates >= s) & (model_dates <= e)).sum())
        if counted != n.iloc[i]:
            problems.append(
                LiftProblem(
                    i,
                    "n_periods",
                    f"is {n.iloc[i]:g} but {s.date()}..{e.date()} spans {counted} model "
                    "periods; fix one of them",
                )
            )
    return problems


def check_duplicates(df: pd.DataFrame, read: pd.DataFrame | None = None) -> list[LiftProblem]:
    """Repeated test ids, rows that repeat another (cells as given), and overlapping windows.

    ``read``: ``df`` with its dates read (:func:`read_window_dates`), for the overlaps.
    """
    problems: list[LiftProblem] = []
    if "test_id" in df and df["test_id"].notna().any():
        dup = df["test_id"].notna() & df.duplicated(
            subset=[c for c in ("test_id", "geo") if c in df], keep=False
        )
        for i in np.flatnonzero(dup.to_numpy()):
            problems.append(
                LiftProblem(int(i), "test_id", f"{df['test_id'].iloc[i]!r} appears more than once")
            )
    key = [c for c in SAME_TEST_COLUMNS if c in df]
    keys = df[key].astype(str)
    dup = keys.duplicated(keep="first")
    for i in np.flatnonzero(dup.to_numpy()):
        first = int(np.flatnonzero((keys == keys.iloc[i]).all(axis=1).to_numpy())[0])
        problems.append(
            LiftProblem(
                int(i),
                "channel",
                f"duplicates row {first} (same {', '.join(key)}); the same test counted twice "
                "would double its weight: remove one or give them different windows",
            )
        )
    exact = {int(i) for i in np.flatnonzero(dup.to_numpy())}
    return problems + _check_overlaps(df if read is None else read, exact_duplicates=exact)


def _check_overlaps(df: pd.DataFrame, exact_duplicates: set[int]) -> list[LiftProblem]:
    """Flag the later of two rows on one channel and geo whose date windows overlap.

    Rows with the same window that measure different periods (``measured_from``/
    ``measured_to``, e.g. the weeks of one test) are not overlaps. Exact duplicates are
    already reported by :func:`check_duplicates`.
    """
    if "date_start" not in df or "date_end" not in df:
        return []
    index = df.index
    start = pd.to_datetime(df["date_start"], errors="coerce").tolist()
    end = pd.to_datetime(df["date_end"], errors="coerce").tolist()
    channel = df["channel"].tolist()
    geo = (
        df["geo"].astype(object).where(df["geo"].notna(), None).tolist()
        if "geo" in df
        else [None] * len(df)
    )

    def column(name: str) -> pd.Series:
        raw = df[name] if name in df else pd.Series(np.nan, index=index)
        return pd.to_numeric(raw, errors="coerce")

    span = list(
        zip(
            column("measured_from").fillna(1).tolist(),
            column("measured_to").fillna(column("n_periods")).fillna(-1).tolist(),
            strict=True,
        )
    )
    problems: list[LiftProblem] = []
    for i in range(len(df)):
        if i in exact_duplicates or pd.isna(start[i]) or pd.isna(end[i]):
            continue
        for j in range(i):
            if (
                channel[j] != channel[i]
                or geo[j] != geo[i]
                or pd.isna(start[j])
                or pd.isna(end[j])
                or start[j] > end[i]
                or start[i] > end[j]
            ):
                continue
            if (start[j], end[j]) == (start[i], end[i]) and span[j] != span[i]:
                continue  # one test's window, different measured periods
            where = f"channel {channel[i]!r}" + ("" if geo[i] is None else f", geo {geo[i]!r}")
            problems.append(
                LiftProblem(
                    i,
                    "date_start",
                    f"window {start[i].date()}..{end[i].date()} overlaps row {j} "
                    f"({start[j].date()}..{end[j].date()}) on the same {where}: overlapping "
                    "tests of one channel interfere, and one test reported twice doubles its "
                    "weight; remove one, or give rows of one test that report different "
                    "periods measured_from/measured_to",
                )
            )
            break
    return problems
