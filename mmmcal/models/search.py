"""Nevergrad's hyperparameter search of the ridge engines, and the Pareto pick.

The search runs Nevergrad's ``TwoPointsDE`` on [0, 1]^d for ``budget`` evaluations of
several objectives (all minimised; a non-finite objective counts as 1e6).

Pareto rule: every evaluation is recorded; among the non-dominated ones, each objective is
min-max normalised over the front and the candidate closest (Euclidean) to the origin wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mmmcal.progress import progress_steps

__all__ = ["SearchResult", "pareto_pick", "search"]


def pareto_pick(losses: np.ndarray) -> tuple[int, int]:
    """Index of the selected evaluation (the Pareto rule) and the front's size.

    ``losses``: (evaluation, objective). Raises ``RuntimeError`` when none is finite.
    """
    finite = np.isfinite(losses).all(axis=1)
    idx = np.flatnonzero(finite)
    if not len(idx):
        raise RuntimeError("Every evaluation of the search failed (non-finite objectives).")
    f = losses[idx]
    le = (f[:, None, :] <= f[None, :, :]).all(axis=2)
    lt = (f[:, None, :] < f[None, :, :]).any(axis=2)
    dominated = (le & lt).any(axis=0)
    front = idx[~dominated]
    pf = losses[front]
    span = pf.max(axis=0) - pf.min(axis=0)
    norm = (pf - pf.min(axis=0)) / np.where(span > 0, span, 1.0)
    return int(front[np.argmin(np.sqrt((norm**2).sum(axis=1)))]), len(front)


@dataclass(frozen=True)
class SearchResult:
    """The Pareto pick ``best`` (a point of [0, 1]^d) and the size of the front it came from."""

    best: np.ndarray
    n_front: int


def search(
    objectives: Callable[[np.ndarray], list[float]],
    dim: int,
    *,
    budget: int,
    seed: int,
    progress: bool = False,
    label: str = "search",
) -> SearchResult:
    """Minimise ``objectives`` over [0, 1]^``dim`` with ``TwoPointsDE``; pick from the front."""
    import nevergrad as ng

    param = ng.p.Array(shape=(dim,), lower=0.0, upper=1.0)
    param.random_state = np.random.RandomState(seed)
    opt = ng.optimizers.TwoPointsDE(parametrization=param, budget=budget, num_workers=1)
    points, losses = [], []
    with progress_steps(progress, label, budget) as step:
        for _ in range(budget):
            cand = opt.ask()
            u = np.asarray(cand.value, dtype=float)
            with np.errstate(all="ignore"):
                loss = objectives(u)
            loss = [v if np.isfinite(v) else 1e6 for v in loss]
            opt.tell(cand, loss)
            points.append(u)
            losses.append(loss)
            step()
    best, n_front = pareto_pick(np.array(losses))
    return SearchResult(best=points[best], n_front=n_front)
