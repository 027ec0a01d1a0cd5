"""Fit an MMM (optionally calibrated with lift tests), collect diagnostics, save and load.

:class:`CalibratedMMM` follows the estimator contract: ``__init__`` stores configuration,
``fit(data)`` checks its inputs before building, returns ``self`` and sets learned state
ending in ``_`` (``mmm_``, ``idata_``, ``diagnostics_``); fitting again forgets the previous
fit (:mod:`mmmcal.models.engines`). ``save`` writes a fit directory
(:mod:`mmmcal.models.fit_dir`) whose ``model.nc`` is pymc-marketing's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
import pymc_marketing
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mmmcal.lift.table import LiftTable
from mmmcal.models.builder import build_mmm, load_mmm, save_mmm
from mmmcal.models.data import ModelData, prepare_fit
from mmmcal.models.fit_dir import read_fit_dir, write_fit_dir
from mmmcal.models.learned_state import check_fitted, forget_learned_state
from mmmcal.models.lift_data import validate_model_lift
from mmmcal.models.lift_likelihood import add_lift_likelihood
from mmmcal.models.prior_check import check_priors, model_coords
from mmmcal.models.spec import ModelSpec
from mmmcal.options import LIFT_DISTRIBUTIONS, LikelihoodChoice
from mmmcal.sampling.sampler import SampleTimes, sample_nutpie

# Lift-table columns that shape a window-likelihood model; the other values enter as data.
_LIFT_DESIGN_COLUMNS = (
    "channel",
    "geo",
    "n_periods",
    "date_start",
    "date_end",
    "measured_from",
    "measured_to",
    "aggregation",
)

__all__ = ["CalibratedMMM", "Diagnostics", "SamplerConfig"]

# Draws and tuning steps per chain from which ``adaptation="auto"`` tries the low-rank matrix.
FULL_RUN = 500


class SamplerConfig(BaseModel):
    """How to sample: nutpie by default; draws and tune per chain.

    The defaults were chosen by ``benchmarks/fit_reliability.py`` and ``fit_speed.py``. With
    the saturation in slope coordinates (``mmmcal.model.SaturationConfig``) nutpie's low-rank
    mass matrix needs a third of the gradients of its standard diagonal one, but has left a
    chain stuck in some worlds; the diagonal one mixed in every world tried. ``adaptation``:
    ``auto`` (default) samples full runs (draws and tune >= 500) with the low-rank matrix and
    samples again with the diagonal one, re-using the compiled model, when the fit fails its
    checks (:attr:`Diagnostics.ok`); shorter runs use the diagonal matrix. ``diag`` and
    ``low_rank`` use one matrix, no second try. ``target_accept=0.95`` removes the rare
    divergences near ``adstock_alpha = 0`` that 0.9 leaves (one in 4,000 draws in two of
    eight worlds).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    draws: int = Field(1000, ge=10)
    tune: int = Field(1000, ge=10)
    chains: int = Field(4, ge=1, le=16)
    target_accept: float = Field(0.95, gt=0.5, lt=1)
    seed: int = Field(0, ge=0)
    sampler: str = Field("nutpie", pattern="^(nutpie|pymc|numpyro|blackjax)$")
    cores: int | None = Field(None, ge=1)
    progress: bool = False
    # nutpie only: mass-matrix adaptation, re-use of a compiled model of the same structure,
    # and mmmcal's fast compile path (False, or MMMCAL_FAST_COMPILE=off: nutpie's own build).
    adaptation: Literal["auto", "diag", "low_rank"] = "auto"
    reuse_compiled: bool = True
    fast_compile: bool = True

    @property
    def first_adaptation(self) -> Literal["diag", "low_rank"]:
        """The mass matrix a fit starts with (``auto``: low-rank for full runs)."""
        if self.adaptation != "auto":
            return self.adaptation
        full = min(self.draws, self.tune) >= FULL_RUN
        return "low_rank" if full else "diag"

    @model_validator(mode="after")
    def _enough_tuning_for_low_rank(self) -> SamplerConfig:
        if self.sampler == "nutpie" and self.adaptation == "low_rank" and self.tune < 300:
            raise ValueError(
                f"tune = {self.tune} is too short for the low-rank mass matrix (chains can "
                "stay stuck): use tune >= 300, or adaptation='diag' for shorter runs."
            )
        return self

    @classmethod
    def fast(cls, **changes: Any) -> SamplerConfig:
        """A smoke-test configuration: tiny draws, not for results."""
        return cls(**{"draws": 150, "tune": 300, "chains": 2, **changes})


@dataclass(frozen=True)
class Diagnostics:
    """Sampler health of one fit: all must look fine before any number is trusted."""

    divergences: int
    max_rhat: float
    min_ess_bulk: float
    fit_seconds: float
    draws: int
    chains: int

    @property
    def ess_needed(self) -> int:
        """Minimum bulk ESS for trustworthy intervals: 100 per chain."""
        return 100 * self.chains

    @property
    def problems(self) -> list[str]:
        """Why the fit fails its checks, one reason each (empty: it passes)."""
        found = []
        if self.divergences:
            found.append(f"{self.divergences} divergent transitions")
        if not np.isfinite(self.max_rhat):
            found.append("R-hat is undefined (it needs at least two chains)")
        elif self.max_rhat > 1.01:
            found.append(f"max R-hat {self.max_rhat:.3f} > 1.01 (chains disagree)")
        if not (self.min_ess_bulk >= self.ess_needed):
            found.append(
                f"min bulk ESS {self.min_ess_bulk:.0f} < {self.ess_needed} (100 per chain)"
            )
        return found

    @property
    def ok(self) -> bool:
        """Whether the fit passes its checks: no divergence, R-hat <= 1.01, enough ESS."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """Plain values; R-hat and ESS are None where undefined (e.g. one chain)."""
        return {
            k: None if isinstance(v, float) and not np.isfinite(v) else v
            for k, v in asdict(self).items()
        }


def _timings(saved: dict[str, Any]) -> SampleTimes:
    """Saved timings; fits saved before ``source`` existed carry ``reused`` instead."""
    saved = {k: float("nan") if v is None else v for k, v in saved.items()}
    if "reused" in saved:
        saved["source"] = "memory" if saved.pop("reused") else "compiled"
    return SampleTimes(**saved)


def _diagnostics(idata, free_vars: list[str], seconds: float) -> Diagnostics:
    import arviz as az

    post = idata.posterior[free_vars]
    rhat = az.rhat(post).to_array().values
    ess = az.ess(post, method="bulk").to_array().values
    return Diagnostics(
        divergences=int(idata.sample_stats["diverging"].sum()),
        max_rhat=float(np.nanmax(rhat)) if np.isfinite(rhat).any() else float("nan"),
        min_ess_bulk=float(np.nanmin(ess)) if np.isfinite(ess).any() else float("nan"),
        fit_seconds=round(float(seconds), 2),
        draws=int(post.sizes["draw"]),
        chains=int(post.sizes["chain"]),
    )


class CalibratedMMM:
    """A pymc-marketing MMM built from a :class:`ModelSpec`, calibrated with a lift table.

    Parameters
    ----------
    spec
        What to build (``requested_spec``); ``spec`` is the one fitted, with
        ``spend_factor: auto`` decided on the data.
    lift
        Lift table (raw units, per period), or None for an uncalibrated model.
    likelihood
        ``auto`` (window rows use the window likelihood, others the steady state),
        ``window`` or ``steady_state``.
    lift_dist
        Likelihood of each lift: ``normal`` (default), ``studentt`` (robust), or ``gamma``
        (steady-state rows only, pymc-marketing's default).
    sampler
        Sampler settings.
    name
        Label of this model in scorecards and reports.
    """

    engine: ClassVar[str] = "bayes"
    timings_: SampleTimes | None  # None for fits saved before timings were recorded

    def __init__(
        self,
        spec: ModelSpec,
        lift: pd.DataFrame | None = None,
        *,
        likelihood: LikelihoodChoice = "auto",
        lift_dist: str = "normal",
        sampler: SamplerConfig | None = None,
        name: str = "model",
    ):
        self.requested_spec = spec  # as given; `spec` is what the fit uses (build decides)
        self.spec = spec
        self.lift = lift  # an empty table is refused by the contract, in build
        self.likelihood = likelihood
        self.lift_dist = lift_dist
        self.sampler = sampler or SamplerConfig()
        self.name = name

    # ------------------------------------------------------------------ fitting
    def build(self, data: pd.DataFrame) -> CalibratedMMM:
        """Build the PyMC model (with its lift terms) without sampling.

        Forgets the previous fit, then checks ``lift_dist``, the data, the priors against
        the data's dims (:mod:`mmmcal.models.prior_check`) and the lift table before
        building anything.
        """
        forget_learned_state(self)
        if self.lift_dist not in LIFT_DISTRIBUTIONS:
            raise ValueError(
                f"The `lift_dist` {self.lift_dist!r} must be one of {list(LIFT_DISTRIBUTIONS)}."
            )
        self.spec, prepared = prepare_fit(self.requested_spec, data)
        X = prepared.X
        geos = X["geo"].unique() if self.spec.geo_column else None
        check_priors(self.spec, model_coords(self.spec, X[self.spec.date_column].unique(), geos))
        table = self._checked_lift(prepared)
        self.data_ = prepared
        mmm = build_mmm(self.spec)
        mmm.build_model(self.data_.X, self.data_.y)
        self.lift_counts_ = {"window": 0, "steady_state": 0}
        if table is not None:
            self.lift_counts_ = add_lift_likelihood(
                mmm, table, likelihood=self.likelihood, dist=self.lift_dist
            )
        mmm.add_original_scale_contribution_variable(var=["channel_contribution"])
        self.mmm_ = mmm
        return self

    def _checked_lift(self, data: ModelData) -> LiftTable | None:
        """The lift table checked against ``data`` as ``check-lift --model`` checks it.

        ``LiftTableError`` names the rows it can't take (none: an empty table).
        """
        if self.lift is None:
            return None
        return validate_model_lift(self.lift, self.spec, data)

    def structure_key(self) -> str:
        """What identifies the built model apart from its data: equal keys compile alike.

        The spec, the data's columns and shape, the likelihood choices and the lift table's
        design columns; values that enter the model as data (spend levels, measured lifts,
        sigmas) are left out, except on steady-state rows, which pymc-marketing adds as
        constants.
        """
        parts: list[Any] = [
            self.spec.to_yaml(),
            list(self.data_.X.columns),
            self.data_.X.shape,
            self.likelihood,
            self.lift_dist,
        ]
        if self.lift is not None:
            design = self.lift
            if self.lift_counts_["steady_state"] == 0:
                design = design[[c for c in _LIFT_DESIGN_COLUMNS if c in design]]
            parts.append(design.to_csv(index=False))
        return hashlib.sha256(repr(parts).encode()).hexdigest()

    def fit(self, data: pd.DataFrame) -> CalibratedMMM:
        """Build and sample; sets ``mmm_``, ``idata_``, ``diagnostics_`` and ``timings_``."""
        self.build(data)
        if self.sampler.sampler == "nutpie":
            return self._fit_nutpie()
        s = self.sampler
        kwargs: dict[str, Any] = {
            "draws": s.draws,
            "tune": s.tune,
            "chains": s.chains,
            "target_accept": s.target_accept,
            "random_seed": s.seed,
            "progressbar": s.progress,
            "nuts_sampler": s.sampler,
        }
        if s.cores:
            kwargs["cores"] = s.cores
        start = time.perf_counter()
        self.idata_ = self.mmm_.fit(self.data_.X, self.data_.y, **kwargs)
        seconds = time.perf_counter() - start
        self.timings_ = SampleTimes(
            compile_s=float("nan"), sample_s=seconds, deterministics_s=float("nan")
        )
        free = [v.name for v in self.mmm_.model.free_RVs]
        self.diagnostics_ = _diagnostics(self.idata_, free, seconds)
        return self

    def _fit_nutpie(self) -> CalibratedMMM:
        """Sample with nutpie (:mod:`mmmcal.sampling.sampler`), finish as pymc-marketing does."""
        s, mmm = self.sampler, self.mmm_
        free = [v.name for v in mmm.model.free_RVs]
        start = time.perf_counter()
        idata, self.timings_, self.diagnostics_ = self._sample_nutpie(s.first_adaptation, free)
        retry = s.adaptation == "auto" and s.first_adaptation == "low_rank"
        if retry and not self.diagnostics_.ok:  # a stuck or diverging chain: the robust matrix
            first = self.timings_
            idata, second, self.diagnostics_ = self._sample_nutpie("diag", free)
            self.timings_ = dataclasses.replace(
                second,
                compile_s=first.compile_s + second.compile_s,
                sample_s=first.sample_s + second.sample_s,
                deterministics_s=first.deterministics_s + second.deterministics_s,
                source=first.source,
                retried=True,
            )
        idata.posterior.attrs["pymc_marketing_version"] = pymc_marketing.__version__
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The group fit_data is not defined")
            idata.add_groups(fit_data=mmm.create_fit_data(self.data_.X, self.data_.y))
        mmm.idata = idata
        mmm.set_idata_attrs(idata)
        self.idata_ = idata
        seconds = time.perf_counter() - start
        self.diagnostics_ = dataclasses.replace(self.diagnostics_, fit_seconds=seconds)
        return self

    def _sample_nutpie(self, adaptation: Literal["diag", "low_rank"], free: list[str]):
        """One nutpie run with ``adaptation``: (idata, timings, diagnostics)."""
        s = self.sampler
        start = time.perf_counter()
        idata, timings = sample_nutpie(
            self.mmm_.model,
            key=self.structure_key() if s.reuse_compiled else None,
            draws=s.draws,
            tune=s.tune,
            chains=s.chains,
            target_accept=s.target_accept,
            seed=s.seed,
            cores=s.cores,
            adaptation=adaptation,
            progress=s.progress,
            fast_compile=s.fast_compile,
        )
        return idata, timings, _diagnostics(idata, free, time.perf_counter() - start)

    # ------------------------------------------------------------------ results
    def channel_contributions(self):
        """Posterior channel contributions, target units: dims (chain, draw, date, channel).

        Geo models are summed over geos.
        """
        check_fitted(self, "idata_")
        cc = self.idata_.posterior["channel_contribution_original_scale"]
        return cc.sum("geo") if "geo" in cc.dims else cc

    def target_total(self) -> float:
        check_fitted(self, "data_")
        return float(self.data_.y.sum())

    def spend_totals(self) -> pd.Series:
        check_fitted(self, "data_")
        return self.data_.X[list(self.spec.channel_columns)].sum()

    # ------------------------------------------------------------------ persistence
    def save(self, out_dir: str | Path) -> Path:
        """Write a fit directory: ``model.nc``, ``spec.yaml``, ``fit.json``, ``lift.csv`` if any."""
        check_fitted(self, "idata_")
        meta = {
            "likelihood": self.likelihood,
            "lift_dist": self.lift_dist,
            "lift_counts": self.lift_counts_,
            "sampler": self.sampler.model_dump(),
            "diagnostics": self.diagnostics_.to_dict(),
            "timings": None
            if self.timings_ is None  # a fit saved before timings were recorded
            else {
                k: None if isinstance(v, float) and not np.isfinite(v) else v
                for k, v in asdict(self.timings_).items()
            },
            "control_scale": self.data_.control_scale,
        }
        return write_fit_dir(
            out_dir,
            engine=self.engine,
            name=self.name,
            spec=self.spec,
            lift=self.lift,
            meta=meta,
            problems=self.diagnostics_.problems,
            write_model=lambda path: save_mmm(self.mmm_, path),
        )

    @classmethod
    def load(cls, fit_dir: str | Path) -> CalibratedMMM:
        """Load a fit directory written by :meth:`save`."""
        fit = read_fit_dir(fit_dir, cls.engine)
        meta, spec = fit.meta, fit.spec
        self = cls(
            spec,
            fit.lift,
            likelihood=meta["likelihood"],
            lift_dist=meta["lift_dist"],
            sampler=SamplerConfig(**meta["sampler"]),
            name=fit.name,
        )
        mmm = fit.read_model(load_mmm, "posterior", "fit_data")
        self.mmm_ = mmm
        self.idata_ = mmm.idata
        self.lift_counts_ = meta["lift_counts"]
        self.timings_ = _timings(meta["timings"]) if meta.get("timings") else None
        saved: dict[str, Any] = {
            k: float("nan") if v is None else v for k, v in meta["diagnostics"].items()
        }
        self.diagnostics_ = Diagnostics(**saved)
        fit_data = mmm.idata.fit_data.to_dataframe().reset_index()
        y = fit_data.pop(spec.target_column)
        self.data_ = ModelData(X=fit_data, y=y, control_scale=meta["control_scale"])
        return self
