"""What a data frame tells the lift-table contract: its channels, dates, geos and scales.

:func:`data_checks` gives the keyword arguments of
:func:`~mmmcal.lift.table.validate_lift_table`, :func:`~mmmcal.lift.table.check_lift_table`
and :func:`~mmmcal.lift.ingest.ingest` for a table checked against ``data``. With a model
spec, :func:`mmmcal.models.lift_data.model_lift_checks` calls it on the data as ``fit``
prepares it, so ``fit``, ``check-lift --model`` and ``ingest --model`` check alike.
"""

from __future__ import annotations

from typing import TypedDict

import pandas as pd

from mmmcal.dates import parse_dates
from mmmcal.lift.scales import LiftScales

__all__ = ["LiftChecks", "data_checks"]


class LiftChecks(TypedDict):
    """The contract's arguments: model channels, modelled dates, geos, the data's scales."""

    channels: list[str] | None
    dates: pd.DatetimeIndex | None
    geos: list | None  # the data's geo values, as they are
    scales: LiftScales | None


def data_checks(
    data: pd.DataFrame,
    *,
    date_column: str = "date",
    channels: list[str] | None = None,
    target_column: str | None = None,
    geo_column: str | None = None,
) -> LiftChecks:
    """The checks of a lift table against ``data`` (one row per date, or date x geo).

    ``channels`` None: every numeric column but the date, geo and target columns is a
    channel. Without ``target_column`` the target's scale is unknown (lifts are not held to
    it). Raises ``ValueError`` for a missing column, a date column that does not read as
    ``fit`` reads it (:func:`mmmcal.dates.parse_dates`: one format, no ambiguous day/month),
    or a channel that is not a numeric column of ``data``.
    """
    named = [date_column, *([geo_column] if geo_column else [])]
    named += [target_column] if target_column else []
    missing = [c for c in named if c not in data]
    if missing:
        raise ValueError(
            f"The data has no column(s) {missing} (it has {list(data.columns)}); name the date "
            "column with --date-column, or give the model spec with --model."
        )
    dates = pd.Series(parse_dates(data[date_column], date_column), index=data.index)
    numeric = [
        str(c)
        for c in data.columns
        if c not in named
        and pd.api.types.is_numeric_dtype(data[c])
        and not pd.api.types.is_bool_dtype(data[c])
    ]
    if channels is None:
        channels = numeric
    unknown = [c for c in channels if c not in numeric]
    if unknown:
        raise ValueError(
            f"Channel(s) {unknown} are not numeric columns of the data; its numeric columns "
            f"are {numeric}."
        )
    frame = data.assign(**{date_column: dates})
    return LiftChecks(
        channels=list(channels),
        dates=pd.DatetimeIndex(dates.unique()).sort_values(),
        geos=None if geo_column is None else list(data[geo_column].unique()),
        scales=LiftScales.from_data(
            frame,
            channels,
            date_column=date_column,
            target_column=target_column,
            geo_column=geo_column,
        ),
    )
