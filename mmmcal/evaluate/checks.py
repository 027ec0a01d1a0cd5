"""Plain-language checks of a fit: PASS / REVIEW / FAIL, what happened, and what to do.

Bayesian fits (:class:`mmmcal.models.bayes.CalibratedMMM`) are checked on their sampler
diagnostics (divergences, R-hat, bulk ESS); the baseline engines
(:mod:`mmmcal.models.baselines`) on their hyperparameter search, bootstrap intervals and
lift fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Check", "diagnostic_checks", "is_bayesian"]


@dataclass(frozen=True)
class Check:
    """A sampler or model check: PASS / REVIEW / FAIL, what happened, and what to do."""

    model: str
    name: str
    status: str
    message: str
    recommendation: str = ""


def is_bayesian(model: Any) -> bool:
    """Whether ``model`` is a Bayesian fit (posterior draws) rather than a baseline engine."""
    from mmmcal.models.bayes import CalibratedMMM

    return isinstance(model, CalibratedMMM)


def diagnostic_checks(model: Any) -> list[Check]:
    """Plain-language checks of one fit's sampler diagnostics (a baseline's search)."""
    if not is_bayesian(model):
        return _search_checks(model)
    return [_divergence_check(model), _rhat_check(model), _ess_check(model)]


def _divergence_check(model: Any) -> Check:
    d = model.diagnostics_
    if d.divergences == 0:
        return Check(model.name, "divergences", "PASS", "No divergent transitions.")
    return Check(
        model.name,
        "divergences",
        "FAIL",
        f"{d.divergences} divergent transitions: the sampler met regions it could not "
        "explore, so the posterior may be biased.",
        "Raise target_accept (e.g. 0.95), tighten weakly identified priors, or reparametrise.",
    )


def _rhat_check(model: Any) -> Check:
    rhat = model.diagnostics_.max_rhat
    if not np.isfinite(rhat):
        return Check(
            model.name, "R-hat", "REVIEW", "R-hat needs at least two chains.", "Run 4 chains."
        )
    if rhat <= 1.01:
        return Check(model.name, "R-hat", "PASS", f"Chains agree (max R-hat {rhat:.3f}).")
    return Check(
        model.name,
        "R-hat",
        "FAIL" if rhat > 1.05 else "REVIEW",
        f"Chains disagree (max R-hat {rhat:.3f} > 1.01): some chain may be stuck.",
        "Run more tuning and draws; check for multimodality.",
    )


def _ess_check(model: Any) -> Check:
    d = model.diagnostics_
    need = d.ess_needed
    if np.isfinite(d.min_ess_bulk) and d.min_ess_bulk >= need:
        return Check(
            model.name,
            "ESS",
            "PASS",
            f"Enough independent draws (min bulk ESS {d.min_ess_bulk:.0f}).",
        )
    return Check(
        model.name,
        "ESS",
        "REVIEW",
        f"Few independent draws (min bulk ESS {d.min_ess_bulk:.0f} < {need}): "
        "intervals are imprecise.",
        "Draw more samples.",
    )


def _search_checks(model: Any) -> list[Check]:
    """Checks of a baseline engine's hyperparameter search (it has no sampler to check)."""
    d = model.diagnostics_
    checks = [
        Check(
            model.name,
            "search",
            "PASS" if d.ok else "FAIL",
            f"Nevergrad evaluated {d.n_evaluations} hyperparameter sets; the pick from the "
            f"Pareto front ({d.n_pareto} sets) has NRMSE {d.nrmse:.3f} and DECOMP.RSSD "
            f"{d.decomp_rssd:.3f}.",
        ),
        Check(
            model.name,
            "intervals",
            "REVIEW",
            f"Intervals come from {d.n_bootstrap} block-bootstrap refits at the selected "
            "hyperparameters; they ignore the hyperparameters' uncertainty.",
            "Read them as lower bounds on the uncertainty, not as posterior intervals.",
        ),
    ]
    if d.mape_lift is not None:
        good = d.mape_lift <= 0.1
        checks.append(
            Check(
                model.name,
                "lift fit",
                "PASS" if good else "REVIEW",
                f"The model-implied lifts miss the tests by {100 * d.mape_lift:.1f}% on average "
                "(MAPE.LIFT).",
                "" if good else "Raise the search budget, or check the tests against each other.",
            )
        )
    return checks
