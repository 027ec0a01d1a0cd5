"""Lift rows as arrays for the ridge engines, and their MAPE.LIFT objective.

MAPE.LIFT: mean over lift rows of ``|lift_model - delta_y| / |delta_y|``. The model lift of a
row is computed exactly as :mod:`mmmcal.models.lift_likelihood` defines it: spend steady at
``x`` long enough for carryover to settle, then ``x + delta_x`` for ``n_periods``; the media
response with minus without the change, over the measured periods (``measured_from`` ..
``measured_to``), averaged or summed per ``aggregation``. Rows without a window use the
steady-state curve difference. At fixed transforms the lift is ``beta * g`` (``beta`` the
channel's coefficient, ``g`` the lift of the transformed feature, :meth:`LiftRows.unit_lift`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mmmcal.lift.windows import split_rows, to_per_period
from mmmcal.models.lift_likelihood import WindowLiftTerm
from mmmcal.world.transforms import hill_saturation

__all__ = ["LiftRows", "mape_lift"]


@dataclass(frozen=True)
class LiftRows:
    """A validated lift table as arrays for the model-implied lift ``beta * g`` of each row.

    ``delta_y`` and ``sigma`` are per row in the row's own units (steady-state rows per
    period); window rows sit at ``window_pos``, steady-state rows at ``steady_pos``.
    """

    channel_idx: np.ndarray
    delta_y: np.ndarray
    sigma: np.ndarray
    window: WindowLiftTerm | None
    window_pos: np.ndarray
    steady_x: np.ndarray
    steady_dx: np.ndarray
    steady_idx: np.ndarray
    steady_pos: np.ndarray

    @classmethod
    def from_table(cls, table: pd.DataFrame, channels: list[str], l_max: int, dates) -> LiftRows:
        """Arrays of a validated lift ``table`` for a model of ``channels`` over ``dates``.

        Raises ``ValueError`` naming the rows whose ``delta_y`` is 0 (MAPE.LIFT divides by it).
        """
        table = table.reset_index(drop=True)
        window, steady = split_rows(table, pd.DatetimeIndex(dates), "auto")
        steady = to_per_period(steady)
        zero = np.flatnonzero(table["delta_y"].to_numpy(dtype=float) == 0)
        if len(zero):
            raise ValueError(
                f"Lift rows {zero.tolist()} have delta_y = 0; MAPE.LIFT divides by it. "
                "Drop them or report the measured lift."
            )
        delta_y = table["delta_y"].to_numpy(dtype=float).copy()
        sigma = table["sigma"].to_numpy(dtype=float).copy()
        delta_y[steady.index] = steady["delta_y"].to_numpy(dtype=float)
        sigma[steady.index] = steady["sigma"].to_numpy(dtype=float)
        term = None
        if len(window):
            term = WindowLiftTerm.from_rows(window, channels, l_max, np.ones(len(channels)))
        return cls(
            channel_idx=np.array([channels.index(c) for c in table["channel"]]),
            delta_y=delta_y,
            sigma=sigma,
            window=term,
            window_pos=window.index.to_numpy(),
            steady_x=steady["x"].to_numpy(dtype=float),
            steady_dx=steady["delta_x"].to_numpy(dtype=float),
            steady_idx=np.array([channels.index(c) for c in steady["channel"]], dtype=int),
            steady_pos=steady.index.to_numpy(),
        )

    def unit_lift(
        self, weights: np.ndarray, alpha: np.ndarray, inflexion: np.ndarray
    ) -> np.ndarray:
        """Lift per unit coefficient ``g`` of each row.

        ``weights``: (channel, lag) adstock weights; ``alpha`` and ``inflexion``: per channel
        Hill exponent and inflexion (adstocked currency per period).
        """
        g = np.zeros(len(self.delta_y))
        l_max = weights.shape[1]
        cw = np.concatenate([np.zeros((len(weights), 1)), np.cumsum(weights, axis=1)], axis=1)
        if self.window is not None:
            w = self.window
            c = w.channel_idx
            rows = np.arange(len(c))[:, None]
            cwr = cw[c]
            base = (w.x * cwr[:, l_max])[:, None]
            treated = base + w.delta_x[:, None] * (cwr[rows, w.hi] - cwr[rows, w.lo])
            a, k = alpha[c][:, None], inflexion[c][:, None]
            diff = hill_saturation(treated, a, k) - hill_saturation(base, a, k)
            g[self.window_pos] = (diff * w.mask).sum(axis=1) / w.divisor
        if len(self.steady_pos):
            c = self.steady_idx
            total = cw[c, l_max]
            a, k = alpha[c], inflexion[c]
            g[self.steady_pos] = hill_saturation(
                (self.steady_x + self.steady_dx) * total, a, k
            ) - hill_saturation(self.steady_x * total, a, k)
        return g


def mape_lift(beta: np.ndarray, g: np.ndarray, rows: LiftRows) -> float:
    """MAPE.LIFT: mean of ``|beta_c * g - delta_y| / |delta_y|`` over lift rows."""
    implied = beta[rows.channel_idx] * g
    return float(np.mean(np.abs(implied - rows.delta_y) / np.abs(rows.delta_y)))
