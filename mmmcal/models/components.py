"""pymc-marketing's adstock and saturation classes by family, and slope coordinates.

A saturation sampled in slope coordinates is a subclass of pymc-marketing's own class
(:class:`SlopeParametrized` mixed in) that saves as the base class, so a saved model loads
as plain pymc-marketing.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = [
    "SLOPE_FAMILIES",
    "SlopeParametrized",
    "adstock_class",
    "saturation_class",
    "slope_class",
    "slope_supported",
    "subclass_saved_as_base",
]


def adstock_class(family: str):
    """pymc-marketing's adstock class for a model spec's adstock ``family``."""
    from pymc_marketing.mmm import (
        DelayedAdstock,
        GeometricAdstock,
        WeibullCDFAdstock,
        WeibullPDFAdstock,
    )

    return {
        "geometric": GeometricAdstock,
        "delayed": DelayedAdstock,
        "weibull_pdf": WeibullPDFAdstock,
        "weibull_cdf": WeibullCDFAdstock,
    }[family]


def saturation_class(family: str, slope: bool = False):
    """pymc-marketing's saturation class for ``family``; in slope coordinates if ``slope``."""
    from pymc_marketing.mmm import HillSaturation, LogisticSaturation, MichaelisMentenSaturation

    base = {
        "logistic": LogisticSaturation,
        "hill": HillSaturation,
        "michaelis_menten": MichaelisMentenSaturation,
    }[family]
    return slope_class(base, family) if slope else base


@cache
def slope_class(base, family: str):
    """``base`` sampled in slope coordinates; it saves (``to_dict``) as ``base`` itself."""
    return subclass_saved_as_base("Slope", SlopeParametrized, base, slope=SLOPE_FAMILIES[family])


def subclass_saved_as_base(prefix: str, mixin, base, **attributes):
    """``mixin`` over pymc-marketing's ``base``, registered to save (``to_dict``) as ``base``.

    So a saved model loads as plain pymc-marketing.
    """
    from pymc_marketing.serialization import serialization

    cls = type(f"{prefix}{base.__name__}", (mixin, base), attributes)
    as_base = f"{base.__module__}.{base.__qualname__}"
    serialization.register(cls, serializer=lambda obj: {**obj.to_dict(), "__type__": as_base})
    return cls


# Saturation families whose scale parameter is k * (initial slope) * shape**p, as
# (scale, shape, p, k). Initial slope: the response per unit of scaled, adstocked spend
# near zero spend.
# Logistic: beta * (1 - e^(-lam x)) / (1 + e^(-lam x)) ~ (beta * lam / 2) * x for small x.
# Michaelis-Menten: alpha * x / (lam + x) ~ (alpha / lam) * x for small x.
SLOPE_FAMILIES = {
    "logistic": ("beta", "lam", -1, 2.0),
    "michaelis_menten": ("alpha", "lam", 1, 1.0),
}

# How the parameters of a positive scale family change when X becomes c * X.
_SCALE_RULES = {
    "HalfNormal": {"sigma": "times"},
    "HalfStudentT": {"nu": "keep", "sigma": "times"},
    "HalfCauchy": {"beta": "times"},
    "Weibull": {"alpha": "keep", "beta": "times"},
    "Exponential": {"lam": "divide", "scale": "times"},
    "Gamma": {"alpha": "keep", "beta": "divide", "mu": "times", "sigma": "times"},
    "InverseGamma": {"alpha": "keep", "beta": "times", "mu": "times", "sigma": "times"},
    "LogNormal": {"mu": "log", "sigma": "keep"},
}


def slope_supported(scale_prior, shape_prior) -> bool:
    """Whether the slope parametrisation can carry ``scale_prior`` exactly.

    It must be a positive scale family with fixed parameters (no hierarchy, no transform)
    whose dims include those of ``shape_prior``.
    """
    rules = _SCALE_RULES.get(scale_prior.distribution)
    if rules is None or getattr(scale_prior, "transform", None) is not None:
        return False
    dims = tuple(scale_prior.dims or ())
    if not set(shape_prior.dims or ()) <= set(dims):
        return False
    for key, value in scale_prior.parameters.items():
        if key not in rules or hasattr(value, "distribution"):
            return False
        if np.ndim(value) not in (0, len(dims)):
            return False
    return True


def _rescaled(prior, factor):
    """pymc.dims distribution and parameters of ``factor * X`` for ``X ~ prior``."""
    import pymc.dims as pmd
    from pytensor.xtensor import as_xtensor
    from pytensor.xtensor import math as xmath

    params = {}
    for key, value in prior.parameters.items():
        value = np.asarray(value, dtype=float)
        param = as_xtensor(value, dims=tuple(prior.dims or ()) if value.ndim else ())
        rule = _SCALE_RULES[prior.distribution][key]
        if rule == "times":
            param = param * factor
        elif rule == "divide":
            param = param / factor
        elif rule == "log":
            param = param + xmath.log(factor)
        params[key] = param
    return getattr(pmd, prior.distribution), params


class SlopeParametrized:
    """Mixin for a pymc-marketing saturation: sample the curve's initial slope, not its scale.

    The data pin down a logistic curve's ``beta * lam`` (its slope at zero spend) far better
    than either parameter, so in the native parametrisation ``log beta`` and ``log lam``
    correlate at about -0.99 and NUTS needs long trajectories or a dense mass matrix. Here the
    free variables are the shape ``lam`` and ``{prefix}_initial_slope`` (``beta * lam / 2``;
    for Michaelis-Menten ``alpha / lam``); the scale parameter is a deterministic of them.
    ``slope | lam`` is the scale's prior rescaled (``beta ~ HalfNormal(s)`` gives
    ``slope | lam ~ HalfNormal(s * lam / 2)``), so the joint prior of (lam, beta), and with it
    the posterior, is exactly the native model's.
    """

    slope: tuple[str, str, int, float]

    def _create_distributions(self, idx=None):
        import pymc.dims as pmd

        if idx is not None:  # indexed parameters: pymc-marketing's own construction
            return super()._create_distributions(idx)
        scale, shape, power, k = self.slope
        names = self.variable_mapping
        shape_var = self.function_priors[shape].create_variable(names[shape], xdist=True)
        scale_prior = self.function_priors[scale]
        dist, params = _rescaled(scale_prior, shape_var ** (-power) / k)
        slope = dist(f"{self.prefix}_initial_slope", **params, dims=scale_prior.dims or None)
        scale_var = pmd.Deterministic(names[scale], k * slope * shape_var**power)
        return {shape: shape_var, scale: scale_var}
