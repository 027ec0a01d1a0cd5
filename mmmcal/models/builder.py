"""Model specs into pymc-marketing MMMs: the only module that constructs them.

A pymc-marketing upgrade (0.19 to 1.x) touches this module (and the component classes of
:mod:`mmmcal.models.components`).
"""

from __future__ import annotations

from pathlib import Path

from mmmcal.models.components import adstock_class, saturation_class
from mmmcal.models.priors import to_prior
from mmmcal.models.spec import ModelSpec

__all__ = ["build_mmm", "load_mmm"]


def build_mmm(spec: ModelSpec):
    """Construct (not build) a ``pymc_marketing.mmm.multidimensional.MMM`` for ``spec``."""
    from pymc_marketing.mmm.multidimensional import MMM

    adstock_cls = adstock_class(spec.adstock.family)
    saturation_cls = saturation_class(spec.saturation.family, slope=spec.slope_parametrized)
    model_config = {name: to_prior(name, data) for name, data in spec.priors.items()}
    return MMM(
        date_column=spec.date_column,
        target_column=spec.target_column,
        channel_columns=list(spec.channel_columns),
        control_columns=list(spec.control_columns) or None,
        dims=spec.dims or None,
        adstock=adstock_cls(l_max=spec.adstock.l_max, normalize=spec.adstock.normalize),
        saturation=saturation_cls(),
        yearly_seasonality=spec.yearly_seasonality,
        model_config=model_config or None,
    )


def load_mmm(path: str | Path):
    """Load a saved pymc-marketing MMM (netCDF)."""
    from pymc_marketing.mmm.multidimensional import MMM

    return MMM.load(str(path))
