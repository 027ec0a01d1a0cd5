"""The data's scale, and lift rows whose values cannot be on it (units mistakes, overflow).

:class:`LiftScales` holds the largest target and channel spend **per period** in the data,
national (summed over geos per date) and per geo. :func:`check_scales` refuses a row when

- ``|delta_y|`` exceeds the target's largest value per period (times the measured periods
  for ``aggregation: sum``, a window total): a channel's lift cannot be larger than the
  whole target;
- ``sigma`` exceeds 10x that scale: an uncertainty that large says nothing (or is a total
  given as per period);
- ``x`` or ``x + delta_x`` exceeds 10x the channel's largest spend per period: tests double
  or triple spend, never ten-fold the heaviest period.

A row on a geo of the data is held to that geo's scales, any other row (``national``,
empty, a geo the data lacks) to the national ones. A scale the data leaves unknown (no
target column, a channel without spend in that geo) is not checked. Without data only
:data:`MAX_MAGNITUDE` applies (:func:`mmmcal.lift.checks.check_row`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from mmmcal.lift.cells import finite_number
from mmmcal.lift.problems import LiftProblem

__all__ = ["LiftScales", "SIGMA_FACTOR", "SPEND_FACTOR", "check_scales"]

SIGMA_FACTOR = 10.0  # sigma may reach 10x the target's largest value per period
SPEND_FACTOR = 10.0  # x and x + delta_x may reach 10x the channel's largest spend per period
_UNITS_HINT = (
    "check the units: a window total given as per period (set aggregation: sum and "
    "n_periods), or cents for currency"
)


@dataclass(frozen=True)
class LiftScales:
    """Largest target and spend per period in the data (target and spend units).

    ``target`` is national (None: the data's target is unknown); ``target_by_geo``,
    ``spend`` (channel, national) and ``spend_by_geo`` (geo, channel) are sorted pairs, so
    two scales of the same data compare equal.
    """

    target: float | None
    target_by_geo: tuple[tuple[str, float], ...]
    spend: tuple[tuple[str, float], ...]
    spend_by_geo: tuple[tuple[tuple[str, str], float], ...]

    @classmethod
    def from_data(
        cls,
        data: pd.DataFrame,
        channels: Iterable[str],
        *,
        date_column: str,
        target_column: str | None = None,
        geo_column: str | None = None,
    ) -> LiftScales:
        """The scales of ``data`` (one row per date, or per date x geo with ``geo_column``)."""
        channels = [c for c in channels if c in data]
        spend = data[channels].apply(pd.to_numeric, errors="coerce").astype(float)
        by_date = spend.groupby(data[date_column]).sum().max()
        target = None
        target_by_geo: list[tuple[str, float]] = []
        spend_by_geo: list[tuple[tuple[str, str], float]] = []
        if target_column is not None:
            y = pd.to_numeric(data[target_column], errors="coerce").astype(float)
            target = finite_number(y.groupby(data[date_column]).sum().abs().max())
        if geo_column is not None:
            geo = data[geo_column].astype(str)
            spend_by_geo = [
                ((str(g), str(c)), float(v))
                for (g, c), v in spend.groupby(geo).max().stack().items()
                if math.isfinite(v)
            ]
            if target_column is not None:
                maxima = y.abs().groupby(geo).max()
                target_by_geo = [(str(g), float(v)) for g, v in maxima.items() if math.isfinite(v)]
        return cls(
            target=target,
            target_by_geo=tuple(sorted(target_by_geo)),
            spend=tuple(
                sorted((c, float(by_date[c])) for c in channels if finite_number(by_date[c]))
            ),
            spend_by_geo=tuple(sorted(spend_by_geo)),
        )

    def target_scale(self, geo: str | None) -> tuple[float | None, str]:
        """The target's largest value per period for a row on ``geo``, and where it is from."""
        by_geo = dict(self.target_by_geo)
        if geo is not None and geo in by_geo:
            return by_geo[geo], f"in geo {geo!r}"
        return self.target, "in the data (all geos)" if by_geo else "in the data"

    def spend_scale(self, channel: str, geo: str | None) -> tuple[float | None, str]:
        """Channel ``channel``'s largest spend per period for a row on ``geo``, and where."""
        by_geo = dict(self.spend_by_geo)
        if geo is not None and (geo, channel) in by_geo:
            return by_geo[(geo, channel)], f"in geo {geo!r}"
        return dict(self.spend).get(channel), "in the data"


def _geo(row: pd.Series) -> str | None:
    raw = row.get("geo")
    return None if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw)


def _measured_periods(row: pd.Series) -> float | None:
    """Periods a window total covers: ``measured_from..measured_to``, default the window."""
    n = finite_number(row.get("n_periods"))
    first = finite_number(row.get("measured_from")) or 1.0
    last = finite_number(row.get("measured_to")) or n
    return None if last is None or last < first else last - first + 1


def check_scales(
    table: pd.DataFrame, scales: LiftScales, flagged: set[tuple[int, str]]
) -> list[LiftProblem]:
    """Rows whose lift, sigma or spend cannot be on ``scales``; ``flagged`` fields are skipped."""
    problems: list[LiftProblem] = []
    for i, row in table.reset_index(drop=True).iterrows():
        r = int(i)
        ok = {f: finite_number(row.get(f)) for f in ("x", "delta_x", "delta_y", "sigma")}
        values = {f: v for f, v in ok.items() if v is not None and (r, f) not in flagged}
        problems += _lift_problems(r, row, values, scales)
        if isinstance(row.get("channel"), str):
            problems += _spend_problems(r, row, values, scales)
    return problems


def _lift_problems(r: int, row: pd.Series, values: dict, scales: LiftScales) -> list[LiftProblem]:
    scale, where = scales.target_scale(_geo(row))
    if scale is None or not scale > 0:
        return []
    periods, unit = 1.0, "per period"
    if row.get("aggregation") == "sum":
        measured = _measured_periods(row)
        if measured is None:  # a window total without its window: n_periods is asked for
            return []
        periods, unit = measured, f"over the {measured:g} measured periods (aggregation: sum)"
    out = []
    dy, sigma = values.get("delta_y"), values.get("sigma")
    if dy is not None and abs(dy) > scale * periods:
        out.append(
            LiftProblem(
                r,
                "delta_y",
                f"{dy!r} {unit} is larger than the whole target: its largest value per "
                f"period {where} is {scale:,.6g}; {_UNITS_HINT}",
            )
        )
    if sigma is not None and sigma > SIGMA_FACTOR * scale * periods:
        out.append(
            LiftProblem(
                r,
                "sigma",
                f"{sigma!r} {unit} is more than {SIGMA_FACTOR:g}x the target's largest value "
                f"per period {where} ({scale:,.6g}); {_UNITS_HINT}",
            )
        )
    return out


def _spend_problems(r: int, row: pd.Series, values: dict, scales: LiftScales) -> list[LiftProblem]:
    channel = str(row["channel"])
    scale, where = scales.spend_scale(channel, _geo(row))
    if scale is None or not scale > 0:
        return []
    limit = SPEND_FACTOR * scale
    x, dx = values.get("x"), values.get("delta_x")
    spends = [("x", x, x)]
    if x is not None and dx is not None:
        spends.append(("delta_x", dx, x + dx))
    out = []
    for field, raw, spend in spends:
        if spend is not None and spend > limit:
            said = f"{raw!r}" if field == "x" else f"{raw!r} (x + delta_x = {spend!r})"
            out.append(
                LiftProblem(
                    r,
                    field,
                    f"{said} per period is more than {SPEND_FACTOR:g}x the largest spend per "
                    f"period of channel {channel!r} {where} ({scale:,.6g}); check the units: "
                    "spend per period, not the window total, and currency, not cents",
                )
            )
    return out
