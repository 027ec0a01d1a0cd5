"""The lift-bounded ridge engine: :class:`BoundedMMM`.

The ridge's transforms (:mod:`mmmcal.models.ridge`), searched without the lift term (NRMSE
and DECOMP.RSSD), then each tested channel's coefficient bounded by its lift tests and
solved with cvxpy, in the fit and in every bootstrap refit.

Bounds rule: a row measures ``beta * g`` (``g``: its modelled lift per unit coefficient), so
it estimates ``beta`` as ``delta_y / g`` with standard error ``sigma / |g|``. A channel's rows
(the weeks of one test, or several tests) are combined by precision weighting, and its
coefficient is bounded to ``estimate +/- z se`` (``z = 1.96`` by default) and ``beta >= 0``.
A bound entirely below zero, a row whose spend change has no modelled response (``g = 0``)
or an unknown channel is an error naming the rows.
"""

from __future__ import annotations

import dataclasses
import time
from typing import ClassVar

import numpy as np
import pandas as pd

from mmmcal.models.ridge import RidgeMMM
from mmmcal.models.ridge_lift import LiftRows
from mmmcal.models.ridge_store import RidgeFitValues

__all__ = ["BoundedMMM", "coefficient_bounds"]


def coefficient_bounds(
    rows: LiftRows, g: np.ndarray, channels: list[str], z: float
) -> dict[str, tuple[float, float]]:
    """Coefficient interval (target units per unit feature) of each tested channel.

    ``g`` is each lift row's lift per unit coefficient at the selected transforms; the
    bounds rule of the module docstring.
    """
    out: dict[str, tuple[float, float]] = {}
    for k, c in enumerate(channels):
        idx = np.flatnonzero(rows.channel_idx == k)
        if not len(idx):
            continue
        dead = idx[np.abs(g[idx]) < 1e-12]
        if len(dead):
            raise ValueError(
                f"Lift rows {dead.tolist()} ({c}): the spend change gives no modelled "
                "response at the selected transforms, so no coefficient bound follows. "
                "Check x/delta_x, or drop the rows."
            )
        # Each row measures beta * g: beta_i = delta_y / g with se sigma / |g|. The rows of a
        # channel are combined by precision weighting (their joint Gaussian likelihood),
        # so weekly rows of one test, or several tests, tighten the bound together.
        b_i = rows.delta_y[idx] / g[idx]
        w_i = (g[idx] / rows.sigma[idx]) ** 2
        estimate, se = float(np.sum(w_i * b_i) / np.sum(w_i)), float(np.sum(w_i) ** -0.5)
        lo, hi = max(0.0, estimate - z * se), estimate + z * se
        if hi <= 0:
            raise ValueError(
                f"The lift tests on {c} imply a coefficient of {estimate:.4g} "
                f"(+/- {z:g} x {se:.3g}), below zero, but media coefficients are >= 0: "
                "check the sign of delta_y and delta_x, or fit --engine ridge."
            )
        out[c] = (lo, hi)
    return out


class BoundedMMM(RidgeMMM):
    """Ridge with lift-implied coefficient bounds, solved with cvxpy (see module docstring).

    The transforms are the ridge search's selection without the lift term; the bounds
    are then derived at those transforms and every solve (fit and bootstrap) respects them.
    Learned state beyond the ridge's: ``bounds_``, the interval of each tested channel.
    """

    engine: ClassVar[str] = "bounded"

    def _bounded_solver(self, bounds: dict[str, tuple[float, float]]):
        """A ``solve(media, lam, y)`` like the ridge's, with the bounds, via cvxpy."""
        import cvxpy as cp

        k, q = len(self.channels), self.inputs_.free.shape[1]
        bounded = [(self.channels.index(c), lo, hi) for c, (lo, hi) in bounds.items()]

        def solve(media, lam, y):
            X, mean, sd = self._design(media)
            sy = float(np.std(y)) or 1.0  # unit-scale target: better conditioned for the solver
            A = np.vstack([(X - mean) / sd, np.sqrt(lam) * np.eye(k + q)])
            rhs = np.concatenate([(y - y.mean()) / sy, np.zeros(k + q)])
            b = cp.Variable(k + q)
            limits = [b[:k] >= 0]
            for i, lo, hi in bounded:
                limits += [b[i] >= lo * sd[i] / sy, b[i] <= hi * sd[i] / sy]
            problem = cp.Problem(cp.Minimize(cp.sum_squares(A @ b - rhs)), limits)
            problem.solve(solver=cp.CLARABEL)
            if problem.status not in ("optimal", "optimal_inaccurate"):
                raise RuntimeError(f"cvxpy could not solve the bounded ridge: {problem.status}.")
            coef = np.asarray(b.value) * sy / sd
            return coef, float(y.mean() - mean @ coef)

        return solve

    def fit(self, data: pd.DataFrame) -> BoundedMMM:
        """Search without the lift term, bound tested channels, solve and bootstrap with cvxpy."""
        start = time.perf_counter()
        self._start_fit(data)
        hp, n_front = self._search(use_lift=False)
        self.bounds_: dict[str, tuple[float, float]] = {}
        if self.lift_rows_ is not None:
            g = self.lift_rows_.unit_lift(*self._features(hp).curve)
            self.bounds_ = coefficient_bounds(self.lift_rows_, g, self.channels, self.config.z)
        self._finish(hp, self._bounded_solver(self.bounds_), n_front, start)
        return self

    def stored_values(self) -> RidgeFitValues:
        return dataclasses.replace(super().stored_values(), bounds=self.bounds_)

    def _restore(self, values: RidgeFitValues) -> None:
        super()._restore(values)
        self.bounds_ = dict(values.bounds or {})
