"""What a lift table can be told about its rows: one problem per row and field, and the error."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["LiftProblem", "LiftTableError"]


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
