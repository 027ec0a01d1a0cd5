"""Virtual experiments run in a simulated world, reported as lift-table rows.

A conversion-lift test moves one channel's spend from a steady ``x`` to ``x + delta_x``
for ``n_periods`` (switch-on: ``x = 0``; go-dark: ``delta_x = -x``) and reports the mean
incremental target per period, measured with noise of a stated precision. Each row carries
the oracle's truth (``true_delta_y``, ``true_steady_state_delta_y``) so the experiment
itself can be scored.
"""

from __future__ import annotations

import zlib
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mmmcal.lift.table import validate_lift_table
from mmmcal.world.simulate import World

__all__ = ["LiftTestDesign", "conversion_lift_test", "lift_tests", "planned_row"]


class LiftTestDesign(BaseModel):
    """A conversion-lift test on one channel.

    ``x`` and ``delta_x`` are national spend per period (default ``x``: the channel's mean
    spend; ``switch_on`` sets ``x = 0`` and ``delta_x`` = mean spend). ``spend_change``
    gives ``delta_x`` as a fraction of the channel's mean spend instead (0.5: a 50% heavy-up;
    -1: go dark; with ``switch_on``: the spend switched on). ``precision`` is the
    test's standard error relative to the true lift; ``bias`` overstates the reported lift
    by that fraction. The window ends ``end_offset`` periods before the data's last date.
    ``report="per_period"`` reports the lift of each period of the test as its own row
    (the ramp through adstock), each with ``sigma * sqrt(n_periods)``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    n_periods: int = Field(8, ge=1, le=104)
    x: float | None = Field(None, ge=0)
    delta_x: float | None = None
    spend_change: float | None = Field(None, ge=-1, le=20)
    switch_on: bool = False
    precision: float = Field(0.05, gt=0, le=5)
    bias: float = Field(0.0, ge=-0.99, le=10)
    end_offset: int = Field(0, ge=0)
    report: Literal["mean", "per_period"] = "mean"
    test_id: str | None = None

    @model_validator(mode="after")
    def _spend_change(self) -> LiftTestDesign:
        if self.switch_on and self.x not in (None, 0):
            raise ValueError(f"switch_on starts from zero spend; x={self.x} contradicts it")
        if self.delta_x is not None and self.spend_change is not None:
            raise ValueError(
                "give delta_x (spend per period) or spend_change (a fraction), not both"
            )
        if not self.switch_on and self.delta_x is None and self.spend_change is None:
            raise ValueError(
                "give delta_x (spend change per period), spend_change or switch_on=True"
            )
        if self.switch_on and self.spend_change is not None and self.spend_change <= 0:
            raise ValueError(f"switch_on needs a positive spend_change, not {self.spend_change}")
        if self.delta_x == 0 or self.spend_change == 0:
            raise ValueError("delta_x = 0 is no spend change: the test would measure nothing")
        return self


def planned_row(design: LiftTestDesign, dates: pd.DatetimeIndex, mean_spend: float) -> dict:
    """The lift row ``design`` will report, before it runs: its id, spends and window.

    ``dates``: the data's dates in order; ``mean_spend``: the channel's mean spend per period
    (the default ``x``, and the unit of ``spend_change``). ``ValueError`` for a window that
    does not fit the dates or spend that would go below zero.
    """
    x = 0.0 if design.switch_on else (mean_spend if design.x is None else design.x)
    if design.delta_x is not None:
        delta_x = float(design.delta_x)
    else:  # a fraction of the spend it changes (switch-on: of the mean spend)
        delta_x = (1.0 if design.spend_change is None else design.spend_change) * (x or mean_spend)
    if x + delta_x < -1e-9 * max(x, 1.0):
        raise ValueError(f"x + delta_x = {x + delta_x:.1f} < 0: spend cannot go below zero.")
    end_i = len(dates) - 1 - design.end_offset
    start_i = end_i - design.n_periods + 1
    if start_i < 0:
        raise ValueError(
            f"A {design.n_periods}-period window ending {design.end_offset} periods before the end "
            f"does not fit in {len(dates)} periods of data."
        )
    kind = "switch-on" if x == 0 else ("go-dark" if x + delta_x <= 0 else "lift")
    return {
        "test_id": design.test_id or f"{design.channel}-{kind}-{design.n_periods}w",
        "channel": design.channel,
        "x": x,
        "delta_x": max(delta_x, -x),
        "n_periods": design.n_periods,
        "date_start": dates[start_i].strftime("%Y-%m-%d"),
        "date_end": dates[end_i].strftime("%Y-%m-%d"),
        "aggregation": "mean",
    }


def conversion_lift_test(world: World, design: LiftTestDesign, seed: int = 0) -> pd.DataFrame:
    """Run ``design`` in ``world`` and return its lift table (one row, or one per period).

    ``delta_y`` is the true mean lift per period (from the oracle), times ``1 + bias``, plus
    Normal noise with sd ``sigma = precision * |true lift|``.
    """
    world.scenario.channel(design.channel)
    spend = world.national_data()[design.channel]
    dates = pd.DatetimeIndex(sorted(world.data["date"].unique()))
    planned = planned_row(design, dates, float(spend.mean()))
    test_id, x, delta_x = planned.pop("test_id"), planned["x"], planned["delta_x"]
    truth = world.oracle.constant_spend_lift(design.channel, x, delta_x, design.n_periods)
    if truth.mean == 0:
        raise ValueError(f"The true lift of this {design.channel} test is 0; it measures nothing.")
    # Each test's noise comes from its own stream, keyed by the seed and the test id.
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(test_id.encode())]))
    common = {**planned, "source": "simulated-conversion-lift"}
    sigma = design.precision * abs(truth.mean)
    if design.report == "mean":
        rows = [
            {
                "test_id": test_id,
                **common,
                "delta_y": truth.mean * (1 + design.bias) + rng.normal(0, sigma),
                "sigma": sigma,
                "true_delta_y": truth.mean,
                "true_steady_state_delta_y": truth.steady_state,
            }
        ]
    else:
        # Per-period estimates, each noisier so that their mean has the stated precision.
        sigma_k = sigma * np.sqrt(design.n_periods)
        rows = [
            {
                "test_id": f"{test_id}-p{k}",
                **common,
                "measured_from": k,
                "measured_to": k,
                "delta_y": true_k * (1 + design.bias) + rng.normal(0, sigma_k),
                "sigma": sigma_k,
                "true_delta_y": true_k,
                "true_steady_state_delta_y": truth.steady_state,
            }
            for k, true_k in enumerate(truth.window, start=1)
        ]
    table = pd.DataFrame(rows)
    return validate_lift_table(table, world.scenario.channel_names, dates=world.data["date"])


def lift_tests(world: World, designs: list[LiftTestDesign], seed: int = 0) -> pd.DataFrame:
    """Run several designs (each with its own noise stream) and stack their rows."""
    rows = [conversion_lift_test(world, d, seed=seed) for d in designs]
    table = pd.concat(rows, ignore_index=True)
    return validate_lift_table(table, world.scenario.channel_names, dates=world.data["date"])
