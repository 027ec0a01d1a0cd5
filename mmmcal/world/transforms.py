"""Adstock lag weights and saturation curves as plain numpy functions.

One definition for the simulator (:mod:`mmmcal.world.scenario`) and the ridge baselines
(:mod:`mmmcal.models.ridge_features`); each matches the pymc-marketing transformation of the
same name (``tests/test_truth.py`` checks that). Weights are per lag, lag 0 first,
unnormalised; spend ``x`` is in whatever units the caller scales it to.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = [
    "delayed_weights",
    "geometric_weights",
    "hill_saturation",
    "logistic_saturation",
    "michaelis_menten_saturation",
    "weibull_weights",
]


def geometric_weights(alpha: float, l_max: int) -> np.ndarray:
    """Geometric decay: the weight of lag ``k`` is ``alpha**k``."""
    return alpha ** np.arange(l_max, dtype=float)


def delayed_weights(alpha: float, theta: float, l_max: int) -> np.ndarray:
    """Delayed peak at lag ``theta``: the weight of lag ``k`` is ``alpha**((k - theta)**2)``."""
    lags = np.arange(l_max, dtype=float)
    return alpha ** ((lags - theta) ** 2)


def weibull_weights(lam: float, k: float, l_max: int, kind: str = "pdf") -> np.ndarray:
    """Weibull carryover with scale ``lam`` (periods) and shape ``k``, at lags ``1..l_max``.

    ``pdf``: the density, min-max scaled to [0, 1] (all ones when it is flat); ``cdf``: the
    running product of the survival function, starting at 1.
    """
    t = np.arange(l_max, dtype=float) + 1
    if kind == "pdf":
        w = stats.weibull_min.pdf(t, c=k, scale=lam)
        span = w.max() - w.min()
        return (w - w.min()) / span if span > 0 else np.ones(l_max)
    if kind != "cdf":
        raise ValueError(f"The Weibull `kind` {kind!r} must be one of ['cdf', 'pdf'].")
    survival = 1 - stats.weibull_min.cdf(t, c=k, scale=lam)
    return np.cumprod(np.concatenate([[1.0], survival]))[:l_max]


def logistic_saturation(x, lam):
    """``(1 - exp(-lam x)) / (1 + exp(-lam x))``."""
    e = np.exp(-lam * np.asarray(x, dtype=float))
    return (1 - e) / (1 + e)


def hill_saturation(x, slope, kappa):
    """``x**slope / (kappa**slope + x**slope)``; ``kappa`` is the half-saturation point.

    Negative ``x`` counts as zero.
    """
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    return x**slope / (kappa**slope + x**slope)


def michaelis_menten_saturation(x, lam):
    """``x / (lam + x)``; ``lam`` is the half-saturation point."""
    x = np.asarray(x, dtype=float)
    return x / (lam + x)
