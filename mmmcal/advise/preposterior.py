"""Preposterior analysis: what a test's outcome would teach a posterior, before it runs.

For one candidate test with model-implied lift ``L_d`` in each posterior draw ``d`` and
standard error ``sigma``, hypothetical outcomes ``y`` are drawn from the posterior
predictive (a draw's lift plus test noise). Each outcome updates the posterior by importance
weights ``w_d ~ N(y; L_d, sigma)``, Pareto-smoothed (PSIS, ArviZ); where the smoothing's
``k`` exceeds :data:`PARETO_K_MAX`, or their effective sample size is below
:data:`MIN_ESS` (a precise test's Gaussian weights are bounded, so ``k`` stays small while
few draws carry the weight), the weights cannot be trusted (the test would teach more than
the draws can show) and the outcome's update is the linear-Gaussian one instead (an
ensemble Kalman update of the draws with perturbed outcomes: exact when quantities and lift
are jointly Gaussian). Per outcome: the 90% interval width of each quantity, and the value of
the information for a budget decision (the expected response gained by re-optimising the
split after seeing ``y``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmmcal.decide.solver import best_split

__all__ = [
    "INTERVAL",
    "MIN_ESS",
    "PARETO_K_MAX",
    "Preposterior",
    "interval_widths",
    "preposterior",
]

PARETO_K_MAX = 0.7
MIN_ESS = 100  # draws: below this a 90% interval's ends rest on a handful of draws
INTERVAL = 0.9


@dataclass(frozen=True)
class Preposterior:
    """One candidate's hypothetical outcomes and what each would leave.

    ``widths``: (outcome, quantity) 90% interval widths after each outcome; ``decision_gain``:
    (outcome,) expected total response per period gained by re-optimising the budget split
    after it (target units); ``pareto_k``: (outcome,) PSIS ``k`` of its weights;
    ``ess``: (outcome,) the weights' effective sample size (draws); ``linear``: (outcome,)
    whether the linear-Gaussian update replaced the weights.
    """

    outcomes: np.ndarray
    widths: np.ndarray
    decision_gain: np.ndarray
    pareto_k: np.ndarray
    ess: np.ndarray
    linear: np.ndarray


def interval_widths(q: np.ndarray, w: np.ndarray | None = None, prob: float = INTERVAL):
    """Widths of central ``prob`` intervals of draws ``q`` (draw, quantity) under weights.

    ``w``: (outcome, draw) normalised weights, or None for equal weights. Returns
    (outcome, quantity), or (quantity,) without weights.
    """
    d = q.shape[0]
    weights = np.full((1, d), 1.0 / d) if w is None else w
    order = np.argsort(q, axis=0)  # (draw, quantity)
    cum = np.cumsum(weights[:, order], axis=1)  # (outcome, draw, quantity)
    tail = (1 - prob) / 2
    lo = np.argmax(cum >= tail, axis=1)  # (outcome, quantity)
    hi = np.argmax(cum >= 1 - tail, axis=1)
    sorted_q = np.take_along_axis(q, order, axis=0)
    cols = np.arange(q.shape[1])
    widths = sorted_q[hi, cols] - sorted_q[lo, cols]
    return widths[0] if w is None else widths


def _psis_weights(lift: np.ndarray, sigma: float, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised PSIS weights (outcome, draw) and their Pareto ``k`` (outcome,)."""
    import warnings

    import arviz as az

    log_w = -0.5 * ((y[:, None] - lift[None, :]) / sigma) ** 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arviz warns of large k; the caller falls back
        smoothed, k = az.psislw(log_w - log_w.max(axis=1, keepdims=True))
    w = np.exp(smoothed - smoothed.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True), np.asarray(k, dtype=float).reshape(len(y))


def _gain(x: np.ndarray, lift: np.ndarray, sigma: float) -> np.ndarray:
    """The linear-Gaussian update's gain of each column of ``x`` (draw, column).

    ``Cov(x, lift) / (Var(lift) + sigma^2)``: how far a column moves per unit of
    (outcome - lift).
    """
    cov = ((x - x.mean(0)) * (lift - lift.mean())[:, None]).mean(0)
    return cov / (lift.var() + sigma**2)


def _linear_widths(q, lift, sigma, y, rng) -> np.ndarray:
    """Interval widths after each outcome by the ensemble Kalman update (perturbed outcomes)."""
    noise = rng.normal(0.0, sigma, size=(len(y), len(lift)))
    innovation = y[:, None] + noise - lift[None, :]  # (outcome, draw)
    updated = q[None] + innovation[..., None] * _gain(q, lift, sigma)[None, None]
    tail = (1 - INTERVAL) / 2
    return np.quantile(updated, 1 - tail, axis=1) - np.quantile(updated, tail, axis=1)


def _decision_gain(curves, steps, w_mean_curves) -> np.ndarray:
    """Per outcome: best expected total after it minus the current split's expected total."""
    best, _ = best_split(w_mean_curves)  # (outcome,)
    channels = np.arange(curves.shape[1])
    current = w_mean_curves[:, channels, steps].sum(axis=-1)
    return np.maximum(best - current, 0.0)


def preposterior(
    lift: np.ndarray,
    sigma: float,
    quantities: np.ndarray,
    curves: np.ndarray,
    steps: np.ndarray,
    *,
    n_outcomes: int,
    rng: np.random.Generator,
) -> Preposterior:
    """What ``n_outcomes`` hypothetical outcomes of one test would leave.

    ``lift``: (draw,) model-implied lift per period; ``sigma``: its standard error (same
    units); ``quantities``: (draw, quantity) whose intervals the test may narrow;
    ``curves``: (draw, channel, step) each draw's response on the budget grid and ``steps``
    (channel,) today's recommended split on it (for the decision's value).
    """
    d = len(lift)
    y = lift[rng.integers(0, d, n_outcomes)] + rng.normal(0.0, sigma, n_outcomes)
    w, k = _psis_weights(lift, sigma, y)
    ess = 1.0 / (w**2).sum(axis=1)
    linear = ~(k <= PARETO_K_MAX) | (ess < min(MIN_ESS, d / 2))
    widths = interval_widths(quantities, w)
    mean_curves = np.einsum("md,dcs->mcs", w, curves)
    if linear.any():
        widths[linear] = _linear_widths(quantities, lift, sigma, y[linear], rng)
        flat = curves.reshape(d, -1)
        shift = (y[linear] - lift.mean())[:, None] * _gain(flat, lift, sigma)[None]
        mean_curves[linear] = (flat.mean(0)[None] + shift).reshape(-1, *curves.shape[1:])
    return Preposterior(y, widths, _decision_gain(curves, steps, mean_curves), k, ess, linear)
