"""The lift-table contract: one row per experiment cell, validated before anything uses it.

Required columns (raw units, **per period**, pymc-marketing's convention):

=========  ===============================================================
channel    a channel (spend column) of the model
x          spend per period before the test (currency)
delta_x    change in spend per period during the test (currency)
delta_y    incremental target per period during the test (target units)
sigma      standard deviation of ``delta_y`` (> 0, target units)
=========  ===============================================================

Optional: ``geo``, ``date_start``, ``date_end``, ``n_periods`` (the test window),
``aggregation`` (``mean`` = ``delta_y`` is per period, the default; ``sum`` = total over
the window), ``measured_from``/``measured_to`` (periods since the test started that
``delta_y`` covers: default the whole window; a week of the ramp, or the window plus
carryover after it), ``test_id``,
``source``, ``true_delta_y`` (simulation only), and any other column, kept as it is.

Two rows on one channel and geo whose ``date_start``..``date_end`` windows overlap are
one test counted twice or two tests that interfere: the later row is rejected, unless both
share one window and measure different periods (``measured_from``/``measured_to``).

Every input row is accepted or rejected with a reason (:func:`check_lift_table`);
:func:`validate_lift_table` raises :class:`LiftTableError` naming every bad row and field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "LIFT_OPTIONAL_COLUMNS",
    "LIFT_REQUIRED_COLUMNS",
    "LiftCheck",
    "LiftProblem",
    "LiftTableError",
    "check_lift_table",
    "read_lift_table",
    "validate_lift_table",
]

LIFT_REQUIRED_COLUMNS = ("channel", "x", "delta_x", "delta_y", "sigma")
LIFT_OPTIONAL_COLUMNS = (
    "geo",
    "date_start",
    "date_end",
    "n_periods",
    "aggregation",
    "measured_from",
    "measured_to",
    "test_id",
    "source",
    "true_delta_y",
)
AGGREGATIONS = ("mean", "sum")
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


@dataclass(frozen=True)
class LiftProblem:
    """One reason a row was rejected."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, field `{self.field}`: {self.message}"


class LiftTableError(ValueError):
    """A lift table broke the contract. ``problems`` and ``rejected`` carry the bad rows."""

    def __init__(self, problems: list[LiftProblem], rejected: pd.DataFrame | None = None):
        self.problems = problems
        self.rejected = rejected if rejected is not None else pd.DataFrame()
        rows = sorted({p.row for p in problems if p.row >= 0})
        head = (
            f"Lift table has {len(rows)} invalid row(s) {rows}:"
            if rows
            else "Lift table is malformed:"
        )
        lines = [head, *(f"  - {p}" for p in problems[:50])]
        if len(problems) > 50:
            lines.append(f"  ... and {len(problems) - 50} more problems")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class LiftCheck:
    """Outcome of checking a lift table: every input row is in ``accepted`` or ``rejected``."""

    accepted: pd.DataFrame
    rejected: pd.DataFrame
    problems: list[LiftProblem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> pd.DataFrame:
        """One line per input row: ``row``, ``status`` (accepted/rejected) and ``reason``."""
        reasons: dict[int, list[str]] = {}
        for p in self.problems:
            reasons.setdefault(p.row, []).append(f"{p.field}: {p.message}")
        rows = sorted([*self.accepted["row"].tolist(), *self.rejected["row"].tolist()])
        return pd.DataFrame(
            {
                "row": rows,
                "status": ["rejected" if r in reasons else "accepted" for r in rows],
                "reason": ["; ".join(reasons.get(r, [])) for r in rows],
            }
        )


def read_lift_table(path: str | Path) -> pd.DataFrame:
    """Read a lift-table CSV as it is (validate it with :func:`validate_lift_table`)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Lift table {str(path)!r} does not exist.")
    return pd.read_csv(path)


def _as_number(value: object) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out


def _check_row(i: int, row: pd.Series, channels, geos) -> list[LiftProblem]:
    problems: list[LiftProblem] = []

    def bad(field: str, message: str) -> None:
        problems.append(LiftProblem(i, field, message))

    channel = row["channel"]
    if not isinstance(channel, str) or not channel:
        bad("channel", f"must be a channel name, got {channel!r}")
    elif channels is not None and channel not in channels:
        bad("channel", f"unknown channel {channel!r}; the model's channels are {list(channels)}")

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

    if "aggregation" in row.index and isinstance(row["aggregation"], str):
        if row["aggregation"] not in AGGREGATIONS:
            bad("aggregation", f"must be one of {list(AGGREGATIONS)}, got {row['aggregation']!r}")
    if "geo" in row.index and geos is not None:
        if row["geo"] not in geos and row["geo"] != "national":
            bad(
                "geo",
                f"unknown geo {row['geo']!r}; the data has {len(geos)} geos like {list(geos)[:3]}",
            )
    return problems


def _check_dates(df: pd.DataFrame, dates: pd.DatetimeIndex | None) -> list[LiftProblem]:
    problems: list[LiftProblem] = []
    has_start, has_end = "date_start" in df, "date_end" in df
    if not (has_start or has_end):
        return problems
    parsed = {}
    for col in ("date_start", "date_end"):
        if col in df:
            values = pd.to_datetime(df[col], errors="coerce")
            for i, (raw, v) in enumerate(zip(df[col], values, strict=True)):
                if pd.isna(v) and not pd.isna(raw):
                    problems.append(
                        LiftProblem(i, col, f"must be a date like 2024-03-04, got {raw!r}")
                    )
            parsed[col] = values
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


def _check_duplicates(df: pd.DataFrame) -> list[LiftProblem]:
    problems: list[LiftProblem] = []
    if "test_id" in df and df["test_id"].notna().any():
        dup = df["test_id"].notna() & df.duplicated(
            subset=[c for c in ("test_id", "geo") if c in df], keep=False
        )
        for i in np.flatnonzero(dup.to_numpy()):
            problems.append(
                LiftProblem(int(i), "test_id", f"{df['test_id'].iloc[i]!r} appears more than once")
            )
    key = [
        c
        for c in (
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
        if c in df
    ]
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
    return problems + _check_overlaps(df, exact_duplicates=exact)


def _check_overlaps(df: pd.DataFrame, exact_duplicates: set[int]) -> list[LiftProblem]:
    """Flag the later of two rows on one channel and geo whose date windows overlap.

    Rows with the same window that measure different periods (``measured_from``/
    ``measured_to``, e.g. the weeks of one test) are not overlaps. Exact duplicates are
    already reported by :func:`_check_duplicates`.
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


def check_lift_table(
    df: pd.DataFrame,
    channels: Iterable[str] | None = None,
    *,
    dates: Iterable | None = None,
    geos: Iterable[str] | None = None,
) -> LiftCheck:
    """Check every row of a lift table against the contract.

    Parameters
    ----------
    df
        The lift table (raw units, per period).
    channels
        The model's channel names; rows on other channels are rejected.
    dates
        The modelled dates; test windows outside them are rejected.
    geos
        The modelled geos, for tables with a ``geo`` column.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"A lift table must be a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in LIFT_REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise LiftTableError(
            [
                LiftProblem(
                    -1,
                    c,
                    f"required column is missing (the table has {list(df.columns)}; "
                    f"required: {list(LIFT_REQUIRED_COLUMNS)})",
                )
                for c in missing
            ]
        )
    table = df.reset_index(drop=True)
    channels = None if channels is None else list(channels)
    geos = None if geos is None else list(geos)
    date_index = None if dates is None else pd.DatetimeIndex(pd.to_datetime(list(dates)))
    problems = [p for i, row in table.iterrows() for p in _check_row(int(i), row, channels, geos)]
    problems += _check_dates(table, date_index)
    problems += _check_duplicates(table)
    bad_rows = sorted({p.row for p in problems})
    with_row = table.assign(row=np.arange(len(table)))
    rejected = with_row.iloc[bad_rows].copy()
    rejected["reason"] = [
        "; ".join(f"{p.field}: {p.message}" for p in problems if p.row == r) for r in bad_rows
    ]
    accepted = with_row.drop(index=bad_rows)
    for col in ("x", "delta_x", "delta_y", "sigma"):
        accepted[col] = accepted[col].astype(float)
    return LiftCheck(accepted=accepted, rejected=rejected, problems=problems)


def validate_lift_table(
    df: pd.DataFrame,
    channels: Iterable[str] | None = None,
    *,
    dates: Iterable | None = None,
    geos: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Return a clean copy of ``df``, or raise :class:`LiftTableError` naming every bad row."""
    check = check_lift_table(df, channels, dates=dates, geos=geos)
    if not check.ok:
        raise LiftTableError(check.problems, check.rejected)
    return check.accepted.drop(columns="row").reset_index(drop=True)


# END
