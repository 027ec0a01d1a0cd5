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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SPEND_FACTOR", "spend_factor"]

# The control's column name in the prepared data.
SPEND_FACTOR = "spend_factor"


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
