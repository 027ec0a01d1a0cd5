"""The lift oracle: exact true lifts of interventions in a simulated world.

The oracle answers "what is the true incremental target of this test?" by re-running the
world's media response on a counterfactual spend path, without noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mmmcal.world.scenario import ChannelSpec
from mmmcal.world.truth import media_response, steady_state_response

if TYPE_CHECKING:
    from mmmcal.world.simulate import World

__all__ = ["LiftOracle", "OracleLift"]


@dataclass(frozen=True)
class OracleLift:
    """True lift of one intervention, in target units.

    ``per_period`` covers the window and then the tail; ``mean`` and ``total`` cover the
    window only; ``steady_state`` is the per-period lift once the change has run forever.
    """

    per_period: np.ndarray
    n_periods: int
    steady_state: float

    @property
    def window(self) -> np.ndarray:
        return self.per_period[: self.n_periods]

    @property
    def tail(self) -> np.ndarray:
        return self.per_period[self.n_periods :]

    @property
    def total(self) -> float:
        return float(self.window.sum())

    @property
    def mean(self) -> float:
        return float(self.window.mean())

    @property
    def tail_total(self) -> float:
        return float(self.tail.sum())


class LiftOracle:
    """Exact true lifts of interventions in a world, by noiseless counterfactual re-simulation."""

    def __init__(self, world: World):
        self.world = world
        self.truth = world.truth

    def _spec(self, channel: str) -> ChannelSpec:
        return self.world.scenario.channel(channel)

    def constant_spend_lift(
        self,
        channel: str,
        x: float,
        delta_x: float,
        n_periods: int,
        *,
        geos: list[str] | None = None,
        tail_periods: int = 0,
    ) -> OracleLift:
        """Lift of moving spend from a steady ``x`` to ``x + delta_x`` for ``n_periods``.

        ``x`` and ``delta_x`` are total spend per period over the tested geos (the nation if
        ``geos`` is None), split over geos in proportion to their spend. Spend was ``x`` long
        enough before the window for carryover to be in steady state; switch-on is ``x = 0``.
        """
        if n_periods < 1:
            raise ValueError(f"n_periods must be >= 1, got {n_periods}.")
        if x < 0 or x + delta_x < 0:
            raise ValueError(f"Spend cannot be negative: x={x}, x + delta_x={x + delta_x}.")
        spec = self._spec(channel)
        pre = spec.adstock.l_max
        length = pre + n_periods + tail_periods
        lift = np.zeros(n_periods + tail_periods)
        steady = 0.0
        for g, share in self.truth.geo_split(channel, geos):
            scale = self.truth.spend_scale[channel][g]
            beta = self.truth.beta[channel][g]
            control = np.full(length, x * share)
            treated = control.copy()
            treated[pre : pre + n_periods] += delta_x * share
            diff = media_response(spec, treated, scale, beta) - media_response(
                spec, control, scale, beta
            )
            lift += diff[pre:]
            steady += float(
                steady_state_response(spec, (x + delta_x) * share, scale, beta)
                - steady_state_response(spec, x * share, scale, beta)
            )
        return OracleLift(per_period=lift, n_periods=n_periods, steady_state=steady)

    def intervention_lift(
        self,
        channel: str,
        start: int | str | pd.Timestamp,
        n_periods: int,
        *,
        multiplier: float | None = None,
        add: float | None = None,
        geos: list[str] | None = None,
        tail_periods: int = 0,
    ) -> OracleLift:
        """Lift of changing the world's actual spend during a window of its calendar.

        Spend in the window is multiplied by ``multiplier`` (0 = go dark) or raised by ``add``
        per period (total over the tested geos, split in proportion to their spend in the
        window). ``steady_state`` uses the mean pre-test spend per period of the window.
        """
        if (multiplier is None) == (add is None):
            raise ValueError("Give exactly one of `multiplier` or `add`.")
        spec = self._spec(channel)
        dates = pd.Index(sorted(self.truth.spend["date"].unique()))
        i0 = start if isinstance(start, int) else dates.get_loc(pd.Timestamp(start))
        i1 = i0 + n_periods
        if i0 < 0 or i1 > len(dates):
            raise ValueError(
                f"Window of {n_periods} periods from {dates[min(i0, len(dates) - 1)].date()} "
                f"runs outside the data ({dates[0].date()} to {dates[-1].date()})."
            )
        end = min(i1 + tail_periods, len(dates))
        lift = np.zeros(end - i0)
        steady = 0.0
        split = self.truth.geo_split(channel, geos)
        paths = {g: self.spend_path(channel, g) for g, _ in split}
        window_total = sum(float(p[i0:i1].sum()) for p in paths.values())
        for g, path in paths.items():
            window_spend = path[i0:i1]
            if multiplier is not None:
                treated_window = window_spend * multiplier
            else:  # exactly one of the two is given
                treated_window = (
                    window_spend + (add or 0.0) * float(window_spend.sum()) / window_total
                )
            treated = path.copy()
            treated[i0:i1] = treated_window
            lift += self.path_lift(channel, g, path, treated)[i0:end]
            scale = self.truth.spend_scale[channel][g]
            beta = self.truth.beta[channel][g]
            steady += float(
                steady_state_response(spec, float(treated_window.mean()), scale, beta)
                - steady_state_response(spec, float(window_spend.mean()), scale, beta)
            )
        return OracleLift(per_period=lift, n_periods=n_periods, steady_state=steady)

    def path_lift(
        self, channel: str, geo: int, control: np.ndarray, treated: np.ndarray
    ) -> np.ndarray:
        """Per-period lift in one geo (index; 0 in a national world) of one spend path over another.

        Both paths cover the world's whole calendar (currency per period); the result is
        the difference of the true media response, target units per period.
        """
        spec = self._spec(channel)
        scale = self.truth.spend_scale[channel][geo]
        beta = self.truth.beta[channel][geo]
        return media_response(spec, treated, scale, beta) - media_response(
            spec, control, scale, beta
        )

    def spend_path(self, channel: str, geo: int = 0) -> np.ndarray:
        """The world's actual spend of ``channel`` in geo ``geo`` (index), per period."""
        spend = self.truth.spend
        if self.truth.geos is None:
            return spend[channel].to_numpy(dtype=float)
        return spend.loc[spend["geo"] == self.truth.geos[geo], channel].to_numpy(dtype=float)
