"""Budget allocation: the split of a per-period budget that a fitted model expects to sell most.

:func:`optimize_budget` takes any fitted engine (the Bayesian MMM's posterior draws, or a
baseline's bootstrap draws), evaluates each draw's steady-state response curve of every
channel (:func:`mmmcal.report.posterior.response_draws`: spend sustained every period, carry
over built up) on a grid between the channels' bounds, and splits the budget by dynamic
programming (:mod:`mmmcal.decide.solver`). The steady state is what a lasting budget change
earns and what the simulator's truth gives, so the truth's optimum is found the same way
(:mod:`mmmcal.decide.regret`). pymc-marketing's ``BudgetOptimizer`` answers another
question (a spend path over a future horizon, for its own MMM only), so it is not used.

Objectives: ``neutral`` maximises the expected total response; ``mean_minus_sd`` maximises
expected total minus ``risk_aversion`` times its posterior standard deviation (SciPy's SLSQP,
started from the neutral split). The result names the objective.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from mmmcal.decide.solver import SpendGrid, best_split
from mmmcal.evaluate.intervals import central_interval
from mmmcal.models.learned_state import check_fitted
from mmmcal.options import OBJECTIVES

__all__ = [
    "DEFAULT_RANGE",
    "Allocation",
    "Objective",
    "model_curves",
    "optimize_budget",
    "response_at",
    "spend_bounds",
    "today_spend",
]

Objective = Literal["neutral", "mean_minus_sd"]
# Default bounds per channel, as multiples of today's spend: beyond the spend the data saw,
# a model's curve is extrapolation.
DEFAULT_RANGE = (0.5, 1.5)
INTERVAL = 0.9


@dataclass(frozen=True)
class Allocation:
    """A recommended split of a per-period budget, and what the model expects of it.

    Per channel (``table()``): today's spend, the bounds, the recommended spend, and the
    expected change in response per period (mean and central 90% interval over draws), all
    per period in the data's units. ``p_beats_today``: the share of draws in which the
    recommendation's total response exceeds today's.
    """

    model: str
    objective: str
    budget: float
    channels: tuple[str, ...]
    today: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    recommended: np.ndarray
    today_draws: np.ndarray = field(repr=False)  # (draw, channel): response at today's spend
    change_draws: np.ndarray = field(repr=False)  # (draw, channel): response change per period
    grid: SpendGrid = field(repr=False)
    curves: np.ndarray = field(repr=False)  # (draw, channel, step): response on the grid

    @property
    def p_beats_today(self) -> float:
        return float((self.change_draws.sum(axis=1) > 0).mean())

    def table(self) -> pd.DataFrame:
        """One row per channel: spends, bounds and the expected response change [90%]."""
        lo, hi = central_interval(self.change_draws, INTERVAL)
        return pd.DataFrame(
            {
                "channel": list(self.channels),
                "today": self.today,
                "lower_bound": self.lo,
                "upper_bound": self.hi,
                "recommended": self.recommended,
                "response_change": self.change_draws.mean(axis=0),
                "response_change_lo": lo,
                "response_change_hi": hi,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain values: the table's rows, the totals and the objective."""
        total = self.change_draws.sum(axis=1)
        lo, hi = central_interval(total, INTERVAL)
        return {
            "model": self.model,
            "objective": self.objective,
            "budget_per_period": self.budget,
            "channels": self.table().to_dict(orient="records"),
            "total_response_change": float(total.mean()),
            "total_response_change_interval": [float(lo), float(hi)],
            "p_beats_today": self.p_beats_today,
        }


def spend_bounds(
    channels: list[str],
    today: np.ndarray,
    bounds: Mapping[str, Mapping[str, float]] | None = None,
    default: tuple[float, float] = DEFAULT_RANGE,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper spend per period per channel: ``bounds`` where given, else the default.

    ``bounds``: channel -> ``{"min": ..., "max": ...}`` (spend per period; either may be
    left out); the default is ``default`` times today's spend. Errors name the channel.
    """
    bounds = dict(bounds or {})
    unknown = sorted(set(bounds) - set(channels))
    if unknown:
        raise ValueError(
            f"bounds name channel(s) {unknown} that the model does not have; its channels "
            f"are {channels}."
        )
    lo, hi = default[0] * today.astype(float), default[1] * today.astype(float)
    for i, c in enumerate(channels):
        given = dict(bounds.get(c) or {})
        extra = sorted(set(given) - {"min", "max"})
        if extra:
            raise ValueError(f"bounds for {c!r} have key(s) {extra}; use 'min' and 'max'.")
        lo[i] = float(given.get("min", lo[i]))
        hi[i] = float(given.get("max", hi[i]))
        if not (np.isfinite(lo[i]) and np.isfinite(hi[i]) and 0 <= lo[i] <= hi[i]):
            raise ValueError(
                f"bounds for {c!r}: min {lo[i]:g} and max {hi[i]:g} must be finite with "
                "0 <= min <= max (spend per period)."
            )
    return lo, hi


def today_spend(model: Any) -> np.ndarray:
    """Mean spend per period of each channel over the fitted data (spec order)."""
    channels = list(model.spec.channel_columns)
    n_periods = model.data_.X[model.spec.date_column].nunique()
    return model.spend_totals()[channels].to_numpy(dtype=float) / n_periods


def _check_budget(budget: float, lo: np.ndarray, hi: np.ndarray) -> float:
    budget = float(budget)
    if not (np.isfinite(budget) and budget > 0):
        raise ValueError(f"The budget {budget:g} must be a positive spend per period.")
    if not lo.sum() <= budget <= hi.sum():
        raise ValueError(
            f"The budget {budget:,.2f} per period cannot be split within the bounds: they "
            f"allow {lo.sum():,.2f} to {hi.sum():,.2f}; widen the bounds or change the budget."
        )
    return budget


def model_curves(model: Any, grid: SpendGrid) -> np.ndarray:
    """Each draw's steady-state response on the grid, (draw, channel, step), target units."""
    from mmmcal.report.posterior import response_draws

    return np.transpose(response_draws(model, grid.spend()), (0, 2, 1))


def _risk_averse(curves: np.ndarray, grid: SpendGrid, start: np.ndarray, aversion: float):
    """The split maximising mean - ``aversion`` x sd of the total response (SLSQP)."""
    from scipy.optimize import minimize

    points = grid.spend().T  # (channel, step)

    def totals(x: np.ndarray) -> np.ndarray:
        per = [np.array([np.interp(x[c], points[c], d[c]) for d in curves]) for c in range(len(x))]
        return np.sum(per, axis=0)

    scale = max(abs(float(totals(start).mean())), 1e-12)  # a constant: loss of order 1

    def loss(x: np.ndarray) -> float:
        t = totals(x)
        return -float(t.mean() - aversion * t.std()) / scale

    found = minimize(
        loss,
        start,
        method="SLSQP",
        bounds=list(zip(grid.lo, grid.hi, strict=True)),
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - grid.budget}],
        options={"maxiter": 200, "ftol": 1e-10},
    )
    return found.x if found.success and loss(found.x) <= loss(start) else start


def optimize_budget(
    model: Any,
    budget: float | None = None,
    *,
    bounds: Mapping[str, Mapping[str, float]] | None = None,
    objective: Objective = "neutral",
    risk_aversion: float = 1.0,
    n_steps: int = 1000,
) -> Allocation:
    """The split of ``budget`` that ``model`` expects to earn most from, within ``bounds``.

    ``budget``: spend per period (default: today's total); ``bounds``: see
    :func:`spend_bounds`. National fits of any engine. Errors name the field: a budget <= 0
    or outside what the bounds allow, a channel the model does not have, a geo model
    (``ValueError``); an unfitted model (``RuntimeError``).
    """
    check_fitted(model, "data_")
    if model.spec.geo_column:
        raise ValueError(
            "Budget optimisation of geo models is not supported yet; fit a national model "
            "(no geo_column) to optimise its budget."
        )
    if objective not in OBJECTIVES:
        raise ValueError(f"The objective {objective!r} must be one of {list(OBJECTIVES)}.")
    channels = list(model.spec.channel_columns)
    today = today_spend(model)
    lo, hi = spend_bounds(channels, today, bounds)
    budget = _check_budget(today.sum() if budget is None else budget, lo, hi)
    grid = SpendGrid(tuple(channels), lo, hi, budget, n_steps)
    curves = model_curves(model, grid)
    _, steps = best_split(curves.mean(axis=0))
    recommended = grid.allocation(steps)
    name = "expected total response"
    if objective == "mean_minus_sd":
        recommended = _risk_averse(curves, grid, recommended, risk_aversion)
        name = f"expected total response - {risk_aversion:g} x its posterior sd"
    at = response_at(model, np.stack([today, recommended]))  # (draw, split, channel)
    return Allocation(
        model=model.name,
        objective=name,
        budget=budget,
        channels=tuple(channels),
        today=today,
        lo=lo,
        hi=hi,
        recommended=recommended,
        today_draws=at[:, 0],
        change_draws=at[:, 1] - at[:, 0],
        grid=grid,
        curves=curves,
    )


def response_at(model: Any, spend: np.ndarray) -> np.ndarray:
    """Each draw's steady-state response per channel at ``spend`` per period.

    ``spend``: (channel,) gives (draw, channel); (split, channel) gives (draw, split, channel).
    """
    from mmmcal.report.posterior import response_draws

    spend = np.asarray(spend, dtype=float)
    out = response_draws(model, np.atleast_2d(spend))
    return out[:, 0, :] if spend.ndim == 1 else out
