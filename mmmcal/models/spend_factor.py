"""The spend factor: a control for demand read off the spend plan (``ModelSpec.spend_factor``).

When spend is planned against demand, every channel's spend moves with demand, and a model
that sees demand only through a noisy proxy credits media with demand's effect (the media
terms are the better demand measure). The spend factor is the common movement of the
channels' spend,

    factor_t = exp(mean over channels c with spend in t of log(x_ct / g_c))

(``g_c``: the geometric mean of channel c's positive spend; per geo in geo models), added
as a control. The media terms are then identified by each channel's own deviations from
the common plan, so their shares are small or uncertain unless the data show them: wide
rather than wrong. Assumption: confounding acts through one factor shared by the channels
(as a deconfounder assumes). Where a single channel follows demand and the others do not,
the factor is partly that channel's own spend and takes part of its effect.

``spend_factor: auto`` adds the factor only where the data show that shared movement: the
mean correlation between the channels' log spend, over pairs (within geos), is at least
:data:`SHARED_MOVEMENT`. Spend planned against demand moves every channel together (about
0.8 in the simulator's confounded worlds); channels planned apart correlate near 0, and
their factor is each channel's own variation more than a common one.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

__all__ = ["SHARED_MOVEMENT", "SPEND_FACTOR", "spend_comovement", "spend_factor"]

# The control's column name in the prepared data.
SPEND_FACTOR = "spend_factor"
# Least mean pairwise correlation of log spend for which ``auto`` adds the factor; below it,
# a factor of three channels is less than half common movement (Cronbach's alpha < 0.56).
SHARED_MOVEMENT = 0.3


def _factor(spend: pd.DataFrame) -> np.ndarray:
    """The factor of one series (rows: dates in order; columns: channels), mean about 1."""
    values = spend.to_numpy(dtype=float)
    positive = values > 0
    logs = np.where(positive, np.log(np.where(positive, values, 1.0)), np.nan)
    centre = np.nanmean(logs, axis=0)  # log geometric mean of each channel's positive spend
    relative = logs - np.where(np.isfinite(centre), centre, 0.0)
    counts = positive.sum(axis=1)
    mean = np.where(counts > 0, np.nansum(relative, axis=1) / np.maximum(counts, 1), 0.0)
    return np.exp(mean)


def spend_factor(frame: pd.DataFrame, channels: list[str], geo: str | None) -> np.ndarray:
    """The spend factor of each row of ``frame`` (sorted by date, then geo)."""
    if geo is None:
        return _factor(frame[channels])
    out = np.empty(len(frame))
    for rows in frame.groupby(geo, sort=False).indices.values():
        out[rows] = _factor(frame.iloc[rows][channels])
    return out


def _pair_correlations(spend: pd.DataFrame) -> list[float]:
    """Correlations of log spend between each pair of channels, over periods both spend in."""
    values = spend.to_numpy(dtype=float)
    out = []
    for i, j in itertools.combinations(range(values.shape[1]), 2):
        both = (values[:, i] > 0) & (values[:, j] > 0)
        a, b = np.log(values[both, i]), np.log(values[both, j])
        if both.sum() >= 3 and a.std() > 0 and b.std() > 0:
            out.append(float(np.corrcoef(a, b)[0, 1]))
    return out


def spend_comovement(frame: pd.DataFrame, channels: list[str], geo: str | None) -> float:
    """Mean correlation of the channels' log spend over pairs (and geos); NaN for < 2 channels."""
    groups = [frame] if geo is None else [g for _, g in frame.groupby(geo, sort=False)]
    pairs = [r for g in groups for r in _pair_correlations(g[channels])]
    return float(np.mean(pairs)) if pairs else float("nan")
