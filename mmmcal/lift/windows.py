"""What each lift row measured: its window, the periods it reports, per-period units.

A row with ``n_periods`` or ``date_start``/``date_end`` has a window: the spend change
lasted that many modelled periods (counted on the model's dates). ``measured_from`` and
``measured_to`` (1-based periods since the test started) say which periods ``delta_y``
covers; ``aggregation`` whether it is their mean (``mean``, per period) or total (``sum``).
Rows without a window measure the steady state (pymc-marketing's lift likelihood).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmmcal.lift.problems import LiftProblem, LiftTableError
from mmmcal.options import LikelihoodChoice

__all__ = ["measured_span", "split_rows", "to_per_period", "window_lengths"]


def window_lengths(lift: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.Series:
    """Test length in periods per row: ``n_periods``, else the model dates inside the window."""
    n = pd.to_numeric(lift["n_periods"], errors="coerce") if "n_periods" in lift else None
    out = pd.Series(np.nan, index=lift.index)
    if n is not None:
        out = n.astype(float)
    if "date_start" in lift and "date_end" in lift:
        start = pd.to_datetime(lift["date_start"], errors="coerce")
        end = pd.to_datetime(lift["date_end"], errors="coerce")
        for i in lift.index:
            if pd.isna(start[i]) or pd.isna(end[i]):
                continue
            counted = int(((dates >= start[i]) & (dates <= end[i])).sum())
            if pd.notna(out[i]) and int(out[i]) != counted:
                raise ValueError(
                    f"Lift row {i}: n_periods = {int(out[i])} but "
                    f"{start[i].date()}..{end[i].date()} "
                    f"spans {counted} model periods; fix one of them."
                )
            out[i] = counted
    return out


def split_rows(
    lift: pd.DataFrame, dates: pd.DatetimeIndex, likelihood: LikelihoodChoice = "auto"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a lift table into (window rows with ``n_periods`` filled, steady-state rows)."""
    if likelihood not in ("auto", "window", "steady_state"):
        raise ValueError(
            f"The `likelihood` {likelihood!r} must be one of ['auto', 'steady_state', 'window']."
        )
    lengths = window_lengths(lift, dates)
    has_window = lengths.notna()
    if likelihood == "window" and not has_window.all():
        rows = list(lift.index[~has_window])
        raise ValueError(
            f"likelihood='window' needs a window on every row; rows {rows} have no `n_periods` "
            "or `date_start`/`date_end`. Add them, or use likelihood='auto'."
        )
    if likelihood == "steady_state":
        has_window = pd.Series(False, index=lift.index)
    window = lift[has_window].assign(n_periods=lengths[has_window].astype(int))
    return window, lift[~has_window]


def measured_span(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """First and last measured period of each row, counted from the test's start (1-based).

    Defaults: the whole test window, ``1..n_periods``. ``measured_to > n_periods`` includes
    carryover after the spend change ended; ``measured_from = measured_to = k`` is week k.
    """
    n = rows["n_periods"].to_numpy(dtype=int)
    first = (
        pd.to_numeric(rows["measured_from"]).fillna(1).to_numpy(dtype=int)
        if "measured_from" in rows
        else np.ones(len(rows), dtype=int)
    )
    last = (
        pd.to_numeric(rows["measured_to"])
        .fillna(pd.Series(n, index=rows.index))
        .to_numpy(dtype=int)
        if "measured_to" in rows
        else n.copy()
    )
    return first, last


def to_per_period(df: pd.DataFrame) -> pd.DataFrame:
    """Convert rows with ``aggregation == 'sum'`` (window totals) to per-period values.

    ``delta_y`` and ``sigma`` are divided by ``n_periods``; such rows must declare it.
    """
    out = df.copy()
    if "aggregation" not in out:
        return out
    is_sum = out["aggregation"].eq("sum")
    if not is_sum.any():
        return out
    if "n_periods" not in out or out.loc[is_sum, "n_periods"].isna().any():
        rows = list(
            np.flatnonzero(is_sum & out.get("n_periods", pd.Series(np.nan, out.index)).isna())
        )
        raise LiftTableError(
            [
                LiftProblem(
                    int(r), "n_periods", "is needed to turn a window total into per-period lift"
                )
                for r in rows
            ]
        )
    n = out.loc[is_sum, "n_periods"].astype(float)
    out.loc[is_sum, "delta_y"] = out.loc[is_sum, "delta_y"] / n
    out.loc[is_sum, "sigma"] = out.loc[is_sum, "sigma"] / n
    if "true_delta_y" in out:
        out.loc[is_sum, "true_delta_y"] = out.loc[is_sum, "true_delta_y"] / n
    out.loc[is_sum, "aggregation"] = "mean"
    return out
