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

A table without rows is an error (calibrating with it would silently fit an uncalibrated
model): pass None for no lift tests. Channels are matched exactly (a near miss is suggested).
Numbers beyond ``1e15`` in magnitude are refused; given the data's :class:`LiftScales`, so
are lifts, sigmas and spends the data's scale rules out (:mod:`mmmcal.lift.scales`).

Every input row is accepted or rejected with a reason (:func:`check_lift_table`);
:func:`validate_lift_table` returns a :class:`LiftTable`, or raises :class:`LiftTableError`
naming every bad row and field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mmmcal.files import read_csv_file
from mmmcal.lift.checks import (
    SAME_TEST_COLUMNS,
    check_dates,
    check_duplicates,
    check_row,
    read_window_dates,
)
from mmmcal.lift.problems import LiftProblem, LiftTableError, row_report
from mmmcal.lift.scales import LiftScales, check_scales

__all__ = [
    "LIFT_OPTIONAL_COLUMNS",
    "LIFT_REQUIRED_COLUMNS",
    "LiftCheck",
    "LiftContext",
    "LiftScales",
    "LiftTable",
    "NO_ROWS",
    "check_lift_table",
    "national_rows",
    "read_lift_table",
    "union_lift",
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
NO_ROWS = LiftProblem(
    -1,
    "rows",
    "The lift table has no rows; add tests, or drop --lift for an uncalibrated fit",
)


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
        rows = sorted([*self.accepted["row"].tolist(), *self.rejected["row"].tolist()])
        return row_report(rows, self.problems)


@dataclass(frozen=True)
class LiftContext:
    """What a lift table was checked against: channels, modelled dates, geos, the data's scales.

    None: not checked against it.
    """

    channels: frozenset[str] | None
    dates: tuple[int, ...] | None  # sorted unique dates, as nanoseconds since the epoch
    geos: frozenset[str] | None
    scales: LiftScales | None = None

    @classmethod
    def of(cls, channels=None, dates=None, geos=None, scales=None) -> LiftContext:
        stamps = None
        if dates is not None:
            stamps = tuple(
                pd.DatetimeIndex(pd.to_datetime(list(dates))).unique().sort_values().asi8
            )
        return cls(
            channels=None if channels is None else frozenset(channels),
            dates=stamps,
            geos=None if geos is None else frozenset(str(g) for g in geos),
            scales=scales,
        )

    def covers(self, other: LiftContext) -> bool:
        """Whether a table checked against this context meets ``other``'s checks too."""
        return all(
            theirs is None or theirs == ours
            for ours, theirs in (
                (self.channels, other.channels),
                (self.dates, other.dates),
                (self.geos, other.geos),
                (self.scales, other.scales),
            )
        )


class LiftTable(pd.DataFrame):
    """A lift table that met the contract: what :func:`validate_lift_table` returns.

    It is a ``DataFrame`` (numeric columns as floats, index ``0..n-1``) that also says what it
    was checked against (``checked_against``), so a later stage validating it against the
    same channels, dates and geos does no work. Any pandas operation on it (a filter,
    ``assign``, ``concat``, a copy) gives a plain ``DataFrame``, which must be validated again
    before use: the operation may have broken the contract. (Compare one with a plain
    ``DataFrame`` in pandas' testing helpers with ``check_frame_type=False``.)
    """

    _metadata = ["checked_against"]
    checked_against: LiftContext

    @property
    def _constructor(self):
        return pd.DataFrame


def national_rows(lift: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``lift`` a national model answers: no ``geo``, or geo empty or ``national``."""
    if "geo" not in lift:
        return lift
    return lift[lift["geo"].isna() | (lift["geo"] == "national")]


def union_lift(tables: Iterable[pd.DataFrame | None]) -> pd.DataFrame | None:
    """Several lift tables as one, each test once; None without any row.

    Rows are one test when they agree on ``test_id`` and the columns by which the contract
    finds a repeated test (:data:`~mmmcal.lift.checks.SAME_TEST_COLUMNS`).
    """
    found = [t for t in tables if t is not None and len(t)]
    if not found:
        return None
    union = pd.concat(found, ignore_index=True)
    keys = [c for c in ("test_id", *SAME_TEST_COLUMNS) if c in union]
    return union.drop_duplicates(subset=keys).reset_index(drop=True)


def read_lift_table(path: str | Path) -> pd.DataFrame:
    """Read a lift-table CSV as it is (validate it with :func:`validate_lift_table`)."""
    return read_csv_file(path, "lift table")


def check_lift_table(
    df: pd.DataFrame,
    channels: Iterable[str] | None = None,
    *,
    dates: Iterable | None = None,
    geos: Iterable[str] | None = None,
    scales: LiftScales | None = None,
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
    scales
        The data's largest target and spend per period: rows off that scale are rejected.

    Raises
    ------
    LiftTableError
        If a required column is missing or the table has no rows (nothing to check).
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
    if len(df) == 0:
        raise LiftTableError([NO_ROWS])
    table = df.reset_index(drop=True)
    channels = None if channels is None else list(channels)
    geos = None if geos is None else list(geos)
    date_index = None if dates is None else pd.DatetimeIndex(pd.to_datetime(list(dates)))
    table, given, problems = read_window_dates(table)
    problems += [p for i, row in table.iterrows() for p in check_row(int(i), row, channels, geos)]
    problems += check_dates(table, date_index)
    problems += check_duplicates(given, read=table)
    if scales is not None:
        problems += check_scales(table, scales, {(p.row, p.field) for p in problems})
    bad_rows = sorted({p.row for p in problems})
    with_row = given.assign(row=np.arange(len(table)))
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
    scales: LiftScales | None = None,
) -> LiftTable:
    """``df`` as a :class:`LiftTable`, or raise :class:`LiftTableError` naming every bad row.

    A ``LiftTable`` already checked against these ``channels``, ``dates``, ``geos`` and
    ``scales`` (or a superset of the checks asked for) is returned as it is; one checked
    without the scales asked for is checked again.
    """
    context = LiftContext.of(channels, dates, geos, scales)
    if isinstance(df, LiftTable) and df.checked_against.covers(context):
        return df
    check = check_lift_table(df, channels, dates=dates, geos=geos, scales=scales)
    if not check.ok:
        raise LiftTableError(check.problems, check.rejected)
    table = LiftTable(check.accepted.drop(columns="row").reset_index(drop=True))
    table.checked_against = context
    return table
