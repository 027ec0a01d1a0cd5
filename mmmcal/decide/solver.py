"""The best split of a budget over channels whose responses add up, on a grid of spend.

A channel's steady-state response depends on its own spend only, so the best allocation of a
budget is a separable problem: dynamic programming over a grid of ``n_steps`` equal steps of
the budget left above the channels' lower bounds finds the global optimum at the grid's
resolution for any curve shape (S-shaped Hill curves included, where a gradient method can
stop at a local optimum). It runs over any leading batch axes (one problem per posterior
draw at once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SpendGrid", "best_split", "best_totals"]

_CHUNK_CELLS = 5_000_000  # floats a batch of problems may hold per channel (batch x steps^2)


@dataclass(frozen=True)
class SpendGrid:
    """Spend per period on which each channel's curve is evaluated, and how to read a split.

    ``lo`` and ``hi``: bounds per channel (spend units per period); ``budget``: the total to
    split (``sum(lo) <= budget <= sum(hi)``). Channel ``c`` at step ``k`` spends
    ``min(lo[c] + k * step, hi[c])``.
    """

    channels: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray
    budget: float
    n_steps: int = 1000

    @property
    def step(self) -> float:
        """Spend per step: the budget above the lower bounds over ``n_steps``."""
        return float(self.budget - self.lo.sum()) / self.n_steps

    def spend(self) -> np.ndarray:
        """Spend of every step of every channel, (n_steps + 1, channel)."""
        k = np.arange(self.n_steps + 1)[:, None]
        return np.minimum(self.lo[None, :] + k * self.step, self.hi[None, :])

    def allocation(self, steps: np.ndarray) -> np.ndarray:
        """Spend per channel of a split in steps (..., channel), summing to the budget exactly.

        A channel capped at its upper bound falls short of its steps by less than one step;
        the shortfall goes to the channels below their bounds, in proportion to their room.
        """
        spend = np.minimum(self.lo + steps * self.step, self.hi)
        short = self.budget - spend.sum(axis=-1, keepdims=True)
        room = self.hi - spend
        share = np.divide(
            room,
            room.sum(axis=-1, keepdims=True),
            where=room.sum(-1, keepdims=True) > 0,
            out=np.zeros_like(room),
        )
        return spend + short * share


def best_split(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The split of ``n`` steps over channels that maximises the summed values.

    ``values``: (..., channel, n + 1), each channel's value at 0..n steps (``-inf`` where a
    step is not allowed). Returns (best total (...), steps per channel (..., channel)).
    """
    values = np.asarray(values, dtype=float)
    *batch, n_channels, width = values.shape
    j = np.arange(width)[:, None]
    k = np.arange(width)[None, :]
    left = j - k  # steps left to the channels before this one
    valid = left >= 0
    best = values[..., 0, :]
    choices = []
    for c in range(1, n_channels):
        before = np.where(valid, np.take(best, np.clip(left, 0, None), axis=-1), -np.inf)
        total = before + values[..., c, None, :]  # (..., j, k)
        pick = np.argmax(total, axis=-1)
        choices.append(pick)
        best = np.take_along_axis(total, pick[..., None], axis=-1)[..., 0]
    steps = np.zeros((*batch, n_channels), dtype=int)
    remaining = np.full(tuple(batch), width - 1)
    for c in range(n_channels - 1, 0, -1):
        pick = np.take_along_axis(choices[c - 1], remaining[..., None], axis=-1)[..., 0]
        steps[..., c] = pick
        remaining = remaining - pick
    steps[..., 0] = remaining
    return best[..., width - 1], steps


def best_totals(values: np.ndarray) -> np.ndarray:
    """:func:`best_split`'s best totals of a batch (problem, channel, n + 1), in chunks.

    The chunks keep each step's table (problems x steps^2) to a few million floats.
    """
    chunk = max(1, _CHUNK_CELLS // values.shape[-1] ** 2)
    return np.concatenate(
        [best_split(values[i : i + chunk])[0] for i in range(0, len(values), chunk)]
    )
