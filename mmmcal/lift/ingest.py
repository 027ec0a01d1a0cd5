"""Ingest lift-test results from other tools as mmmcal lift tables (see :mod:`mmmcal.lift.table`).

Every input row ends up once in the report, accepted or rejected with the input row
(0-based) and input field named. Nothing is guessed: a missing column, unit or standard
error is an error that says what to add. Converted rows then go through the lift-table
contract (:func:`mmmcal.lift.check_lift_table`), whose problems are mapped back to input
rows and fields. A test window's length ``n`` is the number of modelled periods from its
start to its end date inclusive, counted on ``dates`` when given (windows outside them are
rejected), else ``(end - start).days // period_days + 1``. Robyn and geo-lift dates must
be ISO (2024-03-04). A file without rows is an error, as for any lift table.

The formats and how each converts are in :mod:`mmmcal.lift.formats`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mmmcal.files import read_csv_file
from mmmcal.lift.formats import COLUMN_HINTS, CONVERTERS, INPUT_FIELDS, REQUIRED
from mmmcal.lift.ingest_rows import InputRow, RowContext
from mmmcal.lift.problems import LiftProblem, LiftTableError, row_report
from mmmcal.lift.scales import LiftScales
from mmmcal.lift.table import LIFT_REQUIRED_COLUMNS, NO_ROWS, check_lift_table
from mmmcal.options import INGEST_FORMAT_ALIASES, INGEST_FORMATS

__all__ = ["IngestResult", "ingest", "ingest_or_raise"]


@dataclass(frozen=True)
class IngestResult:
    """Ingested lift-test results.

    ``table`` holds the accepted rows as a valid mmmcal lift table; ``report`` has one line
    per input row (``row``, ``status`` accepted/rejected, ``reason``, ``test_id``) and
    ``problems`` every reason, numbered by input row.
    """

    table: pd.DataFrame
    report: pd.DataFrame
    problems: list[LiftProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _context(
    fmt: str,
    channels: Iterable[str] | None,
    dates: Iterable | None,
    period_days: int,
    relative_se: float | None,
    carryover_periods: int | None,
) -> RowContext:
    if not isinstance(period_days, int) or period_days < 1:
        raise ValueError(f"period_days must be a whole number of days >= 1, got {period_days!r}.")
    if relative_se is not None and not (math.isfinite(relative_se) and relative_se > 0):
        raise ValueError(f"relative_se must be a finite number > 0, got {relative_se!r}.")
    if carryover_periods is not None and (
        not isinstance(carryover_periods, int) or carryover_periods < 0
    ):
        raise ValueError(
            f"carryover_periods must be a whole number >= 0, got {carryover_periods!r}."
        )
    if fmt != "robyn" and (relative_se is not None or carryover_periods is not None):
        raise ValueError("relative_se and carryover_periods apply to format='robyn' only.")
    return RowContext(
        channels=None if channels is None else list(channels),
        dates=None
        if dates is None
        else pd.DatetimeIndex(pd.to_datetime(list(dates))).unique().sort_values(),
        period_days=period_days,
        relative_se=relative_se,
        carryover_periods=carryover_periods,
    )


def _require(df: pd.DataFrame, fmt: str) -> None:
    columns = REQUIRED[fmt]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise LiftTableError(
            [
                LiftProblem(
                    -1,
                    c,
                    f"required {fmt} column is missing (the file has {list(df.columns)}; "
                    f"{fmt} needs {list(columns)}){COLUMN_HINTS.get(c, '')}",
                )
                for c in missing
            ]
        )


def _to_input(problem: LiftProblem, origin: list[int], fields: dict[str, str]) -> LiftProblem:
    """A contract problem of converted row ``k`` as a problem of input row ``origin[k]``."""
    message = re.sub(r"\brow (\d+)", lambda m: f"row {origin[int(m.group(1))]}", problem.message)
    field = fields.get(problem.field, problem.field)
    if field != problem.field:
        message += f" (as `{problem.field}` of the converted row)"
    return LiftProblem(origin[problem.row], field, message)


def ingest(
    source: str | Path | pd.DataFrame,
    format: str,
    *,
    channels: Iterable[str] | None = None,
    dates: Iterable | None = None,
    geos: Iterable[str] | None = None,
    scales: LiftScales | None = None,
    period_days: int = 7,
    relative_se: float | None = None,
    carryover_periods: int | None = None,
) -> IngestResult:
    """Read lift-test results in ``format`` and convert them to an mmmcal lift table.

    Parameters
    ----------
    source
        A CSV path or a DataFrame of the tool's results.
    format
        One of :data:`INGEST_FORMATS` (or ``pymc-marketing``, an alias of ``mmmcal``).
    channels
        The model's channels; rows on other channels are rejected.
    dates
        The modelled dates: test windows are counted on them and must lie within them.
    geos
        The modelled geos: rows on other geos are rejected.
    scales
        The data's largest target and spend per period: converted rows off that scale are
        rejected (:mod:`mmmcal.lift.scales`).
    period_days
        Days per modelled period, to count windows when ``dates`` is not given.
    relative_se
        Robyn only: standard error of ``liftAbs`` relative to ``|liftAbs|``, for rows
        without ``liftSE``.
    carryover_periods
        Robyn only: periods after the window counted in a ``total`` scope lift.

    Returns
    -------
    IngestResult
        The accepted rows as a lift table and a report line for every input row.

    Raises
    ------
    LiftTableError
        If a required column is missing (no row can be read) or the file has no rows.
    """
    fmt = INGEST_FORMAT_ALIASES.get(format, format)
    if fmt not in INGEST_FORMATS:
        raise ValueError(
            f"Unknown lift format {format!r}; choose one of {list(INGEST_FORMATS)} "
            "('pymc-marketing' is an alias of 'mmmcal')."
        )
    ctx = _context(fmt, channels, dates, period_days, relative_se, carryover_periods)
    df = (
        source.reset_index(drop=True)
        if isinstance(source, pd.DataFrame)
        else read_csv_file(source, f"{fmt} results file")
    )
    contract: dict[str, Any] = {
        "dates": ctx.dates,
        "geos": None if geos is None else list(geos),
        "scales": scales,
    }
    if fmt == "mmmcal":
        check = check_lift_table(df, ctx.channels, **contract)
        problems, accepted = check.problems, check.accepted
    else:
        problems, accepted = _convert(df, fmt, ctx, contract)
    problems = sorted(problems, key=lambda p: p.row)
    return IngestResult(
        table=accepted.drop(columns="row").reset_index(drop=True),
        report=_report(df, problems),
        problems=problems,
    )


def _convert(df: pd.DataFrame, fmt: str, ctx: RowContext, contract: dict[str, Any]):
    """Problems (by input row) and the accepted converted rows of a ``fmt`` file.

    ``contract``: the lift-table checks' ``dates``, ``geos`` and ``scales``.
    """
    _require(df, fmt)
    if len(df) == 0:
        raise LiftTableError([NO_ROWS])
    problems, rows, origin = [], [], []
    for i, values in enumerate(df.to_dict("records")):
        row = InputRow(i, values)
        converted = CONVERTERS[fmt](row, ctx)
        problems += row.problems
        if converted is not None:
            rows.append(converted)
            origin.append(i)
    if not rows:  # every row failed to convert: nothing for the contract to check
        return problems, pd.DataFrame(columns=["row", *LIFT_REQUIRED_COLUMNS])
    check = check_lift_table(pd.DataFrame(rows), ctx.channels, **contract)
    problems += [_to_input(p, origin, INPUT_FIELDS[fmt]) for p in check.problems]
    return problems, check.accepted


def _report(df: pd.DataFrame, problems: list[LiftProblem]) -> pd.DataFrame:
    """One line per input row: ``row``, ``status``, ``reason``, ``test_id``."""
    report = row_report(range(len(df)), problems)
    report["test_id"] = df["test_id"].tolist() if "test_id" in df else [None] * len(df)
    return report


def ingest_or_raise(
    source: str | Path | pd.DataFrame,
    format: str,
    *,
    channels: Iterable[str] | None = None,
    dates: Iterable | None = None,
    geos: Iterable[str] | None = None,
    scales: LiftScales | None = None,
    period_days: int = 7,
    relative_se: float | None = None,
    carryover_periods: int | None = None,
) -> pd.DataFrame:
    """Like :func:`ingest`, but return the table or raise :class:`LiftTableError`.

    The error names every rejected input row (0-based) and field; its ``rejected`` holds
    their report lines.
    """
    result = ingest(
        source,
        format,
        channels=channels,
        dates=dates,
        geos=geos,
        scales=scales,
        period_days=period_days,
        relative_se=relative_se,
        carryover_periods=carryover_periods,
    )
    if not result.ok:
        rejected = result.report[result.report["status"] == "rejected"].reset_index(drop=True)
        raise LiftTableError(result.problems, rejected)
    return result.table
