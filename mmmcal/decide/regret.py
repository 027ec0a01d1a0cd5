"""Regret: how much a recommended allocation loses against the best one, truly and by the model.

``regret = (R(best) - R(recommended)) / (R(best) - R(today))`` for a total steady-state
response ``R`` per period at the same budget and bounds: 0 is the best allocation, 1 no better
than today's. :func:`true_regret` uses the simulator's true curves (``truth.json``; the true
best found as the model's, on the same grid); :func:`regret_draws` each posterior draw's own
curves, so that the model's 90% interval of regret can be checked against the true regret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mmmcal.decide.allocate import INTERVAL, Allocation, optimize_budget
from mmmcal.decide.solver import best_split, best_totals
from mmmcal.evaluate.intervals import central_interval

__all__ = [
    "COARSE_STEPS",
    "TrueRegret",
    "decision",
    "decision_summary",
    "model_regret",
    "regret_draws",
    "score_decision",
    "true_regret",
]

# Steps of the grid on which each draw's own best allocation is found (values only: the
# best total is flat near its optimum, so a coarse grid loses little).
COARSE_STEPS = 200


def _regret(best: np.ndarray, recommended: np.ndarray, today: np.ndarray) -> np.ndarray:
    gain = best - today
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            gain > 1e-12 * np.maximum(abs(best), 1.0), (best - recommended) / gain, np.nan
        )


def regret_draws(allocation: Allocation) -> np.ndarray:
    """The recommendation's regret under each draw's own curves, (draw,).

    NaN where a draw sees no gain over today at all.
    """
    grid, curves = allocation.grid, allocation.curves
    stride = max(1, grid.n_steps // COARSE_STEPS)
    while grid.n_steps % stride:  # the coarse grid must end at the whole budget
        stride -= 1
    best = best_totals(curves[..., ::stride])
    today = allocation.today_draws.sum(axis=1)
    recommended = today + allocation.change_draws.sum(axis=1)
    return _regret(np.maximum(best, recommended), recommended, today)


def model_regret(allocation: Allocation) -> dict[str, Any]:
    """The model's own expected regret: mean and central 90% interval over draws."""
    draws = regret_draws(allocation)
    ok = draws[np.isfinite(draws)]
    if not len(ok):
        return {"expected": None, "interval": None, "n_draws": 0}
    lo, hi = central_interval(ok, INTERVAL)
    return {"expected": float(ok.mean()), "interval": [float(lo), float(hi)], "n_draws": len(ok)}


@dataclass(frozen=True)
class TrueRegret:
    """The recommendation scored with the true curves (responses per period, target units)."""

    regret: float
    best_spend: np.ndarray
    response_today: float
    response_recommended: float
    response_best: float

    def to_dict(self, channels: tuple[str, ...]) -> dict[str, Any]:
        return {
            "regret": None if not np.isfinite(self.regret) else self.regret,
            "true_best_spend": dict(zip(channels, self.best_spend.tolist(), strict=True)),
            "true_response_today": self.response_today,
            "true_response_recommended": self.response_recommended,
            "true_response_best": self.response_best,
        }


def true_regret(allocation: Allocation, truth: dict[str, Any]) -> TrueRegret:
    """Regret of ``allocation`` under the true curves of ``truth`` (a ``truth.json`` document).

    ``ValueError`` for geo worlds (their national curve depends on the split over geos) and
    for a truth without one of the model's channels.
    """
    from mmmcal.report.posterior import true_curve

    channels = allocation.channels
    missing = [c for c in channels if c not in truth.get("channels", {})]
    if missing:
        raise ValueError(f"The truth has no channel(s) {missing}; was it written for this world?")

    def curves(spend: np.ndarray) -> np.ndarray:  # spend (..., channel) -> (channel, ...)
        parts = []
        for i, c in enumerate(channels):
            part = true_curve(truth, c, np.asarray(spend[..., i]))
            if part is None:
                raise ValueError("True regret is not available for geo worlds yet.")
            parts.append(part)
        return np.stack(parts)

    grid = allocation.grid
    values = curves(grid.spend())  # (channel, step)
    best = grid.allocation(best_split(values)[1])
    r_today, r_rec, r_best = (
        float(curves(x).sum()) for x in (allocation.today, allocation.recommended, best)
    )
    r_best = max(r_best, r_rec)  # the grid's best can trail a recommendation found off it
    return TrueRegret(
        float(_regret(np.array(r_best), np.array(r_rec), np.array(r_today))),
        best,
        r_today,
        r_rec,
        r_best,
    )


def score_decision(model: Any, truth: dict[str, Any]) -> dict[str, Any]:
    """The default decision of ``model`` (today's budget, default bounds) scored with ``truth``.

    ``regret`` (true), the model's ``model_regret`` with its 90% interval
    (``model_regret_lo``, ``model_regret_hi``) and ``regret_covered``: whether the true regret
    lies in that interval. ``ValueError`` for geo worlds (see :func:`true_regret`).
    """
    doc = decision(model, truth=truth)
    true = doc["true"]["regret"]
    own = doc["model_regret"]
    lo, hi = own["interval"] or (float("nan"), float("nan"))
    covered = None if true is None or not own["interval"] else bool(lo - 1e-9 <= true <= hi + 1e-9)
    return {
        "regret": float("nan") if true is None else true,
        "model_regret": float("nan") if own["expected"] is None else own["expected"],
        "model_regret_lo": lo,
        "model_regret_hi": hi,
        "regret_covered": covered,
    }


def decision(
    model: Any,
    budget: float | None = None,
    *,
    truth: dict[str, Any] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A fit's budget split as plain values: the allocation, the model's regret, the truth's.

    ``options`` go to :func:`~mmmcal.decide.allocate.optimize_budget` (``bounds``,
    ``objective``, ``risk_aversion``); ``truth`` (a ``truth.json`` document of a national
    world) adds ``true``: the true regret and the true best split.
    """
    allocation = optimize_budget(model, budget, **options)
    doc = allocation.to_dict() | {"model_regret": model_regret(allocation)}
    if truth is not None:
        doc["true"] = true_regret(allocation, truth).to_dict(allocation.channels)
    return doc


def decision_summary(doc: dict[str, Any]) -> str:
    """A :func:`decision` document in one line.

    P(beats today), the model's expected regret [90%] and, with the truth, the true regret.
    """
    own = doc["model_regret"]
    line = f"P(beats today) {doc['p_beats_today']:.2f}"
    if own["expected"] is not None:
        lo, hi = own["interval"]
        line += f"; the model's expected regret {own['expected']:.3f} [{lo:.3f}, {hi:.3f}]"
    true = doc.get("true", {}).get("regret")
    return line + ("" if true is None else f"; true regret {true:.3f}")
