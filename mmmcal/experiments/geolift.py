"""Geo-lift tests in a geo world, analysed with CausalPy's synthetic control, as lift rows.

A design picks treated geos (at random, or matched pairs on pre-period outcome) and a
spend change in a window; the panel is re-simulated with the change applied in the treated
geos only (exact: noise is additive and the change only moves that channel's response).
CausalPy's ``SyntheticControl`` (PyMC ``WeightedSumFitter``) estimates the impact.

What mmmcal fixes on the way to a lift row:

* **Scale.** CausalPy 0.9's noise prior is ``HalfNormal(1)`` whatever the data's units, and
  its weights are convex. Each geo's outcome is divided by its pre-period mean before
  fitting (so both hold), and impacts are multiplied back.
* **Noise.** CausalPy's impact is ``y - mu``: the counterfactual's mean, without its noise.
  The counterfactual *outcome* is ``mu + eps``; mmmcal adds ``eps ~ Normal(0, sigma)`` per
  draw, correlated across treated geos (they share control geos) and over time as the
  pre-period residuals are, so the interval of a window's lift is not too narrow.
* **Aggregation.** The national lift is the per-draw sum of the geo lifts; its spread is
  taken after summing, never by dividing a total by sqrt(n).

Rows are per period: ``delta_y`` is the mean lift per period over the window, ``x`` the
spend per period before the change, ``delta_x`` its change per period.
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mmmcal.lift.table import validate_lift_table
from mmmcal.options import GeoDesignKind, SpendChangeKind
from mmmcal.world.simulate import World

__all__ = [
    "GeoLiftDesign",
    "GeoLiftTest",
    "analyze_geolift",
    "causalpy_to_lift_rows",
    "causalpy_impact_draws",
    "design_geolift",
    "geolift_rows",
    "national_rows",
    "rows_from_draws",
    "run_geolift",
]


class GeoLiftDesign(BaseModel):
    """A geo-lift test: which channel, how many treated geos, how long, what change.

    ``change``: ``heavy_up`` multiplies spend in the window by ``multiplier``; ``go_dark``
    sets it to zero; ``switch_on`` keeps the treated geos dark before the window and spends
    their usual amount during it. ``pre_periods`` is the history the synthetic control
    learns from.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    n_treated: int = Field(5, ge=1)
    n_periods: int = Field(4, ge=1, le=52)
    design: GeoDesignKind = "random"
    change: SpendChangeKind = "heavy_up"
    multiplier: float = Field(2.0, gt=0)
    pre_periods: int = Field(52, ge=8)
    end_offset: int = Field(0, ge=0)
    draws: int = Field(500, ge=50)
    tune: int = Field(500, ge=50)
    chains: int = Field(2, ge=1)

    @model_validator(mode="after")
    def _check(self) -> GeoLiftDesign:
        if self.change == "heavy_up" and self.multiplier == 1:
            raise ValueError("multiplier 1 is no spend change: the test would measure nothing")
        return self


@dataclass(frozen=True, eq=False)
class GeoLiftTest:
    """A designed test: the panel the analyst sees, and the truth behind it."""

    design: GeoLiftDesign
    treated: tuple[str, ...]
    controls: tuple[str, ...]
    panel: pd.DataFrame  # date x geo outcome (pre-period + window), treatment applied
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    spend_before: dict[
        str, float
    ]  # per treated geo, spend per period in the window without the test
    spend_change: dict[str, float]  # per treated geo, change of spend per period
    true_lift: dict[str, float]  # per treated geo, true mean lift per period over the window
    national_spend: float  # spend per period of the channel over all geos in the window
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _choose_geos(world: World, design: GeoLiftDesign, pre: pd.DataFrame, rng) -> list[str]:
    geos = list(world.truth.geos or ())
    if design.n_treated >= len(geos) - 1:
        raise ValueError(
            f"{design.n_treated} treated geos leave fewer than 2 controls among {len(geos)} geos."
        )
    if design.design == "random":
        return sorted(rng.choice(geos, size=design.n_treated, replace=False).tolist())
    # Matched pairs: sort by pre-period outcome, pair neighbours, treat one of each of n pairs.
    order = pre.mean().sort_values().index.tolist()
    pairs = [order[i : i + 2] for i in range(0, len(order) - 1, 2)]
    chosen = rng.choice(len(pairs), size=design.n_treated, replace=False)
    return sorted(pairs[i][rng.integers(2)] for i in chosen)


def design_geolift(world: World, design: GeoLiftDesign, seed: int = 0) -> GeoLiftTest:
    """Choose treated geos and simulate the panel with the spend change applied to them."""
    if not world.is_geo:
        raise ValueError("A geo-lift test needs a geo world (e.g. the `reference-geo` preset).")
    world.scenario.channel(design.channel)
    rng = np.random.default_rng(
        np.random.SeedSequence([int(seed), zlib.crc32(design.channel.encode())])
    )
    target = world.scenario.target
    wide = world.data.pivot(index="date", columns="geo", values=target)
    n_dates = len(wide)
    end = n_dates - design.end_offset
    start = end - design.n_periods
    first = start - design.pre_periods
    if first < 0:
        raise ValueError(
            f"{design.pre_periods} pre-periods + {design.n_periods} test periods ending "
            f"{design.end_offset} before the end do not fit in {n_dates} periods."
        )
    treated = _choose_geos(world, design, wide.iloc[first:start], rng)
    all_geos = world.truth.geos or ()
    controls = [g for g in all_geos if g not in treated]
    geo_index = {g: i for i, g in enumerate(all_geos)}
    panel = wide.copy()
    before, change, lift = {}, {}, {}
    oracle = world.oracle
    for g in treated:
        actual = oracle.spend_path(design.channel, geo_index[g])
        control_path = actual.copy()
        treated_path = actual.copy()
        if design.change == "heavy_up":
            treated_path[start:end] *= design.multiplier
        elif design.change == "go_dark":
            treated_path[start:end] = 0.0
        else:  # switch_on: dark before the window (and in the control path), usual spend during it
            control_path[:end] = 0.0
            treated_path[:start] = 0.0
        # Observed outcome = the world's outcome with this channel's response replaced.
        panel[g] += oracle.path_lift(design.channel, geo_index[g], actual, treated_path)
        per_period = oracle.path_lift(design.channel, geo_index[g], control_path, treated_path)
        lift[g] = float(per_period[start:end].mean())
        before[g] = float(control_path[start:end].mean())
        change[g] = float((treated_path - control_path)[start:end].mean())
    national = float(world.national_data()[design.channel].iloc[start:end].mean())
    return GeoLiftTest(
        design=design,
        treated=tuple(treated),
        controls=tuple(controls),
        panel=panel.iloc[first:end].copy(),
        window_start=wide.index[start],
        window_end=wide.index[end - 1],
        spend_before=before,
        spend_change=change,
        true_lift=lift,
        national_spend=national,
        seed=int(seed),
    )


def residual_structure(result) -> tuple[np.ndarray, float]:
    """Correlation of pre-period residuals across treated units, and their lag-1 autocorrelation.

    Treated units share control units, so their counterfactual errors are correlated; and
    residuals carry over from one period to the next. Both widen the window's interval.
    """
    res = result.pre_impact.mean(("chain", "draw")).transpose("obs_ind", "treated_units").values
    res = res - res.mean(axis=0)
    corr = np.atleast_2d(np.corrcoef(res.T)) if res.shape[1] > 1 else np.ones((1, 1))
    lag1 = [np.corrcoef(res[1:, u], res[:-1, u])[0, 1] for u in range(res.shape[1])]
    rho = float(np.clip(np.nanmean(lag1), 0.0, 0.95))
    return corr, rho


def _mean_variance_factor(n: int, rho: float) -> float:
    """Variance of the mean of ``n`` AR(1) values (unit variance, lag-1 correlation ``rho``)."""
    k = np.arange(1, n)
    return float((1 + 2 * np.sum((1 - k / n) * rho**k)) / n)


def causalpy_impact_draws(
    result, scale: pd.Series | None = None, *, with_noise: bool = True, seed: int = 0
) -> xr.DataArray:
    """Posterior draws of the mean impact per period over the post period, per treated unit.

    ``result`` is a fitted ``causalpy.SyntheticControl`` with a PyMC model. CausalPy's
    impact is ``y - mu``; with ``with_noise`` the counterfactual's noise is added per draw:
    the window mean of ``eps ~ N(0, sigma)``, correlated across treated units and over time
    as the pre-period residuals are (:func:`residual_structure`), so the interval covers the
    counterfactual outcome, not only its mean. ``scale`` multiplies each unit back to outcome
    units (if the outcome was standardised). Returns dims ``(sample, treated_units)``.
    """
    impact = result.post_impact  # chain, draw, obs_ind, treated_units
    mean = impact.mean("obs_ind").stack(sample=("chain", "draw")).transpose("sample", ...)
    if with_noise:
        sigma = (
            result.model.idata.posterior["y_hat_sigma"]
            .stack(sample=("chain", "draw"))
            .transpose("sample", "treated_units")
            .values
        )
        corr, rho = residual_structure(result)
        factor = _mean_variance_factor(impact.sizes["obs_ind"], rho)
        chol = np.linalg.cholesky(corr + 1e-9 * np.eye(len(corr)))
        rng = np.random.default_rng(seed)
        z = rng.standard_normal(sigma.shape) @ chol.T
        mean = mean - z * sigma * np.sqrt(factor)
    if scale is not None:
        mean = mean * xr.DataArray(
            scale.reindex(mean["treated_units"].values).to_numpy(), dims="treated_units"
        )
    return mean


def analyze_geolift(test: GeoLiftTest, *, progress: bool = False):
    """Fit CausalPy's synthetic control to ``test.panel``; returns (result, draws per geo)."""
    import causalpy as cp

    d = test.design
    panel = test.panel.copy()
    pre = panel[panel.index < test.window_start]
    scale = pre.mean()
    standardized = panel / scale
    standardized.columns = [str(c) for c in standardized.columns]
    model = cp.pymc_models.WeightedSumFitter(
        sample_kwargs={
            "draws": d.draws,
            "tune": d.tune,
            "chains": d.chains,
            "random_seed": test.seed,
            "progressbar": progress,
            "nuts_sampler": "nutpie",
            "target_accept": 0.9,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = cp.SyntheticControl(
            standardized,
            test.window_start,
            control_units=list(test.controls),
            treated_units=list(test.treated),
            model=model,
        )
    draws = causalpy_impact_draws(result, scale, seed=test.seed)
    return result, draws


def rows_from_draws(
    draws: xr.DataArray,
    *,
    channel: str,
    spend_before: dict[str, float],
    spend_change: dict[str, float],
    date_start: pd.Timestamp,
    date_end: pd.Timestamp,
    n_periods: int,
    national_spend: float | None = None,
    test_id: str | None = None,
    source: str = "geolift-causalpy",
    true_lift: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Lift rows from per-period impact draws (dims ``sample x treated_units``).

    One row per treated unit, plus the national aggregate (``geo = "national"``), whose
    draws are the per-draw sum over units (correlations kept). ``spend_before`` and
    ``spend_change`` are per unit and per period; the aggregate's ``x`` is
    ``national_spend`` (spend per period over all geos) or, if None, the treated units' sum.
    """
    base = {
        "test_id": test_id or f"{channel}-geolift-{date_start:%Y%m%d}",
        "channel": channel,
        "n_periods": int(n_periods),
        "date_start": pd.Timestamp(date_start).strftime("%Y-%m-%d"),
        "date_end": pd.Timestamp(date_end).strftime("%Y-%m-%d"),
        "aggregation": "mean",
        "source": source,
    }
    units = [str(u) for u in draws["treated_units"].values]
    missing = [u for u in units if u not in spend_before or u not in spend_change]
    if missing:
        raise ValueError(f"spend_before and spend_change need a value for treated units {missing}.")
    rows = []
    for u in units:
        lift = draws.sel(treated_units=u).to_numpy()
        rows.append(
            {
                "geo": u,
                **base,
                "x": float(spend_before[u]),
                "delta_x": float(spend_change[u]),
                "delta_y": float(lift.mean()),
                "sigma": float(lift.std(ddof=1)),
                **({"true_delta_y": true_lift[u]} if true_lift else {}),
            }
        )
    total = draws.sum("treated_units").to_numpy()
    rows.append(
        {
            "geo": "national",
            **base,
            "x": float(
                national_spend
                if national_spend is not None
                else sum(spend_before[u] for u in units)
            ),
            "delta_x": float(sum(spend_change[u] for u in units)),
            "delta_y": float(total.mean()),
            "sigma": float(total.std(ddof=1)),
            **({"true_delta_y": float(sum(true_lift[u] for u in units))} if true_lift else {}),
        }
    )
    return pd.DataFrame(rows)


def causalpy_to_lift_rows(
    result,
    *,
    channel: str,
    spend_before: dict[str, float],
    spend_change: dict[str, float],
    scale: dict[str, float] | pd.Series | None = None,
    national_spend: float | None = None,
    with_noise: bool = True,
    seed: int = 0,
    test_id: str | None = None,
) -> pd.DataFrame:
    """Lift rows from a fitted ``causalpy.SyntheticControl`` (PyMC model) of your own.

    The post period of ``result`` is the test window. ``spend_before`` / ``spend_change``:
    spend per period of the channel in each treated unit before / the change during the
    test. ``scale`` multiplies each unit's impact back to outcome units if you
    standardised the outcome. The counterfactual noise is added (see the module notes).
    """
    post = result.datapost.index
    draws = causalpy_impact_draws(
        result, None if scale is None else pd.Series(scale), with_noise=with_noise, seed=seed
    )
    return rows_from_draws(
        draws,
        channel=channel,
        spend_before=spend_before,
        spend_change=spend_change,
        date_start=post.min(),
        date_end=post.max(),
        n_periods=len(post),
        national_spend=national_spend,
        test_id=test_id,
    )


def geolift_rows(test: GeoLiftTest, draws: xr.DataArray) -> pd.DataFrame:
    """Lift rows of a simulated test, with the oracle's ``true_delta_y`` on every row."""
    d = test.design
    return rows_from_draws(
        draws,
        channel=d.channel,
        spend_before=test.spend_before,
        spend_change=test.spend_change,
        date_start=test.window_start,
        date_end=test.window_end,
        n_periods=d.n_periods,
        national_spend=test.national_spend,
        test_id=f"{d.channel}-geolift-{d.change}-{d.n_periods}w-s{test.seed}",
        true_lift=test.true_lift,
    )


def run_geolift(world: World, design: GeoLiftDesign, seed: int = 0) -> pd.DataFrame:
    """Design, simulate and analyse a geo-lift test; lift rows per treated geo + national."""
    test = design_geolift(world, design, seed)
    _, draws = analyze_geolift(test)
    rows = geolift_rows(test, draws)
    return validate_lift_table(
        rows, world.scenario.channel_names, dates=world.data["date"], geos=world.truth.geos
    )


def national_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The national aggregate rows of a geo-lift table, without the geo column (national MMMs)."""
    if "geo" not in table:
        return table.copy()
    return table[table["geo"] == "national"].drop(columns="geo").reset_index(drop=True)
