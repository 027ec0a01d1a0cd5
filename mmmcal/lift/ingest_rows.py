"""Reading one input row of another tool's results: its values and the problems in them.

Each reader method returns the parsed value or None, and records a
:class:`~mmmcal.lift.table.LiftProblem` naming the input row (0-based) and field.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mmmcal.lift.cells import blank, finite_number
from mmmcal.lift.checks import unknown_channel
from mmmcal.lift.problems import LiftProblem

__all__ = ["InputRow", "RowContext"]


@dataclass(frozen=True)
class RowContext:
    """What rows are read against: the model's channels and dates, and format options."""

    channels: list[str] | None
    dates: pd.DatetimeIndex | None  # unique, sorted
    period_days: int
    relative_se: float | None
    carryover_periods: int | None


class InputRow:
    """One input row being read: its values and the problems found in them."""

    def __init__(self, i: int, values: dict):
        self.i, self.values = i, values
        self.problems: list[LiftProblem] = []

    def bad(self, field: str, message: str) -> None:
        self.problems.append(LiftProblem(self.i, field, message))

    def number(self, field: str) -> float | None:
        raw = self.values[field]
        value = finite_number(raw)
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
        elif channels is not None and (unknown := unknown_channel(raw, channels)):
            self.bad("channel", unknown)
        else:
            return raw
        return None

    def date(self, field: str) -> pd.Timestamp | None:
        raw = self.values[field]
        value = pd.NaT if blank(raw) else pd.to_datetime(raw, format="ISO8601", errors="coerce")
        if pd.isna(value):
            self.bad(field, f"must be an ISO date like 2024-03-04, got {raw!r}")
            return None
        return value

    def window(
        self, start_field: str, end_field: str, ctx: RowContext
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
