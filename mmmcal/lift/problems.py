"""What a lift table can be told about its rows: one problem per row and field, and the error."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["LiftProblem", "LiftTableError", "row_report"]


@dataclass(frozen=True)
class LiftProblem:
    """One reason a row was rejected; ``row`` -1 is the whole table (a missing column, no rows)."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        if self.row < 0:
            return f"the table, field `{self.field}`: {self.message}"
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


def row_report(rows, problems: list[LiftProblem]) -> pd.DataFrame:
    """One line per input row of ``rows``: ``row``, ``status`` (accepted/rejected), ``reason``."""
    reasons: dict[int, list[str]] = {}
    for p in problems:
        reasons.setdefault(p.row, []).append(f"{p.field}: {p.message}")
    rows = list(rows)
    return pd.DataFrame(
        {
            "row": rows,
            "status": ["rejected" if r in reasons else "accepted" for r in rows],
            "reason": ["; ".join(reasons.get(r, [])) for r in rows],
        }
    )
