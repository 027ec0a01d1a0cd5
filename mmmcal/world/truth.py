"""Ground truth of a simulated world: true contributions, shares, ROAS and response curves.

Everything a lift test or a calibration claims is checked against these numbers (and the
lift oracle of :mod:`mmmcal.world.oracle`, which re-runs the same media response).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mmmcal.world.scenario import ChannelSpec, adstock_weights

__all__ = ["MROAS_STEP", "Truth", "media_response", "steady_state_response"]

MROAS_STEP = 0.01  # the spend increase behind marginal ROAS: 1% of every period's spend


def media_response(
    channel: ChannelSpec, spend: np.ndarray, scale: float, beta: float
) -> np.ndarray:
    """Media contribution per period (target units) of a spend path (currency per period).

    ``beta * saturation(adstock(spend / scale))``, with the adstock started from zero spend
    before the first period, as pymc-marketing does.
    """
    x = np.asarray(spend, dtype=float) / scale
    w = adstock_weights(channel.adstock)
    adstocked = np.convolve(x, w)[: len(x)]
    return beta * channel.saturation(adstocked)


def steady_state_response(
    channel: ChannelSpec, spend: np.ndarray | float, scale: float, beta: float
):
    """Contribution per period once a constant spend has run longer than the carryover."""
    total_weight = adstock_weights(channel.adstock).sum()
    return beta * channel.saturation(np.asarray(spend, dtype=float) * total_weight / scale)


@dataclass(frozen=True, eq=False)
class Truth:
    """What really generated the data.

    ``contributions`` has one row per date (× geo) with columns ``baseline`` (intercept plus
    demand effect), one column per channel, and ``noise``; they add up to the target.
    ``demand`` is the latent demand. ``spend_scale`` and ``beta`` hold, per channel, one value
    per geo (a single value in a national world).
    """

    target: str
    channels: tuple[str, ...]
    contributions: pd.DataFrame
    demand: pd.Series
    spend: pd.DataFrame
    spend_scale: dict[str, np.ndarray]
    beta: dict[str, np.ndarray]
    geos: tuple[str, ...] | None

    @property
    def target_total(self) -> float:
        parts = ["baseline", *self.channels, "noise"]
        return float(self.contributions[parts].to_numpy().sum())

    def contribution_total(self, channel: str) -> float:
        return float(self.contributions[channel].sum())

    def share(self, channel: str) -> float:
        """True contribution of ``channel`` as a share of the total target."""
        return self.contribution_total(channel) / self.target_total

    def roas(self, channel: str) -> float:
        """True contribution per unit of spend, over the whole data."""
        return self.contribution_total(channel) / float(self.spend[channel].sum())

    def shares(self) -> dict[str, float]:
        return {c: self.share(c) for c in self.channels}

    def marginal_roas(self, channel: ChannelSpec, step: float = MROAS_STEP) -> float:
        """True marginal ROAS at current spend: extra contribution per extra unit of spend.

        Every period's spend (every geo's) raised by ``step`` (1%, as Meridian's mROI); the
        extra contribution over the data's dates, over the extra spend. What a heavy-up test
        at current spend measures, whatever the curve family.
        """
        c = channel.name
        frames = (
            [self.spend]
            if self.geos is None
            else [self.spend[self.spend["geo"] == g] for g in self.geos]
        )
        extra = 0.0
        for g, part in enumerate(frames):
            x = part[c].to_numpy(dtype=float)
            scale, beta = self.spend_scale[c][g], self.beta[c][g]
            more = media_response(channel, x * (1 + step), scale, beta)
            extra += float((more - media_response(channel, x, scale, beta)).sum())
        return extra / (step * float(self.spend[c].sum()))

    def to_dict(self, scenario: Any, seed: int) -> dict[str, Any]:
        """The ``truth.json`` document."""
        total = self.target_total
        channels = {}
        for spec in scenario.channels:
            c = spec.name
            scale = self.spend_scale[c]
            channels[c] = {
                "spend_total": float(self.spend[c].sum()),
                "contribution_total": self.contribution_total(c),
                "share": self.share(c),
                "roas": self.roas(c),
                "mroas": self.marginal_roas(spec),
                "params": {
                    "beta": float(spec.beta),
                    "adstock": spec.adstock.model_dump(mode="json"),
                    "saturation": spec.saturation.model_dump(mode="json"),
                    "spend_scale": float(scale[0])
                    if self.geos is None
                    else dict(zip(self.geos, map(float, scale), strict=True)),
                },
            }
        baseline = float(self.contributions["baseline"].sum())
        noise = float(self.contributions["noise"].sum())
        return {
            "scenario": scenario.name,
            "seed": seed,
            "target": self.target,
            "n_periods": int(self.contributions["date"].nunique()),
            "geos": None if self.geos is None else list(self.geos),
            "target_total": total,
            "channels": channels,
            "baseline": {"contribution_total": baseline, "share": baseline / total},
            "noise": {"total": noise, "share": noise / total},
        }

    def response_curve(self, channel_spec: ChannelSpec, spend: np.ndarray) -> np.ndarray:
        """True steady-state contribution per period (national) at national spend per period.

        In a geo world national spend is split over geos in proportion to their spend.
        """
        spend = np.asarray(spend, dtype=float)
        c = channel_spec.name
        split = self.geo_split(c, None)
        return sum(
            steady_state_response(channel_spec, spend * s, self.spend_scale[c][g], self.beta[c][g])
            for g, s in split
        )

    def geo_split(self, channel: str, geos: list[str] | None) -> list[tuple[int, float]]:
        """(geo index, share of spend) for the geos a test touches; the whole world if None."""
        if self.geos is None:
            if geos:
                raise ValueError(f"Geos {geos} were given but this world is national.")
            return [(0, 1.0)]
        names = list(self.geos)
        chosen = names if not geos else list(geos)
        unknown = sorted(set(chosen) - set(names))
        if unknown:
            raise ValueError(
                f"Unknown geos {unknown}; the world has {names[:3]}... ({len(names)})."
            )
        idx = [names.index(g) for g in chosen]
        totals = self.spend.groupby("geo", sort=False)[channel].sum().reindex(names).to_numpy()
        weights = totals[idx] / totals[idx].sum()
        return list(zip(idx, weights, strict=True))
