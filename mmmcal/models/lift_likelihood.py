"""Lift-test likelihood terms: calibrate an MMM to what each experiment measured.

Two estimands, chosen per row:

``window`` (mmmcal's)
    The model-implied lift over exactly the test window: media contribution with the spend
    change applied for ``n_periods`` (after a steady ``x`` long enough for carryover to
    settle) minus without it, through the model's own adstock and saturation at the sampled
    parameters, averaged per period (or summed, per the row's ``aggregation``). Optional
    ``measured_from``/``measured_to`` (1-based periods since the test started) pick what the
    experiment reported: one week of the ramp, or the window plus post-window carryover.
``steady_state`` (pymc-marketing's)
    The saturation-curve difference ``f(x + delta_x) - f(x)``, as if the change ran forever.

Rule: rows that carry a window (``n_periods`` or ``date_start``/``date_end``) use the window
likelihood unless ``likelihood="steady_state"``; rows without one use the steady state.
``x``, ``delta_x`` (currency per period) are divided by the model's channel scale and
``delta_y``, ``sigma`` (target units per period) by its target scale, explicitly, here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from mmmcal.lift.table import validate_lift_table
from mmmcal.lift.windows import measured_span, split_rows, to_per_period
from mmmcal.options import LIFT_DISTRIBUTIONS, LikelihoodChoice

__all__ = [
    "WindowLiftTerm",
    "add_lift_likelihood",
    "impulse_response",
    "window_lift_expression",
]


def _likelihood(name: str, dist: str, mu, sigma, observed, dims: str, nu: float):
    import pymc as pm

    if dist == "normal":
        return pm.Normal(name, mu=mu, sigma=sigma, observed=observed, dims=dims)
    if dist == "studentt":
        return pm.StudentT(name, nu=nu, mu=mu, sigma=sigma, observed=observed, dims=dims)
    raise ValueError(
        f"The window lift `dist` {dist!r} must be one of ['normal', 'studentt'] "
        "(gamma needs a positive lift; it is offered for the steady-state path only)."
    )


@dataclass(frozen=True)
class WindowLiftTerm:
    """Index arrays that describe window rows for :func:`window_lift_expression`.

    ``hi``/``lo`` index the cumulative adstock weights so that the extra adstocked spend at
    step ``t`` after the test starts is ``delta_x * (cw[hi] - cw[lo])``; ``mask`` marks the
    steps the row measured; ``divisor`` is ``n_periods`` for a mean and 1 for a sum.
    ``x`` and ``delta_x`` (scaled spend per row) may be arrays or model data variables.
    """

    channel_idx: np.ndarray
    geo_idx: np.ndarray | None
    x: np.ndarray
    delta_x: np.ndarray
    hi: np.ndarray
    lo: np.ndarray
    mask: np.ndarray
    divisor: np.ndarray

    @classmethod
    def from_rows(
        cls,
        rows: pd.DataFrame,
        channels: list[str],
        l_max: int,
        channel_scale: np.ndarray,
        geos: list[str] | None = None,
    ) -> WindowLiftTerm:
        """Describe ``rows`` (raw units); ``channel_scale`` is per channel or geo x channel."""
        n = rows["n_periods"].to_numpy(dtype=int)
        first, last = measured_span(rows)
        horizon = int(last.max())
        t = np.arange(horizon)[None, :]
        hi = np.minimum(t + 1, l_max)
        lo = np.minimum(np.maximum(0, t - n[:, None] + 1), l_max)
        mask = ((t >= first[:, None] - 1) & (t < last[:, None])).astype(float)
        agg = (
            rows["aggregation"].fillna("mean")
            if "aggregation" in rows
            else pd.Series("mean", index=rows.index)
        )
        divisor = np.where(agg.to_numpy() == "sum", 1.0, (last - first + 1).astype(float))
        ci = np.array([channels.index(c) for c in rows["channel"]])
        gi = None
        if geos is not None:
            if "geo" not in rows:
                raise ValueError("A geo model needs a `geo` column in its lift table.")
            gi = np.array([geos.index(g) for g in rows["geo"]])
        scale = (
            channel_scale[ci] if gi is None or channel_scale.ndim == 1 else channel_scale[gi, ci]
        )
        return cls(
            channel_idx=ci,
            geo_idx=gi,
            x=rows["x"].to_numpy(dtype=float) / scale,
            delta_x=rows["delta_x"].to_numpy(dtype=float) / scale,
            hi=np.broadcast_to(hi, mask.shape).copy(),
            lo=lo,
            mask=mask,
            divisor=divisor,
        )


def _select(param, term: WindowLiftTerm, core_dims: tuple[str, ...]):
    """Per-row values of a model parameter (an xtensor over geo/channel dims) as a tensor."""
    import pytensor.tensor as pt

    dims = tuple(d for d in param.dims if d not in core_dims)
    values = param.transpose(*dims, *[d for d in param.dims if d in core_dims]).values
    index = []
    for d in dims:
        if d == "channel":
            index.append(pt.as_tensor(term.channel_idx))
        elif d == "geo":
            if term.geo_idx is None:
                raise ValueError("A parameter varies by geo but the lift rows carry no geo.")
            index.append(pt.as_tensor(term.geo_idx))
        else:
            raise ValueError(f"Cannot index lift rows along parameter dim {d!r}.")
    return values[tuple(index)] if index else pt.broadcast_to(values, (len(term.channel_idx),))


def impulse_response(adstock, params: dict, n_rows: int):
    """The model's adstock applied to a unit impulse: weights per row and lag, (rows, l_max).

    ``params`` maps the adstock's parameter names to one value per row. For pymc-marketing's
    geometric, delayed and Weibull adstocks the weights are written out (their kernels, as
    pymc-marketing builds them); any other adstock convolves an impulse, which gives the same
    numbers but costs about 5 s more to compile (``tests/test_calibrate.py`` checks that the
    two agree).
    """
    import pytensor.tensor as pt
    from pymc_marketing.mmm import (
        DelayedAdstock,
        GeometricAdstock,
        WeibullCDFAdstock,
        WeibullPDFAdstock,
    )
    from pytensor.xtensor import as_xtensor

    l_max = adstock.l_max
    p = {k: pt.as_tensor(v)[:, None] for k, v in params.items()}
    lags = pt.arange(l_max, dtype="float64")[None, :]
    if type(adstock) is GeometricAdstock:
        w = p["alpha"] ** lags
    elif type(adstock) is DelayedAdstock:
        w = p["alpha"] ** ((lags - p["theta"]) ** 2)
    elif type(adstock) in (WeibullPDFAdstock, WeibullCDFAdstock):
        z = (lags + 1) / p["lam"]
        if type(adstock) is WeibullPDFAdstock:
            w = p["k"] / p["lam"] * z ** (p["k"] - 1) * pt.exp(-(z ** p["k"]))
            low = w.min(axis=1, keepdims=True)
            w = (w - low) / (w.max(axis=1, keepdims=True) - low)
        else:  # survival products, one longer than l_max; the impulse response is truncated
            ones = pt.ones_like(z[:, :1])
            w = pt.cumprod(pt.concatenate([ones, pt.exp(-(z ** p["k"]))], axis=1), axis=1)
    else:
        impulse = np.zeros((l_max, n_rows))
        impulse[0] = 1.0
        weights = adstock.function(
            as_xtensor(impulse, dims=("lift_lag", "lift_row")),
            dim="lift_lag",
            **{k: as_xtensor(v, dims=("lift_row",)) for k, v in params.items()},
        )
        return weights.transpose("lift_row", "lift_lag").values
    if adstock.normalize:
        w = w / w.sum(axis=1, keepdims=True)
    return w[:, :l_max]


def window_lift_expression(adstock, saturation, params: dict, term: WindowLiftTerm):
    """Model-implied window lift per row (model target units), as a pytensor expression.

    ``adstock`` and ``saturation`` are the model's pymc-marketing transformations and
    ``params`` maps their variable names (``adstock_alpha``...) to model variables or
    constants with named dims. The same functions the model uses on the data are applied
    here, so the lift and the contributions cannot disagree.
    """
    from pytensor.xtensor import as_xtensor

    l_max = adstock.l_max
    ad_params = {p: _select(params[v], term, ()) for p, v in adstock.variable_mapping.items()}
    w = impulse_response(adstock, ad_params, len(term.channel_idx))  # (rows, l_max)
    # Extra adstocked spend at step t: delta_x * sum of the weights of lags lo[t]..hi[t]-1,
    # written as a product with a constant 0/1 mask (cheaper to compile than gathers).
    lags = np.arange(l_max)[None, :, None]
    in_window = (lags >= term.lo[:, None, :]) & (lags < term.hi[:, None, :])
    increment = (w[:, :, None] * in_window.astype(float)).sum(axis=1)  # (rows, horizon)
    base = term.x[:, None] * w.sum(axis=1)[:, None]
    treated = base + term.delta_x[:, None] * increment
    sat_params = {
        p: as_xtensor(_select(params[v], term, ()), dims=("lift_row",))
        for p, v in saturation.variable_mapping.items()
    }
    f_treated = saturation.function(as_xtensor(treated, dims=("lift_row", "lift_t")), **sat_params)
    f_base = saturation.function(as_xtensor(base[:, 0], dims=("lift_row",)), **sat_params)
    diff = (f_treated - f_base).transpose("lift_row", "lift_t").values
    return (diff * term.mask).sum(axis=1) / term.divisor


def _add_window_term(mmm, window: pd.DataFrame, geos, *, dist: str, nu: float, name: str):
    """The window likelihood of ``window`` rows (with ``n_periods``) on a built MMM."""
    import pymc as pm

    model = mmm.model
    channels = list(mmm.channel_columns)
    scales = mmm.get_scales_as_xarray()
    channel_scale = scales["channel_scale"]
    cs_dims = [d for d in ("geo", "channel") if d in channel_scale.dims]
    term = WindowLiftTerm.from_rows(
        window, channels, mmm.adstock.l_max, channel_scale.transpose(*cs_dims).to_numpy(), geos
    )
    ts = scales["target_scale"].to_numpy()
    row_ts = (
        ts[term.geo_idx]
        if ts.ndim and term.geo_idx is not None
        else np.broadcast_to(ts, len(window))
    )
    row_name = f"{name}_window_row"
    ids = window["test_id"].astype(str).tolist() if "test_id" in window else None
    model.add_coord(
        row_name, ids if ids and len(set(ids)) == len(ids) else list(range(len(window)))
    )
    with model:
        params = {
            v: model[v]
            for v in [
                *mmm.adstock.variable_mapping.values(),
                *mmm.saturation.variable_mapping.values(),
            ]
        }
        # Values that change from one data set to the next are data, so a compiled model
        # can be re-used with new lift results (see mmmcal.sampling.sampler).
        data = {
            key: pm.Data(f"{name}_window_{key}", value, dims=row_name, shape=(len(window),))
            for key, value in {
                "x": term.x,
                "delta_x": term.delta_x,
                "target_scale": np.asarray(row_ts, dtype=float),
                "delta_y": window["delta_y"].to_numpy(dtype=float) / row_ts,
                "sigma": window["sigma"].to_numpy(dtype=float) / row_ts,
            }.items()
        }
        term = dataclasses.replace(term, x=data["x"], delta_x=data["delta_x"])
        implied = window_lift_expression(mmm.adstock, mmm.saturation, params, term)
        pm.Deterministic(f"{name}_window_model_lift", implied * data["target_scale"], dims=row_name)
        _likelihood(
            f"{name}_window",
            dist,
            mu=implied,
            sigma=data["sigma"],
            observed=data["delta_y"],
            dims=row_name,
            nu=nu,
        )


def add_lift_likelihood(
    mmm,
    lift: pd.DataFrame,
    *,
    likelihood: LikelihoodChoice = "auto",
    dist: str = "normal",
    nu: float = 4.0,
    name: str = "lift",
) -> dict[str, int]:
    """Add lift-test likelihood terms to a built pymc-marketing MMM.

    Returns the number of rows calibrated by each estimand. The window term also records
    ``{name}_window_model_lift`` (model-implied lift per row, target units) in the trace.
    """
    import pymc.dims as pmd

    if dist not in LIFT_DISTRIBUTIONS:
        raise ValueError(f"The lift `dist` {dist!r} must be one of {list(LIFT_DISTRIBUTIONS)}.")
    model = mmm.model
    channels = list(mmm.channel_columns)
    geos = list(model.coords["geo"]) if "geo" in mmm.dims else None
    dates = pd.DatetimeIndex(model.coords["date"])
    table = validate_lift_table(lift, channels, dates=dates, geos=geos)
    window, steady = split_rows(table, dates, likelihood)
    if len(window):
        _add_window_term(mmm, window, geos, dist=dist, nu=nu, name=name)
    if len(steady):
        steady = to_per_period(steady)
        steady_dists = {
            "normal": pmd.Normal,
            "studentt": partial(pmd.StudentT, nu=nu),
            "gamma": pmd.Gamma,
        }
        cols = ["channel", "x", "delta_x", "delta_y", "sigma", *(["geo"] if geos else [])]
        mmm.add_lift_test_measurements(
            steady[cols], dist=steady_dists[dist], name=f"{name}_steady_state"
        )
    return {"window": len(window), "steady_state": len(steady)}
