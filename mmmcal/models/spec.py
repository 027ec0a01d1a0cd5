"""Model specs: what to build, typed, validated and YAML-able.

A :class:`ModelSpec` is frozen; its priors are data (:mod:`mmmcal.models.priors`). An empty
``priors`` mapping gives pymc-marketing's defaults. :mod:`mmmcal.models.builder` turns a
spec into a pymc-marketing MMM.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mmmcal.files import InputFileError, parse_yaml, read_yaml_file
from mmmcal.models.components import (
    SLOPE_FAMILIES,
    adstock_class,
    saturation_class,
    slope_supported,
)
from mmmcal.models.priors import ModelSpecError, prior_to_data, to_prior
from mmmcal.models.roas import SCALE_PARAMETER
from mmmcal.models.spend_factor import SPEND_FACTOR
from mmmcal.specs import format_validation_error

__all__ = [
    "ADSTOCK_FAMILIES",
    "SATURATION_FAMILIES",
    "AdstockConfig",
    "ModelSpec",
    "ModelSpecError",
    "InterceptHSGPConfig",
    "RoasPriorConfig",
    "SaturationConfig",
    "TestRoasPrior",
    "TrendConfig",
    "check_column_name",
]

ADSTOCK_FAMILIES = ("delayed", "geometric", "weibull_cdf", "weibull_pdf")
SATURATION_FAMILIES = ("hill", "logistic", "michaelis_menten")
_MODEL_LEVEL_PRIORS = ("intercept", "likelihood", "gamma_control", "gamma_fourier")


def check_column_name(name: str) -> str:
    """``name`` if it can name a data column of a fit; ``ValueError`` saying why not.

    Refused: the empty name; leading or trailing whitespace (a CSV header `` tv`` is not the
    column ``tv``); control characters (invisible in files and messages); and ``/``, which
    the fit's netCDF file (HDF5) reads as a group separator, so a fit could not be saved.
    """
    if not name.strip():
        raise ValueError(f"a column name is empty ({name!r}); give the column a name")
    if name != name.strip():
        raise ValueError(
            f"the column name {name!r} starts or ends with whitespace; write it as "
            f"{name.strip()!r} (and the data's header the same way)"
        )
    if "/" in name:
        raise ValueError(
            f"the column name {name!r} has a `/`, which cannot be saved in the fit's netCDF "
            f"file (it separates groups there); rename the column, e.g. "
            f"{name.replace('/', '_')!r}"
        )
    control = [c for c in name if unicodedata.category(c) == "Cc"]
    if control:
        raise ValueError(
            f"the column name {name!r} has control character(s) {control}, invisible in files "
            "and messages; rename the column"
        )
    return name


class AdstockConfig(BaseModel):
    """Adstock family and carryover length (in periods)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    family: Literal["delayed", "geometric", "weibull_cdf", "weibull_pdf"] = "geometric"
    l_max: int = Field(8, ge=1, le=104)
    normalize: bool = True


class SaturationConfig(BaseModel):
    """Saturation family, and the coordinates it is sampled in.

    ``parametrization``: ``slope`` samples the curve's initial slope and its shape parameter
    instead of its scale (same model, better posterior geometry; logistic and
    Michaelis-Menten with a scale-family prior on the scale); ``native`` samples
    pymc-marketing's own parameters; ``auto`` (default) is ``slope`` where it applies, and
    ``native`` in models with the spend factor: there the data inform each channel's curve
    weakly, its posterior stays near the prior, and ``slope | lam`` (scale tied to ``lam``)
    is a funnel; the native coordinates passed every sampler check in 22 of 28 spend-factor
    fits against 11 of 28, with the same shares, at 1.5x the time
    (``experiments/results/native_with_spend_factor.jsonl``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    family: Literal["hill", "logistic", "michaelis_menten"] = "logistic"
    parametrization: Literal["auto", "slope", "native"] = "auto"

    @model_validator(mode="before")
    @classmethod
    def _accept_old_field_name(cls, value: Any) -> Any:
        # Model specs saved by earlier versions of mmmcal spell the field `parametrisation`:
        # a fit directory's spec.yaml, and the model.yaml that `mmmcal demo` writes.
        if not isinstance(value, dict) or "parametrisation" not in value:
            return value
        if "parametrization" in value:
            raise ValueError("give `parametrization` once (`parametrisation` is its old name)")
        value = dict(value)
        value["parametrization"] = value.pop("parametrisation")
        return value


class TrendConfig(BaseModel):
    """A trend in the baseline: ``none`` (default) or ``linear``.

    ``linear``: pymc-marketing's piecewise-linear ``LinearTrend`` (slope changes at
    ``n_changepoints`` evenly spaced dates, Laplace(0, 0.25) priors in scaled target units),
    added to the mean as a ``LinearTrendEffect`` (variables ``delta`` and
    ``trend_effect_contribution``). One trend shared by every geo.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["none", "linear"] = "none"
    n_changepoints: int = Field(8, ge=1, le=52)

    @model_validator(mode="before")
    @classmethod
    def _accept_kind_alone(cls, value: Any) -> Any:
        # `trend: linear` is short for `trend: {kind: linear}`.
        return {"kind": value} if isinstance(value, str) else value


class InterceptHSGPConfig(BaseModel):
    """A time-varying intercept's Gaussian process (pymc-marketing's ``SoftPlusHSGP``).

    The intercept is a baseline times a positive multiplier of mean 1 over the dates: an
    HSGP over the period index with ``m`` basis functions, a Matern 5/2 kernel whose
    lengthscale (periods) has an InverseGamma prior of mean ``ls_mu`` and sd ``ls_sigma``,
    and an Exponential(``eta_lam``) amplitude prior (pymc-marketing's ``HSGPKwargs``).
    pymc-marketing's ``ls_lower``/``ls_upper`` form needs preliz, which fails to import
    with the installed matplotlib, so it is not offered.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    m: int = Field(40, ge=4, le=400)
    ls_mu: float = Field(26.0, gt=0)
    ls_sigma: float = Field(13.0, gt=0)
    eta_lam: float = Field(1.0, gt=0)


class TestRoasPrior(BaseModel):
    """A channel's ROAS measured by an experiment, as a prior (the prior route).

    ``roas``: target units per unit of spend (a lift test's ``delta_y / delta_x``);
    ``sd_log``: its uncertainty on the log scale (a test with a 10% standard error: 0.1).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    roas: float = Field(gt=0)
    sd_log: float = Field(gt=0, le=5)


class RoasPriorConfig(BaseModel):
    """Media effects parametrised by pooled relative ROAS (:mod:`mmmcal.models.roas`).

    Relative ROAS: a channel's ROAS over (total target / total spend), so the media share
    of the target is the spend-weighted mean of the channels' relative ROAS. Prior:
    ``log r_c = mu + tau z_c``, ``mu ~ Normal(log median, median_sd_log)``,
    ``tau ~ HalfNormal(spread_sd_log)``. ``tests``: ROAS priors from experiments, per
    channel (the prior route).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    median: float = Field(0.3, gt=0)
    median_sd_log: float = Field(0.7, gt=0, le=5)
    spread_sd_log: float = Field(0.7, gt=0, le=5)
    tests: dict[str, TestRoasPrior] = Field(default_factory=dict)


class ModelSpec(BaseModel):
    """Everything needed to build a pymc-marketing MMM for a data set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date_column: str = "date"
    target_column: str = "sales"
    channel_columns: tuple[str, ...] = Field(min_length=1)
    control_columns: tuple[str, ...] = ()
    geo_column: str | None = None
    adstock: AdstockConfig = AdstockConfig()
    saturation: SaturationConfig = SaturationConfig()
    yearly_seasonality: int | None = Field(2, ge=1, le=20)
    priors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # The baseline (see TrendConfig, InterceptHSGPConfig). ``time_varying_intercept``:
    # False (default: one intercept), True (pymc-marketing's default HSGP: 200 basis
    # functions, lengthscale ~ InverseGamma(mean 5, sd 10) periods) or an
    # InterceptHSGPConfig (a mapping, e.g. `{ls_mu: 26}`).
    trend: TrendConfig = TrendConfig()
    time_varying_intercept: bool | InterceptHSGPConfig = False
    # Media priors on ROAS, pooled across channels (RoasPriorConfig), instead of priors on
    # the saturation's scale coefficient; None: pymc-marketing's coefficient priors.
    roas_prior: RoasPriorConfig | None = None
    # A control for demand read off the spend plan (mmmcal.models.spend_factor), added to
    # the controls as the column `spend_factor` (Bayesian engine). `auto`: added where the
    # channels' spend moves together (decided on the data at fit time; the fit's spec
    # records the decision).
    spend_factor: bool | Literal["auto"] = False

    @field_validator("date_column", "target_column", "geo_column", mode="after")
    @classmethod
    def _one_name(cls, value: str | None) -> str | None:
        return None if value is None else check_column_name(value)

    @field_validator("channel_columns", "control_columns", mode="after")
    @classmethod
    def _names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_column_name(v) for v in value)

    @field_validator("adstock", "saturation", mode="before")
    @classmethod
    def _known_family(cls, value: Any, info) -> Any:
        allowed, default = {
            "adstock": (ADSTOCK_FAMILIES, "geometric"),
            "saturation": (SATURATION_FAMILIES, "logistic"),
        }[info.field_name]
        if isinstance(value, dict) and value.get("family", default) not in allowed:
            raise ValueError(
                f"The `{info.field_name}` family {value['family']!r} must be one of {list(allowed)}"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> ModelSpec:
        columns = [self.target_column, *self.channel_columns, *self.control_columns]
        every = [self.date_column, *columns, *([self.geo_column] if self.geo_column else [])]
        dup = sorted({c for c in every if every.count(c) > 1})
        if dup:
            raise ValueError(
                f"columns used twice among date/target/channels/controls/geo: {dup}; each "
                "column has one role"
            )
        if self.spend_factor and SPEND_FACTOR in every:
            raise ValueError(
                f"a column may not be called {SPEND_FACTOR!r} with spend_factor: true (the "
                "model adds that control); rename the column"
            )
        if "y" in columns:
            raise ValueError("a column may not be called 'y' (pymc-marketing reserves it)")
        if self.geo_column and self.geo_column != "geo" and "geo" in every:
            raise ValueError(
                f"a column may not be called 'geo' when the geo column is "
                f"{self.geo_column!r} (pymc-marketing names the geo dimension 'geo'); rename it"
            )
        allowed = self.prior_names()
        for name, data in self.priors.items():
            if name not in allowed:
                raise ValueError(f"The prior name {name!r} must be one of {allowed}")
            to_prior(name, data)
        if self.roas_prior is not None:
            self._check_roas_prior(self.roas_prior)
        if self.saturation.parametrization == "slope" and not self._slope_possible():
            raise ValueError(
                f"saturation.parametrization 'slope' needs a logistic or michaelis_menten "
                f"saturation whose scale prior is a scale family with fixed parameters "
                f"(HalfNormal, Gamma, LogNormal...); family {self.saturation.family!r} with "
                f"these priors has none. Use 'auto' or 'native'."
            )
        return self

    def _check_roas_prior(self, roas: RoasPriorConfig) -> None:
        unknown = [c for c in roas.tests if c not in self.channel_columns]
        if unknown:
            raise ValueError(
                f"roas_prior.tests names channel(s) {unknown} that are not among "
                f"channel_columns {list(self.channel_columns)}"
            )
        scale = f"saturation_{SCALE_PARAMETER[self.saturation.family]}"
        if scale in self.priors:
            raise ValueError(
                f"the prior of {scale!r} cannot be set with roas_prior: the ROAS prior "
                "determines it; drop one of the two"
            )
        if self.saturation.parametrization == "slope":
            raise ValueError(
                "saturation.parametrization 'slope' and roas_prior both replace the "
                "saturation's scale; use 'auto' or 'native' with roas_prior"
            )

    def _slope_possible(self) -> bool:
        if self.roas_prior is not None or self.saturation.family not in SLOPE_FAMILIES:
            return False
        scale, shape, _, _ = SLOPE_FAMILIES[self.saturation.family]
        priors = dict(saturation_class(self.saturation.family)().model_config)
        priors.update({k: to_prior(k, v) for k, v in self.priors.items()})
        return slope_supported(priors[f"saturation_{scale}"], priors[f"saturation_{shape}"])

    @property
    def slope_parametrized(self) -> bool:
        """Whether the saturation is sampled in slope coordinates (see SaturationConfig)."""
        chosen = self.saturation.parametrization
        if chosen == "auto" and self.spend_factor is True:
            return False
        return chosen != "native" and self._slope_possible()

    # ------------------------------------------------------------------ introspection
    @property
    def model_controls(self) -> tuple[str, ...]:
        """The model's controls: the spec's, and the spend factor if asked for (not `auto`)."""
        return (*self.control_columns, *((SPEND_FACTOR,) if self.spend_factor is True else ()))

    @property
    def dims(self) -> tuple[str, ...]:
        return () if self.geo_column is None else ("geo",)

    def prior_names(self) -> list[str]:
        """Every parameter whose prior can be set, for this adstock and saturation."""
        ad = adstock_class(self.adstock.family)(l_max=self.adstock.l_max)
        sat = saturation_class(self.saturation.family)()
        names = [*_MODEL_LEVEL_PRIORS, *ad.model_config, *sat.model_config]
        return sorted(names)

    def default_priors(self) -> dict[str, dict[str, Any]]:
        """pymc-marketing's default prior of every media parameter, as data."""
        ad = adstock_class(self.adstock.family)(l_max=self.adstock.l_max)
        sat = saturation_class(self.saturation.family)()
        return {k: prior_to_data(v) for k, v in {**ad.model_config, **sat.model_config}.items()}

    # ------------------------------------------------------------------ YAML
    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise ModelSpecError(format_validation_error(err, "model spec")) from None

    @classmethod
    def from_yaml(cls, text_or_path: str | Path) -> ModelSpec:
        """A spec from YAML text, or from a file (a ``Path``, or a one-line str naming one).

        Raises ``ModelSpecError`` for YAML that is empty, invalid or not a mapping.
        """
        is_file = isinstance(text_or_path, Path) or (
            "\n" not in text_or_path.strip() and Path(text_or_path.strip()).is_file()
        )
        try:
            if is_file:
                data = read_yaml_file(text_or_path, "model spec")
            else:
                data = parse_yaml(str(text_or_path), "model spec")
        except InputFileError as err:
            raise ModelSpecError(str(err)) from None
        if not isinstance(data, dict):
            raise ModelSpecError(
                f"A model spec must be a YAML mapping of fields (e.g. `channel_columns: [tv]`); "
                f"got {type(data).__name__} {str(data)[:60]!r}."
            )
        return cls.from_dict(data)

    @classmethod
    def for_world(cls, world, **changes: Any) -> ModelSpec:
        """The default spec for a simulated world's data (its target, channels and proxy)."""
        return cls.for_scenario(world.scenario, **changes)

    @classmethod
    def for_scenario(cls, scenario, **changes: Any) -> ModelSpec:
        """The default spec for the data of worlds of ``scenario`` (a ``Scenario``)."""
        base = {
            "target_column": scenario.target,
            "channel_columns": scenario.channel_names,
            "control_columns": ["demand_proxy"],
            "adstock": {"family": "geometric", "l_max": 8},
        }
        return cls.from_dict({**base, **changes})
