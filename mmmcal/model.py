"""Model specs and the construction of pymc-marketing MMMs.

This is the only module that constructs pymc-marketing MMM classes, so a pymc-marketing
upgrade touches one file. A :class:`ModelSpec` is frozen, validated and YAML-able; priors
are written as data (``{distribution: HalfNormal, sigma: 2, dims: channel}``) and turned
into :class:`pymc_extras.prior.Prior` objects. Precedence: a prior given in the spec
replaces pymc-marketing's default for that parameter; nothing else is changed, so an empty
``priors`` mapping gives pymc-marketing's defaults.

Units: channel spend and the target are divided by their maximum over dates
(pymc-marketing's scaling); controls are divided by their maximum absolute value here, so
their coefficients live on the same scale as the priors expect.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mmmcal.scenario import ScenarioError, _format_validation_error

__all__ = [
    "ADSTOCK_FAMILIES",
    "SATURATION_FAMILIES",
    "ModelData",
    "ModelSpec",
    "ModelSpecError",
    "build_mmm",
    "load_mmm",
    "prepare_data",
    "to_prior",
]

ADSTOCK_FAMILIES = ("delayed", "geometric", "weibull_cdf", "weibull_pdf")
SATURATION_FAMILIES = ("hill", "logistic", "michaelis_menten")
_MODEL_LEVEL_PRIORS = ("intercept", "likelihood", "gamma_control", "gamma_fourier")


class ModelSpecError(ScenarioError):
    """A model spec failed validation; the message names every bad field."""


def _adstock_class(family: str):
    from pymc_marketing.mmm import (
        DelayedAdstock,
        GeometricAdstock,
        WeibullCDFAdstock,
        WeibullPDFAdstock,
    )

    return {
        "geometric": GeometricAdstock,
        "delayed": DelayedAdstock,
        "weibull_pdf": WeibullPDFAdstock,
        "weibull_cdf": WeibullCDFAdstock,
    }[family]


def _saturation_class(family: str, slope: bool = False):
    from pymc_marketing.mmm import HillSaturation, LogisticSaturation, MichaelisMentenSaturation

    base = {
        "logistic": LogisticSaturation,
        "hill": HillSaturation,
        "michaelis_menten": MichaelisMentenSaturation,
    }[family]
    return _slope_class(base, family) if slope else base


@cache
def _slope_class(base, family: str):
    """``base`` sampled in slope coordinates; it saves (``to_dict``) as ``base`` itself."""
    from pymc_marketing.serialization import serialization

    cls = type(
        f"Slope{base.__name__}", (_SlopeParametrised, base), {"slope": SLOPE_FAMILIES[family]}
    )
    as_base = f"{base.__module__}.{base.__qualname__}"
    serialization.register(cls, serializer=lambda obj: {**obj.to_dict(), "__type__": as_base})
    return cls


# Saturation families whose scale parameter is k * (initial slope) * shape**p, as
# (scale, shape, p, k). Initial slope: the response per unit of scaled, adstocked spend
# near zero spend.
# Logistic: beta * (1 - e^(-lam x)) / (1 + e^(-lam x)) ~ (beta * lam / 2) * x for small x.
# Michaelis-Menten: alpha * x / (lam + x) ~ (alpha / lam) * x for small x.
SLOPE_FAMILIES = {
    "logistic": ("beta", "lam", -1, 2.0),
    "michaelis_menten": ("alpha", "lam", 1, 1.0),
}

# How the parameters of a positive scale family change when X becomes c * X.
_SCALE_RULES = {
    "HalfNormal": {"sigma": "times"},
    "HalfStudentT": {"nu": "keep", "sigma": "times"},
    "HalfCauchy": {"beta": "times"},
    "Weibull": {"alpha": "keep", "beta": "times"},
    "Exponential": {"lam": "divide", "scale": "times"},
    "Gamma": {"alpha": "keep", "beta": "divide", "mu": "times", "sigma": "times"},
    "InverseGamma": {"alpha": "keep", "beta": "times", "mu": "times", "sigma": "times"},
    "LogNormal": {"mu": "log", "sigma": "keep"},
}


def slope_supported(scale_prior, shape_prior) -> bool:
    """Whether the slope parametrisation can carry ``scale_prior`` exactly.

    It must be a positive scale family with fixed parameters (no hierarchy, no transform)
    whose dims include those of ``shape_prior``.
    """
    rules = _SCALE_RULES.get(scale_prior.distribution)
    if rules is None or getattr(scale_prior, "transform", None) is not None:
        return False
    dims = tuple(scale_prior.dims or ())
    if not set(shape_prior.dims or ()) <= set(dims):
        return False
    for key, value in scale_prior.parameters.items():
        if key not in rules or hasattr(value, "distribution"):
            return False
        if np.ndim(value) not in (0, len(dims)):
            return False
    return True


def _rescaled(prior, factor):
    """pymc.dims distribution and parameters of ``factor * X`` for ``X ~ prior``."""
    import pymc.dims as pmd
    from pytensor.xtensor import as_xtensor
    from pytensor.xtensor import math as xmath

    params = {}
    for key, value in prior.parameters.items():
        value = np.asarray(value, dtype=float)
        param = as_xtensor(value, dims=tuple(prior.dims or ()) if value.ndim else ())
        rule = _SCALE_RULES[prior.distribution][key]
        if rule == "times":
            param = param * factor
        elif rule == "divide":
            param = param / factor
        elif rule == "log":
            param = param + xmath.log(factor)
        params[key] = param
    return getattr(pmd, prior.distribution), params


class _SlopeParametrised:
    """Mixin for a pymc-marketing saturation: sample the curve's initial slope, not its scale.

    The data pin down a logistic curve's ``beta * lam`` (its slope at zero spend) far better
    than either parameter, so in the native parametrisation ``log beta`` and ``log lam``
    correlate at about -0.99 and NUTS needs long trajectories or a dense mass matrix. Here the
    free variables are the shape ``lam`` and ``{prefix}_initial_slope`` (``beta * lam / 2``;
    for Michaelis-Menten ``alpha / lam``); the scale parameter is a deterministic of them.
    ``slope | lam`` is the scale's prior rescaled (``beta ~ HalfNormal(s)`` gives
    ``slope | lam ~ HalfNormal(s * lam / 2)``), so the joint prior of (lam, beta), and with it
    the posterior, is exactly the native model's.
    """

    slope: tuple[str, str, int, float]

    def _create_distributions(self, idx=None):
        import pymc.dims as pmd

        if idx is not None:  # indexed parameters: pymc-marketing's own construction
            return super()._create_distributions(idx)
        scale, shape, power, k = self.slope
        names = self.variable_mapping
        shape_var = self.function_priors[shape].create_variable(names[shape], xdist=True)
        scale_prior = self.function_priors[scale]
        dist, params = _rescaled(scale_prior, shape_var ** (-power) / k)
        slope = dist(f"{self.prefix}_initial_slope", **params, dims=scale_prior.dims or None)
        scale_var = pmd.Deterministic(names[scale], k * slope * shape_var**power)
        return {shape: shape_var, scale: scale_var}


def to_prior(name: str, spec: dict[str, Any] | Any):
    """Turn prior data (``{distribution, dims?, centered?, **params}``) into a ``Prior``.

    Parameters may themselves be prior data (hierarchical priors). Raises
    :class:`ModelSpecError` naming ``name`` for an unknown distribution or parameter.
    """
    import pymc as pm
    import pymc.dims as pmd
    from pymc_extras.prior import Prior

    if not isinstance(spec, dict) or "distribution" not in spec:
        raise ModelSpecError(
            f"The prior `{name}` must be a mapping with a `distribution` key, e.g. "
            f"{{distribution: HalfNormal, sigma: 2}}; got {spec!r}."
        )
    data = dict(spec)
    dist = data.pop("distribution")
    usable = sorted(n for n in dir(pmd) if n[:1].isupper() and hasattr(pm, n) and n != "Data")
    if not isinstance(dist, str) or not (hasattr(pm, dist) and hasattr(pmd, dist)):
        raise ModelSpecError(f"The prior `{name}` distribution {dist!r} must be one of {usable}.")
    dims = data.pop("dims", None)
    centered = data.pop("centered", True)
    params = {k: to_prior(f"{name}.{k}", v) if isinstance(v, dict) else v for k, v in data.items()}
    try:
        return Prior(dist, dims=dims, centered=centered, **params)
    except Exception as err:  # pymc_extras raises ValueError/TypeError with its own text
        raise ModelSpecError(f"The prior `{name}` is invalid: {err}") from None


def _prior_to_data(prior) -> dict[str, Any]:
    out: dict[str, Any] = {"distribution": prior.distribution}
    for k, v in prior.parameters.items():
        out[k] = _prior_to_data(v) if hasattr(v, "distribution") else v
    if prior.dims:
        out["dims"] = list(prior.dims) if len(prior.dims) > 1 else prior.dims[0]
    return out


class AdstockConfig(BaseModel):
    """Adstock family and carryover length (in periods)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    family: Literal["delayed", "geometric", "weibull_cdf", "weibull_pdf"] = "geometric"
    l_max: int = Field(8, ge=1, le=104)
    normalize: bool = True


class SaturationConfig(BaseModel):
    """Saturation family, and the coordinates it is sampled in.

    ``parametrisation``: ``slope`` samples the curve's initial slope and its shape parameter
    instead of its scale (same model, better posterior geometry; logistic and
    Michaelis-Menten with a scale-family prior on the scale); ``native`` samples
    pymc-marketing's own parameters; ``auto`` (default) is ``slope`` where it applies.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    family: Literal["hill", "logistic", "michaelis_menten"] = "logistic"
    parametrisation: Literal["auto", "slope", "native"] = "auto"


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
        dup = sorted({c for c in columns if columns.count(c) > 1})
        if dup:
            raise ValueError(f"columns used twice among target/channels/controls: {dup}")
        if "y" in columns:
            raise ValueError("a column may not be called 'y' (pymc-marketing reserves it)")
        allowed = self.prior_names()
        for name, data in self.priors.items():
            if name not in allowed:
                raise ValueError(f"The prior name {name!r} must be one of {allowed}")
            to_prior(name, data)
        if self.saturation.parametrisation == "slope" and not self._slope_possible():
            raise ValueError(
                f"saturation.parametrisation 'slope' needs a logistic or michaelis_menten "
                f"saturation whose scale prior is a scale family with fixed parameters "
                f"(HalfNormal, Gamma, LogNormal...); family {self.saturation.family!r} with "
                f"these priors has none. Use 'auto' or 'native'."
            )
        return self

    def _slope_possible(self) -> bool:
        if self.saturation.family not in SLOPE_FAMILIES:
            return False
        scale, shape, _, _ = SLOPE_FAMILIES[self.saturation.family]
        priors = dict(_saturation_class(self.saturation.family)().model_config)
        priors.update({k: to_prior(k, v) for k, v in self.priors.items()})
        return slope_supported(priors[f"saturation_{scale}"], priors[f"saturation_{shape}"])

    @property
    def slope_parametrised(self) -> bool:
        """Whether the saturation is sampled in slope coordinates (see SaturationConfig)."""
        return self.saturation.parametrisation != "native" and self._slope_possible()

    # ------------------------------------------------------------------ introspection
    @property
    def dims(self) -> tuple[str, ...]:
        return () if self.geo_column is None else ("geo",)

    def prior_names(self) -> list[str]:
        """Every parameter whose prior can be set, for this adstock and saturation."""
        ad = _adstock_class(self.adstock.family)(l_max=self.adstock.l_max)
        sat = _saturation_class(self.saturation.family)()
        names = [*_MODEL_LEVEL_PRIORS, *ad.model_config, *sat.model_config]
        return sorted(names)

    def default_priors(self) -> dict[str, dict[str, Any]]:
        """pymc-marketing's default prior of every media parameter, as data."""
        ad = _adstock_class(self.adstock.family)(l_max=self.adstock.l_max)
        sat = _saturation_class(self.saturation.family)()
        return {k: _prior_to_data(v) for k, v in {**ad.model_config, **sat.model_config}.items()}

    # ------------------------------------------------------------------ YAML
    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise ModelSpecError(_format_validation_error(err, "model spec")) from None

    @classmethod
    def from_yaml(cls, text_or_path: str | Path) -> ModelSpec:
        path = Path(text_or_path) if not str(text_or_path).lstrip().count("\n") else None
        text = path.read_text() if path is not None and path.exists() else str(text_or_path)
        data = yaml.safe_load(text)
        if not isinstance(data, dict):
            raise ModelSpecError(f"A model spec must be a YAML mapping; got {text[:80]!r}.")
        return cls.from_dict(data)

    @classmethod
    def for_world(cls, world, **changes: Any) -> ModelSpec:
        """The default spec for a simulated world's data (its target, channels and proxy)."""
        base = {
            "target_column": world.scenario.target,
            "channel_columns": world.scenario.channel_names,
            "control_columns": ["demand_proxy"],
            "adstock": {"family": "geometric", "l_max": 8},
        }
        return cls.from_dict({**base, **changes})


class ModelData(BaseModel):
    """Data prepared for pymc-marketing: ``X`` (date, [geo], channels, scaled controls), ``y``."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    X: pd.DataFrame
    y: pd.Series
    control_scale: dict[str, float]


def prepare_data(spec: ModelSpec, data: pd.DataFrame) -> ModelData:
    """Check ``data`` against ``spec`` and shape it for pymc-marketing.

    Raises ``ValueError`` naming the column and rows for missing columns, non-numeric or
    missing values, negative spend, and repeated dates; nothing is filled in silently.
    """
    needed = [spec.date_column, spec.target_column, *spec.channel_columns, *spec.control_columns]
    if spec.geo_column:
        needed.append(spec.geo_column)
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise ValueError(
            f"The data lacks column(s) {missing} named in the model spec; "
            f"it has {list(data.columns)}."
        )
    frame = data[needed].copy()
    dates = pd.to_datetime(frame[spec.date_column], errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        raise ValueError(
            f"Column `{spec.date_column}` has values that are not dates "
            f"in rows {bad[:10].tolist()}."
        )
    frame[spec.date_column] = dates
    for col in [spec.target_column, *spec.channel_columns, *spec.control_columns]:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))
        if len(bad):
            raise ValueError(
                f"Column `{col}` has missing or non-numeric values in rows {bad[:10].tolist()}; "
                "pymc-marketing would silently treat them as 0. Fill or drop them first."
            )
        frame[col] = values.astype(float)
    for col in spec.channel_columns:
        bad = np.flatnonzero(frame[col].to_numpy() < 0)
        if len(bad):
            raise ValueError(f"Channel `{col}` has negative spend in rows {bad[:10].tolist()}.")
        if frame[col].max() <= 0:
            raise ValueError(f"Channel `{col}` has no spend at all; it cannot be modelled.")
    key = [spec.date_column, *([spec.geo_column] if spec.geo_column else [])]
    dup = np.flatnonzero(frame.duplicated(subset=key).to_numpy())
    if len(dup):
        raise ValueError(f"Rows {dup[:10].tolist()} repeat a {' x '.join(key)} already present.")
    if spec.geo_column and spec.geo_column != "geo":
        frame = frame.rename(columns={spec.geo_column: "geo"})
    frame = frame.sort_values([spec.date_column, *(["geo"] if spec.geo_column else [])])
    frame = frame.reset_index(drop=True)
    control_scale = {}
    for col in spec.control_columns:
        scale = float(np.abs(frame[col]).max()) or 1.0
        control_scale[col] = scale
        frame[col] = frame[col] / scale
    y = frame.pop(spec.target_column).rename(spec.target_column)
    return ModelData(X=frame, y=y, control_scale=control_scale)


def build_mmm(spec: ModelSpec):
    """Construct (not build) a ``pymc_marketing.mmm.multidimensional.MMM`` for ``spec``."""
    from pymc_marketing.mmm.multidimensional import MMM

    adstock_cls = _adstock_class(spec.adstock.family)
    saturation_cls = _saturation_class(spec.saturation.family, slope=spec.slope_parametrised)
    model_config = {name: to_prior(name, data) for name, data in spec.priors.items()}
    return MMM(
        date_column=spec.date_column,
        target_column=spec.target_column,
        channel_columns=list(spec.channel_columns),
        control_columns=list(spec.control_columns) or None,
        dims=spec.dims or None,
        adstock=adstock_cls(l_max=spec.adstock.l_max, normalize=spec.adstock.normalize),
        saturation=saturation_cls(),
        yearly_seasonality=spec.yearly_seasonality,
        model_config=model_config or None,
    )


def load_mmm(path: str | Path):
    """Load a saved pymc-marketing MMM (netCDF)."""
    from pymc_marketing.mmm.multidimensional import MMM

    return MMM.load(str(path))
