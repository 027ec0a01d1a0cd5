"""Scenario specs: typed, validated descriptions of a simulated MMM world, and named presets.

A scenario says how demand, spend, media response and noise are generated. It is frozen,
round-trips YAML, and fails on bad input with an error that names the field.

Units: spend in currency per period, the target (``sales``) in sales units per period.
Media response follows pymc-marketing's convention:
``beta * saturation(adstock(spend / spend_scale))`` where ``spend_scale`` is the
channel's maximum spend in the simulated data (per geo in geo worlds).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from mmmcal.files import InputFileError, parse_yaml
from mmmcal.specs import FrozenSpec, SpecError, format_validation_error
from mmmcal.world.transforms import (
    delayed_weights,
    geometric_weights,
    hill_saturation,
    logistic_saturation,
    michaelis_menten_saturation,
    weibull_weights,
)

__all__ = [
    "AdstockSpec",
    "ChannelSpec",
    "DemandSpec",
    "GeoSpec",
    "SaturationSpec",
    "Scenario",
    "ScenarioError",
    "SpendSpec",
    "adstock_weights",
]


class ScenarioError(SpecError):
    """A scenario spec failed validation; the message names every bad field."""


# --------------------------------------------------------------------------- adstock


class GeometricAdstockSpec(FrozenSpec):
    """Geometric decay: weight of lag ``k`` is ``alpha**k``."""

    family: Literal["geometric"] = "geometric"
    alpha: float = Field(ge=0, lt=1, description="decay per period")
    l_max: int = Field(8, ge=1, le=104, description="number of lags, in periods")
    normalize: bool = True

    def raw_weights(self) -> np.ndarray:
        return geometric_weights(self.alpha, self.l_max)


class DelayedAdstockSpec(FrozenSpec):
    """Delayed peak: weight of lag ``k`` is ``alpha**((k - theta)**2)``."""

    family: Literal["delayed"] = "delayed"
    alpha: float = Field(gt=0, lt=1)
    theta: float = Field(ge=0, description="lag of the peak effect, in periods")
    l_max: int = Field(8, ge=1, le=104)
    normalize: bool = True

    def raw_weights(self) -> np.ndarray:
        return delayed_weights(self.alpha, self.theta, self.l_max)


class WeibullAdstockSpec(FrozenSpec):
    """Weibull-shaped carryover, as pymc-marketing's ``WeibullPDFAdstock``/``WeibullCDFAdstock``."""

    family: Literal["weibull"] = "weibull"
    kind: Literal["pdf", "cdf"] = "pdf"
    lam: float = Field(gt=0, description="Weibull scale, in periods")
    k: float = Field(gt=0, description="Weibull shape")
    l_max: int = Field(8, ge=2, le=104)
    normalize: bool = True

    def raw_weights(self) -> np.ndarray:
        return weibull_weights(self.lam, self.k, self.l_max, self.kind)


AdstockSpec = Annotated[
    GeometricAdstockSpec | DelayedAdstockSpec | WeibullAdstockSpec, Field(discriminator="family")
]


def adstock_weights(spec: AdstockSpec) -> np.ndarray:
    """Lag weights of an adstock spec (lag 0 first), normalised to sum 1 if ``normalize``."""
    w = spec.raw_weights()
    return w / w.sum() if spec.normalize else w


# --------------------------------------------------------------------------- saturation


class LogisticSaturationSpec(FrozenSpec):
    """``(1 - exp(-lam x)) / (1 + exp(-lam x))`` on scaled spend ``x``."""

    family: Literal["logistic"] = "logistic"
    lam: float = Field(gt=0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return logistic_saturation(x, self.lam)


class HillSaturationSpec(FrozenSpec):
    """``x**slope / (kappa**slope + x**slope)``; ``kappa`` is the half-saturation point."""

    family: Literal["hill"] = "hill"
    slope: float = Field(gt=0)
    kappa: float = Field(gt=0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return hill_saturation(x, self.slope, self.kappa)


class MichaelisMentenSaturationSpec(FrozenSpec):
    """``x / (lam + x)``; ``lam`` is the half-saturation point."""

    family: Literal["michaelis_menten"] = "michaelis_menten"
    lam: float = Field(gt=0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return michaelis_menten_saturation(x, self.lam)


SaturationSpec = Annotated[
    LogisticSaturationSpec | HillSaturationSpec | MichaelisMentenSaturationSpec,
    Field(discriminator="family"),
]


# --------------------------------------------------------------------------- world parts


class SpendSpec(FrozenSpec):
    """How a channel's spend is planned against demand (the source of confounding).

    Spend per period is ``per_demand * level * (demand / level) ** demand_elasticity``
    times log-normal noise; with probability ``off_probability`` a period has no spend.
    """

    per_demand: float = Field(gt=0, description="spend per unit of demand at the demand level")
    demand_elasticity: float = Field(
        1.0, ge=0, le=2, description="1 = planned in proportion to demand, 0 = independent"
    )
    noise_sd: float = Field(0.1, ge=0, le=2, description="sd of log-normal planning noise")
    off_probability: float = Field(0.0, ge=0, lt=1, description="share of periods with no spend")


class ChannelSpec(FrozenSpec):
    """A media channel: its spend process and its true response."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    beta: float = Field(gt=0, description="maximum effect, in target units per period")
    adstock: AdstockSpec
    saturation: SaturationSpec
    spend: SpendSpec


class DemandSpec(FrozenSpec):
    """Latent demand: level, trend, yearly seasonality, AR(1) noise and occasional spikes."""

    level: float = Field(
        400.0, gt=0, description="mean demand per period over the data, target units"
    )
    trend_per_year: float = Field(0.05, ge=-0.5, le=1, description="relative growth per year")
    seasonality_amplitude: float = Field(0.15, ge=0, lt=1, description="relative yearly swing")
    ar_rho: float = Field(0.7, ge=0, lt=1)
    ar_sd: float = Field(0.05, ge=0, le=1, description="sd of the log AR(1) innovations")
    spike_share: float = Field(
        0.04, ge=0, le=0.5, description="share of periods with a demand spike (positions random)"
    )
    spike_size: float = Field(
        1.5, ge=0, description="mean relative size of a spike (sizes vary ±20%)"
    )
    effect: float = Field(1.0, description="target units per unit of demand")
    proxy_noise_sd: float = Field(
        0.2, ge=0, description="sd of the observed proxy's noise, relative to the demand level"
    )


class GeoSpec(FrozenSpec):
    """Split of the world over geos of unequal size (sizes are log-normal, fixed by the seed)."""

    n_geos: int = Field(40, ge=2, le=500)
    size_sd: float = Field(0.8, ge=0, le=3, description="sd of log geo sizes")
    demand_noise_sd: float = Field(
        0.05, ge=0, le=1, description="sd of each geo's own log demand noise"
    )


class Scenario(FrozenSpec):
    """A complete, validated description of a simulated world."""

    name: str = "custom"
    description: str = ""
    n_periods: int = Field(156, ge=20, le=2000, description="number of weeks")
    start_date: str = Field("2022-01-03", description="first period (ISO date, a Monday)")
    target: str = "sales"
    intercept: float = Field(0.0, description="constant baseline, target units per period")
    noise_sd: float = Field(20.0, ge=0, description="sd of observation noise, target units")
    demand: DemandSpec = DemandSpec()
    channels: tuple[ChannelSpec, ...] = Field(min_length=1)
    geo: GeoSpec | None = None

    @field_validator("start_date")
    @classmethod
    def _iso_date(cls, value: str) -> str:
        try:
            np.datetime64(value, "D")
        except ValueError as err:
            raise ValueError(f"must be an ISO date like 2022-01-03, got {value!r}") from err
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Scenario:
        names = [c.name for c in self.channels]
        reserved = {self.target, "date", "geo", "demand_proxy"}
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"channel names must be unique; repeated: {dup}")
        clash = sorted(set(names) & reserved)
        if clash:
            raise ValueError(
                f"channel names {clash} clash with reserved columns {sorted(reserved)}"
            )
        return self

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.channels]

    def channel(self, name: str) -> ChannelSpec:
        """Return the channel spec called ``name``."""
        for c in self.channels:
            if c.name == name:
                return c
        raise KeyError(f"Unknown channel {name!r}; the scenario has {self.channel_names}.")

    # ------------------------------------------------------------------ YAML round trip
    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        """Validate ``data``; raise :class:`ScenarioError` naming every bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise ScenarioError(format_validation_error(err, "scenario")) from None

    @classmethod
    def from_yaml(cls, text: str) -> Scenario:
        try:
            data = parse_yaml(text, "scenario")
        except InputFileError as err:
            raise ScenarioError(str(err)) from None
        if not isinstance(data, dict):
            raise ScenarioError(
                "A scenario YAML must be a mapping of fields, e.g. `channels: [...]`."
            )
        return cls.from_dict(data)

    def with_updates(self, **changes: Any) -> Scenario:
        """Return a validated copy with top-level fields replaced."""
        return Scenario.from_dict({**self.to_dict(), **changes})
