"""Model specs into pymc-marketing MMMs: the only module that constructs them.

A pymc-marketing upgrade (0.19 to 1.x) touches this module (and the component classes of
:mod:`mmmcal.models.components`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmmcal.models.components import adstock_class, saturation_class
from mmmcal.models.priors import to_prior
from mmmcal.models.roas import attach_roas, roas_class
from mmmcal.models.spec import InterceptHSGPConfig, ModelSpec

__all__ = ["TREND_PREFIX", "build_mmm", "load_mmm", "save_mmm"]

# Prefix of the trend's variables (``trend_t``, ``trend_effect_contribution``).
TREND_PREFIX = "trend"


def build_mmm(spec: ModelSpec):
    """Construct (not build) a ``pymc_marketing.mmm.multidimensional.MMM`` for ``spec``."""
    from pymc_marketing.mmm.multidimensional import MMM

    adstock_cls = adstock_class(spec.adstock.family)
    saturation_cls = saturation_class(spec.saturation.family, slope=spec.slope_parametrized)
    if spec.roas_prior is not None:
        saturation_cls = roas_class(saturation_cls, spec.saturation.family)
    model_config: dict[str, Any] = {
        name: to_prior(name, data) for name, data in spec.priors.items()
    }
    tvi = spec.time_varying_intercept
    if isinstance(tvi, InterceptHSGPConfig):
        # HSGPKwargs keys: pymc-marketing builds a SoftPlusHSGP over the period index and
        # saves the dict in the model's attrs (``MMM.load`` rebuilds it).
        model_config["intercept_tvp_config"] = tvi.model_dump()
    mmm = MMM(
        date_column=spec.date_column,
        target_column=spec.target_column,
        channel_columns=list(spec.channel_columns),
        control_columns=list(spec.model_controls) or None,
        dims=spec.dims or None,
        adstock=adstock_cls(l_max=spec.adstock.l_max, normalize=spec.adstock.normalize),
        saturation=saturation_cls(),
        yearly_seasonality=spec.yearly_seasonality,
        model_config=model_config or None,
        time_varying_intercept=bool(tvi),
    )
    if spec.roas_prior is not None:
        attach_roas(mmm, spec.roas_prior)
    if spec.trend.kind == "linear":
        from pymc_marketing.mmm.additive_effect import LinearTrendEffect
        from pymc_marketing.mmm.linear_trend import LinearTrend

        trend = LinearTrend(n_changepoints=spec.trend.n_changepoints)
        mmm.add_mu_effect(LinearTrendEffect(trend=trend, prefix=TREND_PREFIX))
    return mmm


def save_mmm(mmm, path: str | Path) -> None:
    """Write a fitted pymc-marketing MMM as netCDF, its deterministics in float32.

    The deterministics (contributions per draw and date) are nearly all of the file and are
    functions of the free variables, which keep float64: float32 (7 significant digits) halves
    the file and makes the write about five times faster. Random draws do not compress, so the
    file is written uncompressed.
    """
    import arviz as az

    idata = mmm.idata
    deterministics = {v.name for v in mmm.model.deterministics}
    posterior = idata.posterior
    small = posterior.assign(
        {
            name: posterior[name].astype("float32")
            for name in posterior.data_vars
            if name in deterministics and posterior[name].dtype == "float64"
        }
    )
    groups = {g: getattr(idata, g) for g in idata.groups()} | {"posterior": small}
    mmm.idata = az.InferenceData(attrs=dict(idata.attrs), **groups)
    try:  # pymc-marketing's save adds what its load needs (attrs, event groups)
        mmm.save(str(path), compress=False)
    finally:
        mmm.idata = idata  # the fit keeps its float64 draws


def load_mmm(path: str | Path):
    """Load a saved pymc-marketing MMM (netCDF); float32 deterministics are read as float64."""
    from pymc_marketing.mmm.multidimensional import MMM

    mmm = MMM.load(str(path))
    posterior = mmm.idata.posterior
    mmm.idata.posterior = posterior.assign(
        {
            name: posterior[name].astype("float64")
            for name in posterior.data_vars
            if posterior[name].dtype == "float32"
        }
    )
    return mmm
