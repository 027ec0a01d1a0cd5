"""Posterior queries behind the report's figures: curves, lifts and fits as draws.

Every query returns draws along a first ``sample`` axis in target units (the units of the
data's target column, per period). Bayesian fits evaluate pymc-marketing's own adstock and
saturation expressions (compiled pytensor) over up to :data:`N_DRAWS` evenly spaced
posterior draws; the baseline engines answer the same queries from their bootstrap draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mmmcal.evaluate.checks import is_bayesian
from mmmcal.models.builder import TREND_PREFIX
from mmmcal.sampling.deterministics import numpy_mode

if TYPE_CHECKING:
    import xarray as xr

    from mmmcal.models.bayes import CalibratedMMM

__all__ = [
    "N_DRAWS",
    "adstock_total_weight",
    "contribution_total_draws",
    "implied_lift_draws",
    "marginal_roas_draws",
    "mu_draws",
    "n_thinned",
    "observed_target",
    "predictive_draws",
    "response_draws",
    "scales",
    "thin",
    "thin_index",
    "true_curve",
]

N_DRAWS = 200


def n_thinned(model: CalibratedMMM, n: int = N_DRAWS) -> int:
    """How many draws :func:`thin` keeps: ``n``, or every draw when there are fewer."""
    post = model.idata_.posterior
    return min(n, post.sizes["chain"] * post.sizes["draw"])


def thin(model: CalibratedMMM, var: str, n: int = N_DRAWS) -> xr.DataArray:
    """Up to ``n`` evenly spaced posterior draws of ``var``, chains stacked into ``sample``.

    ``sample`` is the first dimension; the variable's own units (model units for the
    scaled deterministics, see :func:`scales`).
    """
    da = model.idata_.posterior[var].stack(sample=("chain", "draw")).transpose("sample", ...)
    return da.isel(sample=thin_index(model, n))


def thin_index(model: CalibratedMMM, n: int = N_DRAWS) -> np.ndarray:
    """Positions of :func:`thin`'s draws among all draws, chains stacked (chain-major)."""
    post = model.idata_.posterior
    return np.linspace(0, post.sizes["chain"] * post.sizes["draw"] - 1, n_thinned(model, n)).astype(
        int
    )


def scales(model: CalibratedMMM) -> tuple[np.ndarray, float]:
    """The model's data scales: spend per channel (spec order) and the target.

    Spend in model units is spend / channel scale; the target in target units is the model's
    value x target scale. Geo models: the largest geo scale per channel and the sum of the
    geos' target scales.
    """
    found = model.mmm_.get_scales_as_xarray()
    cs = found["channel_scale"]
    if "geo" in cs.dims:
        cs = cs.max("geo")
    ts = found["target_scale"]
    ts = float(ts.sum()) if ts.ndim else float(ts)
    return cs.sel(channel=list(model.spec.channel_columns)).to_numpy(), ts


def _draw_params(model: CalibratedMMM, mapping: dict[str, str], n: int = N_DRAWS) -> dict[str, Any]:
    """Thinned draws of a transform's parameters as (sample, channel) xtensors.

    ``mapping``: parameter name -> model variable (pymc-marketing's ``variable_mapping``);
    parameters with a geo dimension are averaged over geos.
    """
    from pytensor.xtensor import as_xtensor

    params = {}
    for p, var in mapping.items():
        draws = thin(model, var, n)
        if "geo" in draws.dims:
            draws = draws.mean("geo")
        params[p] = as_xtensor(
            draws.transpose("sample", "channel").to_numpy(), dims=("sample", "channel")
        )
    return params


def adstock_total_weight(model: CalibratedMMM, n: int = N_DRAWS) -> np.ndarray:
    """Sum of the adstock weights per thinned draw and channel, (sample, channel).

    1 everywhere when the spec normalises the adstock; otherwise what a unit of spend
    sustained every period adds up to once carry-over has built up (no units).
    """
    n = n_thinned(model, n)
    k = len(model.spec.channel_columns)
    if model.spec.adstock.normalize:
        return np.ones((n, k))
    from pytensor.xtensor import as_xtensor

    mmm = model.mmm_
    impulse = np.zeros((mmm.adstock.l_max, n, k))
    impulse[0] = 1.0
    w = mmm.adstock.function(
        as_xtensor(impulse, dims=("lag", "sample", "channel")),
        dim="lag",
        **_draw_params(model, mmm.adstock.variable_mapping, n),
    )
    return np.asarray(w.sum("lag").transpose("sample", "channel").eval(mode=numpy_mode()))


def response_draws(model: Any, spend: np.ndarray, n: int = N_DRAWS) -> np.ndarray:
    """Steady-state contribution per period (target units) at ``spend`` per period.

    Returns (sample, grid, channel); ``spend`` is (grid, channel) in spend units per period.
    National models use one scale per channel (geo models: the largest geo scale, an
    approximation). Baseline engines: their fitted curve per bootstrap draw. ``n``: how many
    evenly spaced posterior draws (:func:`thin`).
    """
    if not is_bayesian(model):
        return model.response_draws(spend)
    from pytensor.xtensor import as_xtensor

    mmm = model.mmm_
    cs, ts = scales(model)
    params = _draw_params(model, mmm.saturation.variable_mapping, n)
    weights = adstock_total_weight(model, n)
    x = as_xtensor((spend / cs)[None] * weights[:, None, :], dims=("sample", "grid", "channel"))
    out = mmm.saturation.function(x, **params).transpose("sample", "grid", "channel")
    out = out.eval(mode=numpy_mode())
    return np.asarray(out) * ts


def contribution_total_draws(model: CalibratedMMM, spend: np.ndarray) -> np.ndarray:
    """Total contribution over the data's dates of a spend path, (sample, channel), target units.

    ``spend``: (date, channel), spend per period in the data's order of dates; adstock
    starts from zero spend before the first date, as in the fit. National models.
    """
    from pytensor.xtensor import as_xtensor

    mmm = model.mmm_
    cs, ts = scales(model)
    x = np.repeat((spend / cs)[:, None, :], n_thinned(model), axis=1)
    x = as_xtensor(x, dims=("date", "sample", "channel"))
    adstocked = mmm.adstock.function(
        x, dim="date", **_draw_params(model, mmm.adstock.variable_mapping)
    )
    out = mmm.saturation.function(adstocked, **_draw_params(model, mmm.saturation.variable_mapping))
    total = out.sum("date").transpose("sample", "channel")
    return np.asarray(total.eval(mode=numpy_mode())) * ts


def marginal_roas_draws(model: Any, step: float = 0.01) -> np.ndarray | None:
    """Marginal ROAS at current spend per draw, (sample, channel): target per unit of spend.

    Every period's spend raised by ``step`` (1%, as the truth's ``mroas``): the extra
    contribution over the data's dates over the extra spend. None for geo models and the
    baseline engines (not computed for them yet).
    """
    if not is_bayesian(model) or model.spec.geo_column:
        return None
    channels = list(model.spec.channel_columns)
    spend = model.data_.X[channels].to_numpy(dtype=float)
    extra = contribution_total_draws(model, spend * (1 + step)) - contribution_total_draws(
        model, spend
    )
    return extra / (step * spend.sum(axis=0))


def implied_lift_draws(model: Any, lift: pd.DataFrame, n: int = N_DRAWS) -> np.ndarray:
    """Model-implied lift per period of each lift row, (sample, row), target units.

    Rows with a window use mmmcal's window lift (the model's adstock and saturation over
    the test window); rows without one the steady-state curve difference. National models.
    Baseline engines: the same lift per bootstrap draw. ``n``: as :func:`response_draws`.
    """
    if not is_bayesian(model):
        return model.implied_lift_draws(lift)
    from mmmcal.lift.windows import split_rows

    dates = pd.DatetimeIndex(pd.to_datetime(model.data_.X[model.spec.date_column]).unique())
    window, steady = split_rows(lift.reset_index(drop=True), dates, "auto")
    out = np.zeros((n_thinned(model, n), len(lift)))
    if len(window):
        out[:, window.index] = _window_lift_draws(model, window, n)
    channels = list(model.spec.channel_columns)
    for idx, r in steady.iterrows():
        grid = np.zeros((2, len(channels)))
        k = channels.index(r.channel)
        grid[0, k], grid[1, k] = r.x, r.x + r.delta_x
        curves = response_draws(model, grid, n)
        out[:, idx] = curves[:, 1, k] - curves[:, 0, k]
    return out


def _window_lift_draws(model: CalibratedMMM, window: pd.DataFrame, n: int) -> np.ndarray:
    """Window lift per period of each window row, (sample, row), target units."""
    import pytensor
    from pytensor.xtensor import xtensor

    from mmmcal.models.lift_likelihood import WindowLiftTerm, window_lift_expression

    mmm = model.mmm_
    channels = list(model.spec.channel_columns)
    cs, ts = scales(model)
    mapping = {**mmm.adstock.variable_mapping, **mmm.saturation.variable_mapping}
    term = WindowLiftTerm.from_rows(window, channels, mmm.adstock.l_max, cs)
    inputs = {v: xtensor(v, dims=("channel",), shape=(len(channels),)) for v in mapping.values()}
    fn = pytensor.function(
        list(inputs.values()),
        window_lift_expression(mmm.adstock, mmm.saturation, inputs, term),
        mode=numpy_mode(),
    )
    draws = {v: thin(model, v, n).transpose("sample", "channel").to_numpy() for v in inputs}
    out = np.zeros((n_thinned(model, n), len(window)))
    for i in range(len(out)):
        out[i] = fn(*(draws[v][i] for v in inputs)) * ts
    return out


def mu_draws(model: Any) -> np.ndarray:
    """Draws of the expected target per date (target units), (sample, date).

    Bayesian fits: media, controls, seasonality, trend and intercept summed (over geos too),
    as the model's ``mu``.
    """
    if not is_bayesian(model):
        return model.mu_draws()
    post_vars = model.idata_.posterior
    _, ts = scales(model)
    total = thin(model, "channel_contribution").sum("channel")
    for var, dim in (
        ("control_contribution", "control"),
        ("yearly_seasonality_contribution", None),
        (f"{TREND_PREFIX}_effect_contribution", None),
    ):
        if var in post_vars:
            d = thin(model, var)
            total = total + (d.sum(dim) if dim else d)
    total = total + thin(model, "intercept_contribution")
    if "geo" in total.dims:
        total = total.sum("geo")
    return total.transpose("sample", "date").to_numpy() * ts


def predictive_draws(model: Any, mu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Posterior predictive draws of the target per date (target units), (sample, date).

    ``mu`` (from :func:`mu_draws`) plus normal noise: the likelihood's sigma of each draw
    (summed over geos), or a baseline's residual standard deviation.
    """
    if is_bayesian(model):
        sigma = thin(model, "y_sigma").to_numpy().reshape(len(mu), -1).sum(axis=1)
        sigma = sigma * scales(model)[1]
    else:
        sigma = np.full(len(mu), model.residual_sd())
    return mu + rng.standard_normal(mu.shape) * sigma[:, None]


def observed_target(model: Any) -> pd.Series:
    """The target the model was fitted on, per date (summed over geos), target units."""
    X = model.data_.X
    date = model.spec.date_column
    y = pd.Series(np.asarray(model.data_.y), index=pd.to_datetime(X[date]).to_numpy())
    return y.groupby(level=0).sum()


def true_curve(truth: dict[str, Any], channel: str, spend: np.ndarray) -> np.ndarray | None:
    """True steady-state contribution per period (target units) at ``spend`` per period.

    From a ``truth.json`` document; None in geo worlds (the national curve depends on how
    spend is split over geos).
    """
    from pydantic import TypeAdapter

    from mmmcal.world.scenario import AdstockSpec, SaturationSpec, adstock_weights

    params = truth["channels"][channel]["params"]
    if isinstance(params["spend_scale"], dict):
        return None
    sat: Any = TypeAdapter(SaturationSpec).validate_python(params["saturation"])
    ad: Any = TypeAdapter(AdstockSpec).validate_python(params["adstock"])
    return params["beta"] * sat(spend * adstock_weights(ad).sum() / params["spend_scale"])
