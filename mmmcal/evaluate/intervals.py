"""Credible intervals of posterior (or bootstrap) draws, in the units of the draws.

Two kinds, named for what they are: :func:`hdi` is the narrowest interval holding ``prob``
of the draws (ArviZ's highest-density interval, what scorecards report); :func:`central_interval`
is the equal-tailed interval between the ``(1 - prob) / 2`` and ``(1 + prob) / 2`` quantiles
(what the report's bands show, one per grid point or date).
"""

from __future__ import annotations

import numpy as np

__all__ = ["central_interval", "hdi"]


def hdi(draws: np.ndarray, prob: float = 0.9) -> tuple[float, float]:
    """Highest-density interval of all ``draws`` (flattened) holding ``prob`` of them."""
    import arviz as az

    lo, hi = az.hdi(np.asarray(draws, dtype=float).ravel(), hdi_prob=prob)
    return float(lo), float(hi)


def central_interval(
    draws: np.ndarray, prob: float = 0.9, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed interval along ``axis``, from the (1 - prob) / 2 to the (1 + prob) / 2 quantile.

    Returns (lower, upper), each shaped like ``draws`` without ``axis``.
    """
    tail = (1 - prob) / 2
    return np.quantile(draws, tail, axis=axis), np.quantile(draws, 1 - tail, axis=axis)
