"""Ingest lift-test results from other tools as mmmcal lift tables (see :mod:`mmmcal.lift.table`).

Every input row ends up once in the report, accepted or rejected with the input row
(0-based) and input field named. Nothing is guessed: a missing column, unit or standard
error is an error that says what to add. Converted rows then go through the lift-table
contract (:func:`mmmcal.lift.check_lift_table`), whose problems are mapped back to input
rows and fields. A test window's length ``n`` is the number of modelled periods from its
start to its end date inclusive, counted on ``dates`` when given (windows outside them are
rejected), else ``(end - start).days // period_days + 1``. Robyn and geo-lift dates must
be ISO (2024-03-04).

Formats and their conversions:

``mmmcal`` (alias ``pymc-marketing``)
    A lift table already: columns ``channel, x, delta_x, delta_y, sigma`` and optional
    ones, per period. Checked against the contract, unchanged.
``robyn``
    Robyn's ``calibration_input``: ``channel, liftStartDate, liftEndDate, liftAbs, spend,
    confidence, calibration_scope`` (optional ``liftSE``, ``metric``, ``test_id``).
    ``liftAbs`` is the total incremental response (target units) caused by the channel's
    spend over the window and ``spend`` its total spend there (currency); Robyn compares
    ``liftAbs`` with the channel's whole contribution, so a row is a holdout of all its
    spend, taken as constant per period: ``x = 0``, ``delta_x = spend / n`` (currency per
    period), ``delta_y = liftAbs`` with ``aggregation = "sum"`` (a window total),
    ``n_periods = n``, ``measured_from = 1``, and ``measured_to = n`` for scope
    ``immediate`` or ``n + carryover_periods`` for ``total`` (the window plus the carryover
    after it: ``carryover_periods`` must be given, e.g. the adstock ``l_max`` if the lift
    was measured until the carryover faded, 0 if only over the window). Robyn's own
    comparison differs in two ways: its ``immediate`` leaves out the carryover of earlier
    spend within the window, which mmmcal's window includes, and its ``total`` counts the
    carryover of pre-window spend on the window's dates and none after ``liftEndDate``.
    Robyn has no standard error (``confidence`` is only a weight, kept as a column):
    ``sigma`` is ``liftSE`` (the standard error of ``liftAbs``, total) where given, else
    ``relative_se * |liftAbs|``; rows with neither are rejected. Combined channels
    (``a+b``) are rejected: a lift row has one channel.
``geolift``
    A geo-lift summary: ``channel, date_start, date_end, lift, lift_lower, lift_upper,
    ci_level, lift_unit, spend_before, spend_change, spend_unit`` (optional ``geo``,
    ``test_id``). ``lift`` is the incremental target (target units, not %) with its
    ``ci_level`` interval (a probability, 0.9 for 90%); ``spend_before`` is the
    business-as-usual spend and ``spend_change`` the change during the test (currency), for
    the same geos as the lift. ``lift_unit`` (for ``lift``, ``lift_lower``, ``lift_upper``)
    and ``spend_unit`` (for ``spend_before``, ``spend_change``) are each ``total`` (over the
    window) or ``per_period``; totals are divided by ``n``. ``sigma = (lift_upper -
    lift_lower) / (2 z)`` with ``z = norm.ppf((1 + ci_level) / 2)`` (a normal approximation;
    an asymmetric interval gives its mean half-width). Output: ``x = spend_before``,
    ``delta_x = spend_change``, ``delta_y = lift``, ``sigma``, all per period, with
    ``aggregation = "mean"`` and ``n_periods = n``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from scipy.stats import norm

from mmmcal.lift.table import (
    LIFT_REQUIRED_COLUMNS,
    LiftProblem,
    LiftTableError,
    check_lift_table,
    read_lift_table,
)

__all__ = ["INGEST_FORMATS", "INGEST_FORMAT_ALIASES", "IngestResult", "ingest", "ingest_or_raise"]

INGEST_FORMATS = ("mmmcal", "robyn", "geolift")
# Other names of a format, accepted wherever a format is: alias -> one of INGEST_FORMATS.
INGEST_FORMAT_ALIASES = {"pymc-marketing": "mmmcal"}
_REQUIRED = {
    "robyn": (
        "channel",
        "liftStartDate",
        "liftEndDate",
        "liftAbs",
        "spend",
        "confidence",
        "calibration_scope",
    ),
    "geolift": (
        "channel",
        "date_start",
        "date_end",
        "lift",
        "lift_lower",
        "lift_upper",
        "ci_level",
        "lift_unit",
        "spend_before",
        "spend_change",
        "spend_unit",
    ),
}
_UNIT_HINT = "; add it: 'total' (over the window) or 'per_period' (units are never guessed)"
_COLUMN_HINTS = {"lift_unit": _UNIT_HINT, "spend_unit": _UNIT_HINT}
_UNITS = ("total", "per_period")
_ROBYN_SCOPES = ("immediate", "total")
# Contract fields of converted rows -> the input fields they came from.
_INPUT_FIELDS = {
    "robyn": {
        "x": "spend",
        "delta_x": "spend",
        "delta_y": "liftAbs",
        "sigma": "liftSE",
        "date_start": "liftStartDate",
        "date_end": "liftEndDate",
        "n_periods": "liftEndDate",
        "measured_from": "calibration_scope",
        "measured_to": "calibration_scope",
    },
    "geolift": {
        "x": "spend_before",
        "delta_x": "spend_change",
        "delta_y": "lift",
        "sigma": "lift_upper",
    },
}


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


@dataclass(frozen=True)
class _Context:
    channels: list[str] | None
    dates: pd.DatetimeIndex | None  # unique, sorted
    period_days: int
    relative_se: float | None
    carryover_periods: int | None


def _blank(raw: object) -> bool:
    return (
        raw is None
        or (isinstance(raw, str) and not raw.strip())
        or raw is pd.NaT
        or (isinstance(raw, float) and math.isnan(raw))
    )


def _number(raw: object) -> float | None:
    if isinstance(raw, bool):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


class _Row:
    """One input row being read: its values and the problems found in them."""

    def __init__(self, i: int, values: dict):
        self.i, self.values = i, values
        self.problems: list[LiftProblem] = []

    def bad(self, field: str, message: str) -> None:
        self.problems.append(LiftProblem(self.i, field, message))

    def number(self, field: str) -> float | None:
        raw = self.values[field]
        value = _number(raw)
        if value is None:
            self.bad(field, f"must be a finite number, got {raw!r}")
        return value

    def choice(self, field: str, choices: tuple[str, ...]) -> str | None:
        raw = self.values[field]
        if raw not in choices:
            self.bad(field, f"must be one of {list(choices)}, got {raw!r}")
            return None
        return raw

    def channel(self, channels: list[str] | None) -> str | None:
        raw = self.values["channel"]
        if not isinstance(raw, str) or not raw.strip():
            self.bad("channel", f"must be a channel name, got {raw!r}")
        elif channels is not None and raw not in channels:
            self.bad("channel", f"unknown channel {raw!r}; the model's channels are {channels}")
        else:
            return raw
        return None

    def date(self, field: str) -> pd.Timestamp | None:
        raw = self.values[field]
        value = pd.NaT if _blank(raw) else pd.to_datetime(raw, format="ISO8601", errors="coerce")
        if pd.isna(value):
            self.bad(field, f"must be an ISO date like 2024-03-04, got {raw!r}")
            return None
        return value

    def window(
        self, start_field: str, end_field: str, ctx: _Context
    ) -> tuple[pd.Timestamp, pd.Timestamp, int] | None:
        """The test window and its length in modelled periods, or None if it is invalid."""
        start, end = self.date(start_field), self.date(end_field)
        if start is None or end is None:
            return None
        if end < start:
            self.bad(end_field, f"{end.date()} is before {start_field} {start.date()}")
            return None
        if ctx.dates is None:
            return start, end, (end - start).days // ctx.period_days + 1
        lo, hi = ctx.dates[0], ctx.dates[-1]
        outside = [(f, d) for f, d in ((start_field, start), (end_field, end)) if not lo <= d <= hi]
        for field, d in outside:
            self.bad(
                field,
                f"{d.date()} is outside the data ({lo.date()} to {hi.date()}); "
                "a test window must lie within the modelled dates",
            )
        n = int(((ctx.dates >= start) & (ctx.dates <= end)).sum())
        if not outside and n == 0:
            self.bad(end_field, f"no modelled date falls in {start.date()}..{end.date()}")
        return None if outside or n == 0 else (start, end, n)

    def passthrough(self, *columns: str) -> dict:
        return {c: self.values[c] for c in columns if c in self.values}


def _from_robyn(r: _Row, ctx: _Context) -> dict | None:
    raw_channel = r.values["channel"]
    if isinstance(raw_channel, str) and "+" in raw_channel:
        r.bad(
            "channel",
            f"{raw_channel!r} is a combined-channel test; a lift row has one channel: "
            "give one row per channel with its own liftAbs and spend",
        )
        channel = None
    else:
        channel = r.channel(ctx.channels)
    window = r.window("liftStartDate", "liftEndDate", ctx)
    lift, spend = r.number("liftAbs"), r.number("spend")
    scope = r.choice("calibration_scope", _ROBYN_SCOPES)
    if scope == "total" and ctx.carryover_periods is None:
        r.bad(
            "calibration_scope",
            "is 'total' (the window plus the carryover after it): pass carryover_periods, "
            "the number of periods after liftEndDate that the carryover is counted over",
        )
    sigma = None
    if not _blank(r.values.get("liftSE")):
        sigma = r.number("liftSE")
    elif ctx.relative_se is None:
        r.bad(
            "liftSE",
            "no standard error: Robyn's `confidence` is only a weight, not an uncertainty; "
            "add a `liftSE` column (standard error of liftAbs, total over the window) "
            "or pass relative_se (sigma = relative_se * |liftAbs|)",
        )
    elif lift == 0:
        r.bad("liftAbs", "is 0, so relative_se * |liftAbs| is no standard error: add liftSE")
    elif lift is not None:
        sigma = ctx.relative_se * abs(lift)
    if r.problems:
        return None
    start, end, n = window
    carryover = ctx.carryover_periods if scope == "total" else 0
    return {
        **r.passthrough("test_id"),
        "channel": channel,
        "x": 0.0,
        "delta_x": spend / n,
        "delta_y": lift,
        "sigma": sigma,
        "date_start": start.strftime("%Y-%m-%d"),
        "date_end": end.strftime("%Y-%m-%d"),
        "n_periods": n,
        "aggregation": "sum",
        "measured_from": 1,
        "measured_to": n + carryover,
        "source": "robyn",
        "calibration_scope": scope,
        **r.passthrough("confidence", "metric"),
    }


def _from_geolift(r: _Row, ctx: _Context) -> dict | None:
    channel = r.channel(ctx.channels)
    window = r.window("date_start", "date_end", ctx)
    lift, lower, upper = r.number("lift"), r.number("lift_lower"), r.number("lift_upper")
    level = r.number("ci_level")
    lift_unit, spend_unit = r.choice("lift_unit", _UNITS), r.choice("spend_unit", _UNITS)
    before, change = r.number("spend_before"), r.number("spend_change")
    if level is not None and not 0 < level < 1:
        r.bad("ci_level", f"must be a probability in (0, 1), e.g. 0.9 for 90%, got {level:g}")
    if lift is not None and lower is not None and upper is not None:
        if upper <= lower:
            r.bad(
                "lift_upper",
                f"{upper:g} must be above lift_lower {lower:g} (the interval gives sigma)",
            )
        elif not lower <= lift <= upper:
            r.bad("lift", f"{lift:g} is outside its interval [{lower:g}, {upper:g}]")
    if r.problems:
        return None
    start, end, n = window
    lift_n = n if lift_unit == "total" else 1
    spend_n = n if spend_unit == "total" else 1
    z = float(norm.ppf((1 + level) / 2))
    return {
        **r.passthrough("test_id"),
        "channel": channel,
        **r.passthrough("geo"),
        "x": before / spend_n,
        "delta_x": change / spend_n,
        "delta_y": lift / lift_n,
        "sigma": (upper - lower) / (2 * z) / lift_n,
        "date_start": start.strftime("%Y-%m-%d"),
        "date_end": end.strftime("%Y-%m-%d"),
        "n_periods": n,
        "aggregation": "mean",
        "source": "geolift",
    }


_CONVERTERS = {"robyn": _from_robyn, "geolift": _from_geolift}


def _context(
    fmt: str,
    channels: Iterable[str] | None,
    dates: Iterable | None,
    period_days: int,
    relative_se: float | None,
    carryover_periods: int | None,
) -> _Context:
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
    return _Context(
        channels=None if channels is None else list(channels),
        dates=None
        if dates is None
        else pd.DatetimeIndex(pd.to_datetime(list(dates))).unique().sort_values(),
        period_days=period_days,
        relative_se=relative_se,
        carryover_periods=carryover_periods,
    )


def _require(df: pd.DataFrame, fmt: str) -> None:
    columns = _REQUIRED[fmt]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise LiftTableError(
            [
                LiftProblem(
                    -1,
                    c,
                    f"required {fmt} column is missing (the file has {list(df.columns)}; "
                    f"{fmt} needs {list(columns)}){_COLUMN_HINTS.get(c, '')}",
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
        If a required column is missing (no row can be read).
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
        else read_lift_table(source)
    )
    if fmt == "mmmcal":
        check = check_lift_table(df, ctx.channels, dates=ctx.dates)
        problems, accepted = check.problems, check.accepted
    else:
        _require(df, fmt)
        problems, rows, origin = [], [], []
        for i, values in enumerate(df.to_dict("records")):
            row = _Row(i, values)
            converted = _CONVERTERS[fmt](row, ctx)
            problems += row.problems
            if converted is not None:
                rows.append(converted)
                origin.append(i)
        table = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(LIFT_REQUIRED_COLUMNS))
        check = check_lift_table(table, ctx.channels, dates=ctx.dates)
        problems += [_to_input(p, origin, _INPUT_FIELDS[fmt]) for p in check.problems]
        accepted = check.accepted
    problems = sorted(problems, key=lambda p: p.row)
    reasons: dict[int, list[str]] = {}
    for p in problems:
        reasons.setdefault(p.row, []).append(f"{p.field}: {p.message}")
    report = pd.DataFrame(
        {
            "row": range(len(df)),
            "status": ["rejected" if i in reasons else "accepted" for i in range(len(df))],
            "reason": ["; ".join(reasons.get(i, [])) for i in range(len(df))],
            "test_id": df["test_id"].tolist() if "test_id" in df else [None] * len(df),
        }
    )
    return IngestResult(
        table=accepted.drop(columns="row").reset_index(drop=True), report=report, problems=problems
    )


def ingest_or_raise(
    source: str | Path | pd.DataFrame,
    format: str,
    *,
    channels: Iterable[str] | None = None,
    dates: Iterable | None = None,
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
        period_days=period_days,
        relative_se=relative_se,
        carryover_periods=carryover_periods,
    )
    if not result.ok:
        rejected = result.report[result.report["status"] == "rejected"].reset_index(drop=True)
        raise LiftTableError(result.problems, rejected)
    return result.table
