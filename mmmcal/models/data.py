"""Data checked against a model spec and shaped for pymc-marketing.

Every mistake is a :class:`DataError` naming the column, rows or dates and the fix, raised
before anything is compiled. Units: channel spend and the target are divided by their
maximum over dates by pymc-marketing; controls are divided by their maximum absolute value
here, so their coefficients live on the scale the priors expect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from mmmcal.dates import SHOWN, format_dates, infer_period, period_name, read_dates
from mmmcal.models.spec import ModelSpec
from mmmcal.models.spend_factor import (
    SHARED_MOVEMENT,
    SPEND_FACTOR,
    spend_comovement,
    spend_factor,
)

__all__ = [
    "DataError",
    "ModelData",
    "channel_comovement",
    "dates_needed",
    "prepare_data",
    "prepare_fit",
]

# Likelihood families whose support is (0, inf) or [0, inf): the target must lie in it. The
# default Normal (and StudentT) accept any value; simulated geo data can dip below 0.
POSITIVE_LIKELIHOODS = frozenset(
    {"Gamma", "LogNormal", "InverseGamma", "Wald", "Weibull", "Exponential", "HalfNormal"}
)
NON_NEGATIVE_LIKELIHOODS = frozenset({"Poisson", "NegativeBinomial", "ZeroInflatedPoisson"})


class DataError(ValueError):
    """The data do not fit the model spec; the message names the column, rows and the fix."""


class ModelData(BaseModel):
    """Data prepared for pymc-marketing: ``X`` (date, [geo], channels, scaled controls), ``y``."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    X: pd.DataFrame
    y: pd.Series
    control_scale: dict[str, float]


def _shown_values(column: pd.Series, bad: np.ndarray) -> str:
    """The first bad values, and a hint where they are numbers written as text (1,234 or $5)."""
    fill = "; pymc-marketing would silently treat them as 0. Fill or drop them first."
    raw = [column.iloc[int(r)] for r in bad[:3] if not pd.isna(column.iloc[int(r)])]
    if not raw:
        return fill
    text = f" (e.g. {', '.join(repr(v) for v in raw)})"
    cleaned = pd.to_numeric(
        pd.Series([str(v).replace(",", "").strip(" $€£%") for v in raw]), errors="coerce"
    )
    if cleaned.notna().all():
        return (
            f"{text}: numbers written with thousands separators or currency signs; write "
            f"plain numbers ({cleaned.iloc[0]:g})."
        )
    return text + fill


def prepare_data(spec: ModelSpec, data: pd.DataFrame) -> ModelData:
    """Check ``data`` against ``spec`` and shape it for pymc-marketing.

    Raises :class:`DataError` naming the column and rows for missing columns, dates that
    are not dates or read two ways (:mod:`mmmcal.dates`), non-numeric or missing values,
    negative spend, an all-zero or constant target, a target outside its likelihood's
    support (e.g. <= 0 for Gamma), repeated dates, dates off
    their grid or missing from it (in any geo), and too few dates for the spec
    (:func:`dates_needed`); nothing is filled in silently.
    """
    return _model_data(spec, _checked_frame(spec, data))


def prepare_fit(spec: ModelSpec, data: pd.DataFrame) -> tuple[ModelSpec, ModelData]:
    """The spec a fit uses (``spend_factor: auto`` decided on ``data``) and its data.

    ``auto`` becomes True where the channels' log spend correlates by at least
    :data:`~mmmcal.models.spend_factor.SHARED_MOVEMENT` on average
    (:func:`channel_comovement`), False otherwise. Checks as :func:`prepare_data`.
    """
    frame = _checked_frame(spec, data)
    if spec.spend_factor == "auto":
        shared = channel_comovement(spec, frame) >= SHARED_MOVEMENT
        spec = spec.model_copy(update={"spend_factor": bool(shared)})
    return spec, _model_data(spec, frame)


def channel_comovement(spec: ModelSpec, frame: pd.DataFrame) -> float:
    """Mean pairwise correlation of the channels' log spend in checked or prepared data."""
    geo = "geo" if spec.geo_column else None
    return spend_comovement(frame, list(spec.channel_columns), geo)


def _checked_frame(spec: ModelSpec, data: pd.DataFrame) -> pd.DataFrame:
    """The spec's columns of ``data``, checked, sorted by date (then geo, named ``geo``)."""
    frame = _columns(spec, data)
    n_dates = frame[spec.date_column].nunique()
    if n_dates < 2:
        raise DataError(
            f"The data has {n_dates} date(s) in `{spec.date_column}`; a model needs a time "
            f"series: this spec needs at least {max(dates_needed(spec))} dates."
        )
    _check_values(spec, frame)
    key = [spec.date_column, *([spec.geo_column] if spec.geo_column else [])]
    dup = np.flatnonzero(frame.duplicated(subset=key).to_numpy())
    if len(dup):
        raise DataError(
            f"Rows {dup[:SHOWN].tolist()} repeat a {' x '.join(key)} already present; "
            "keep one row per date" + (" and geo." if spec.geo_column else ".")
        )
    _check_grid(spec, frame)
    _check_length(spec, frame[spec.date_column].nunique())
    if spec.geo_column and spec.geo_column != "geo":
        frame = frame.rename(columns={spec.geo_column: "geo"})
    frame = frame.sort_values([spec.date_column, *(["geo"] if spec.geo_column else [])])
    return frame.reset_index(drop=True)


def _model_data(spec: ModelSpec, frame: pd.DataFrame) -> ModelData:
    """``frame`` (checked; changed in place) with the spend factor and scaled controls."""
    if spec.spend_factor is True:
        frame[SPEND_FACTOR] = spend_factor(
            frame, list(spec.channel_columns), "geo" if spec.geo_column else None
        )
    control_scale = {}
    for col in spec.model_controls:
        scale = float(np.abs(frame[col]).max()) or 1.0
        control_scale[col] = scale
        frame[col] = frame[col] / scale
    y = frame.pop(spec.target_column).rename(spec.target_column)
    return ModelData(X=frame, y=y, control_scale=control_scale)


def _columns(spec: ModelSpec, data: pd.DataFrame) -> pd.DataFrame:
    """The spec's columns of ``data``, dates parsed and numbers as floats."""
    needed = [spec.date_column, spec.target_column, *spec.channel_columns, *spec.control_columns]
    if spec.geo_column:
        needed.append(spec.geo_column)
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise DataError(
            f"The data lacks column(s) {missing} named in the model spec; "
            f"it has {list(data.columns)}."
        )
    frame = data[needed].reset_index(drop=True)
    if frame.columns.duplicated().any():
        twice = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise DataError(f"The data has column(s) {twice} more than once; rename or drop one.")
    parsed = read_dates(frame[spec.date_column], spec.date_column)
    if parsed.problem:
        raise DataError(parsed.problem)
    frame[spec.date_column] = parsed.values
    for col in [spec.target_column, *spec.channel_columns, *spec.control_columns]:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))
        if len(bad):
            raise DataError(
                f"Column `{col}` has missing or non-numeric values in rows {bad[:SHOWN].tolist()}"
                f"{_shown_values(frame[col], bad)}"
            )
        frame[col] = values.astype(float)
    if spec.geo_column:
        bad = np.flatnonzero(frame[spec.geo_column].isna().to_numpy())
        if len(bad):
            raise DataError(
                f"Column `{spec.geo_column}` (the geo) is empty in rows {bad[:SHOWN].tolist()}; "
                "name the geo of every row."
            )
        frame[spec.geo_column] = frame[spec.geo_column].astype(str)
    return frame


def _check_values(spec: ModelSpec, frame: pd.DataFrame) -> None:
    """Spend that is >= 0 and not all zero; a target >= 0 that varies."""
    for col in spec.channel_columns:
        bad = np.flatnonzero(frame[col].to_numpy() < 0)
        if len(bad):
            raise DataError(
                f"Channel `{col}` has negative spend in rows {bad[:SHOWN].tolist()}; "
                "spend is >= 0 (enter refunds as a control)."
            )
        if frame[col].max() <= 0:
            raise DataError(
                f"Channel `{col}` has no spend at all; it cannot be modelled. Drop it from "
                "channel_columns."
            )
    target = frame[spec.target_column].to_numpy()
    name = f"Column `{spec.target_column}` (the target)"
    family = spec.priors.get("likelihood", {}).get("distribution", "Normal")
    if family in POSITIVE_LIKELIHOODS or family in NON_NEGATIVE_LIKELIHOODS:
        positive = family in POSITIVE_LIKELIHOODS
        bad = np.flatnonzero(target <= 0 if positive else target < 0)
        if len(bad):
            shown = ", ".join(f"{v:g}" for v in target[bad[:SHOWN]])
            raise DataError(
                f"{name} has {'non-positive' if positive else 'negative'} values in rows "
                f"{bad[:SHOWN].tolist()} ({shown}), outside the support of the {family} "
                "likelihood: fix those rows or use a Normal or StudentT likelihood."
            )
    if len(target) and not target.any():
        raise DataError(f"{name} is 0 in every row; there is nothing to explain.")
    if len(target) and np.ptp(target) == 0:
        raise DataError(
            f"{name} is {target[0]:g} in every row; a constant target has nothing for the "
            "channels to explain. Check that the spec names the right column."
        )


def _check_grid(spec: ModelSpec, frame: pd.DataFrame) -> None:
    """Dates (2 or more) on one regular grid, none missing (in any geo)."""
    dates = pd.DatetimeIndex(frame[spec.date_column])
    unique = dates.unique().sort_values()
    step = infer_period(unique)
    name = period_name(step)
    start = unique[0]
    if isinstance(step, pd.DateOffset):
        grid = pd.date_range(start, unique[-1], freq=step)
        off = ~dates.isin(grid)
        offsets = None
    else:
        remainder = (dates - start) % step
        off = np.asarray(remainder != pd.Timedelta(0))
        offsets = np.minimum(remainder, step - remainder)
        grid = pd.date_range(start, unique[-1], freq=step)
    if off.any():
        rows = np.flatnonzero(off)
        first = int(rows[0])
        by = "" if offsets is None else f" {_duration(offsets[first])}"
        raise DataError(
            f"Dates from row {first} ({format_dates(dates[[first]])}) are{by} off the {name} "
            f"grid starting {format_dates([start])} ({len(rows)} row(s) off it); put every "
            "date on the grid, or fix those rows."
        )
    gaps = grid.difference(unique)
    if len(gaps):
        raise DataError(
            f"{len(gaps)} date(s) are missing from the {name} grid: {format_dates(gaps)}; "
            "fill the gaps (zero spend is a value) or model a period without them."
        )
    if spec.geo_column:
        _check_panel(frame, spec, unique)


def _check_panel(frame: pd.DataFrame, spec: ModelSpec, unique: pd.DatetimeIndex) -> None:
    """Every geo has a row for every date."""
    holes = {}
    for geo, rows in frame.groupby(spec.geo_column, sort=True)[spec.date_column]:
        lacking = unique.difference(pd.DatetimeIndex(rows))
        if len(lacking):
            holes[geo] = lacking
    if holes:
        geo, lacking = next(iter(holes.items()))
        others = f" ({len(holes) - 1} other geo(s) too)" if len(holes) > 1 else ""
        raise DataError(
            f"Geo {geo!r} lacks {len(lacking)} of the {len(unique)} dates{others}: "
            f"{format_dates(lacking)}; every geo needs a row for every date (zero spend is "
            "a value)."
        )


def _duration(delta: pd.Timedelta) -> str:
    if delta % pd.Timedelta(days=1) == pd.Timedelta(0):
        days = delta.days
        return f"{days} day{'s' if days != 1 else ''}"
    return str(delta)


def dates_needed(spec: ModelSpec) -> tuple[int, int]:
    """Dates the spec needs: (more than ``l_max`` for the adstock, and the coefficients').

    The adstock's carryover window must fit in the data: strictly more dates than
    ``adstock.l_max``. The linear coefficients (one per channel and control, two per yearly
    Fourier order) and the intercept and noise need at least ``channels + controls +
    2 * yearly_seasonality + 2`` dates.
    """
    fourier = 2 * (spec.yearly_seasonality or 0)
    coefficients = len(spec.channel_columns) + len(spec.model_controls) + fourier + 2
    return spec.adstock.l_max + 1, coefficients


def _check_length(spec: ModelSpec, n_dates: int) -> None:
    adstock, coefficients = dates_needed(spec)
    if n_dates < adstock:
        raise DataError(
            f"The data has {n_dates} dates but adstock.l_max is {spec.adstock.l_max}: the "
            f"carryover window needs more than {spec.adstock.l_max} dates. Lower adstock.l_max "
            f"(below {n_dates}) or give more dates."
        )
    if n_dates < coefficients:
        raise DataError(
            f"The data has {n_dates} dates, too few for the model's {coefficients - 2} "
            f"coefficients ({len(spec.channel_columns)} channel(s), "
            f"{len(spec.model_controls)} control(s), 2 x yearly_seasonality "
            f"{spec.yearly_seasonality or 0}): it needs at least {coefficients}. Lower "
            "yearly_seasonality, drop controls, or give more dates."
        )
