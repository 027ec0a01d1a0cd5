"""The Robyn-style ridge engine: :class:`RidgeMMM`.

Media features (:mod:`mmmcal.models.ridge_features`), the spec's controls, a linear trend and
Fourier terms enter a ridge regression on standardised columns (intercept unpenalised, media
coefficients >= 0, solved as non-negative least squares on the augmented system). The
hyperparameters are searched (:mod:`mmmcal.models.search`) on these objectives, all minimised:

- NRMSE: root mean squared residual over the target's range (``max(y) - min(y)``).
- DECOMP.RSSD: ``sqrt(sum_c (effect share_c - spend share_c)**2)`` over media channels.
- MAPE.LIFT, with a lift table (:mod:`mmmcal.models.ridge_lift`).

Intervals: the coefficients are refitted at the selected hyperparameters on ``n_bootstrap``
moving-block bootstrap resamples of the residuals (blocks of ``block_length`` periods). They
ignore the hyperparameters' uncertainty, so they are narrower than a posterior.
:meth:`RidgeMMM.channel_contributions` returns the draws with dims
(chain=1, draw, date, channel), in target units, so scorecards and reports work unchanged.
Saved fits keep the draws as ArviZ ``InferenceData`` (:mod:`mmmcal.models.ridge_store`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from mmmcal.lift.table import validate_lift_table
from mmmcal.models.data import ModelData, prepare_data
from mmmcal.models.fit_dir import read_fit_dir, write_fit_dir
from mmmcal.models.learned_state import check_fitted, forget_learned_state
from mmmcal.models.lift_data import validate_model_lift
from mmmcal.models.ridge_features import (
    RIDGE_ADSTOCKS,
    MediaFeatures,
    RidgeInputs,
    decode_hyperparameters,
    hyperparameter_names,
    media_features,
)
from mmmcal.models.ridge_lift import LiftRows, mape_lift
from mmmcal.models.ridge_store import RidgeFitValues, read_ridge_fit, ridge_inference_data
from mmmcal.models.search import search
from mmmcal.models.spec import ModelSpec
from mmmcal.progress import progress_steps

__all__ = ["BaselineDiagnostics", "RidgeConfig", "RidgeMMM"]


class RidgeConfig(BaseModel):
    """Settings of the ridge and bounded engines.

    ``budget`` Nevergrad evaluations; ``n_bootstrap`` resamples of ``block_length`` periods;
    ``z`` the bound width of the bounded engine in lift sigmas; ``trend`` adds a linear trend.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    budget: int = Field(1000, ge=10)
    seed: int = Field(0, ge=0)
    n_bootstrap: int = Field(200, ge=2)
    block_length: int = Field(8, ge=1)
    z: float = Field(1.96, gt=0)
    trend: bool = True
    progress: bool = False


@dataclass(frozen=True)
class BaselineDiagnostics:
    """How the search went: selected objectives (None where not used) and effort."""

    engine: str
    nrmse: float
    decomp_rssd: float
    mape_lift: float | None
    fit_seconds: float
    n_evaluations: int
    n_pareto: int
    n_bootstrap: int

    @property
    def problems(self) -> list[str]:
        """Why the fit is unusable (empty: usable)."""
        if np.isfinite(self.nrmse) and np.isfinite(self.decomp_rssd):
            return []
        return [
            f"the search found no finite fit (NRMSE {self.nrmse}, DECOMP.RSSD {self.decomp_rssd})"
        ]

    @property
    def ok(self) -> bool:
        """A usable fit: finite objectives."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RidgeMMM:
    """Robyn-style ridge MMM with a Nevergrad hyperparameter search (see module docstring).

    Parameters
    ----------
    spec
        Channels, controls, adstock family and ``l_max``, ``yearly_seasonality`` (national).
    lift
        Lift table (raw units); adds the MAPE.LIFT objective. None: uncalibrated.
    config
        Search, bootstrap and seed settings.
    name
        Label of this model in scorecards and reports.
    """

    engine: ClassVar[str] = "ridge"

    def __init__(
        self,
        spec: ModelSpec,
        lift: pd.DataFrame | None = None,
        *,
        config: RidgeConfig | None = None,
        name: str = "model",
    ):
        self.spec = spec
        self.lift = lift  # an empty table is refused by the contract, in fit
        self.config = config or RidgeConfig()
        self.name = name

    @property
    def channels(self) -> list[str]:
        return list(self.spec.channel_columns)

    # ------------------------------------------------------------------ fitting
    def fit(self, data: pd.DataFrame) -> RidgeMMM:
        """Search hyperparameters, pick from the Pareto front, bootstrap the coefficients."""
        start = time.perf_counter()
        self._start_fit(data)
        hp, n_front = self._search(use_lift=self.lift_rows_ is not None)
        self._finish(hp, self._solve, n_front, start)
        return self

    def _start_fit(self, data: pd.DataFrame) -> None:
        """Forget the previous fit; check the spec, data and lift table; set the inputs."""
        forget_learned_state(self)
        self._check_spec()
        prepared = prepare_data(self.spec, data)
        self.lift_rows_ = self._lift_rows(prepared)
        self.data_ = prepared
        self.inputs_ = RidgeInputs.from_data(self.spec, self.data_, self.config.trend)

    def _check_spec(self) -> None:
        if self.spec.geo_column is not None:
            raise ValueError(
                f"The {self.engine} engine fits national data; the spec has geo column "
                f"{self.spec.geo_column!r}. Aggregate to national or use --engine bayes."
            )
        if self.spec.adstock.family not in RIDGE_ADSTOCKS:
            raise ValueError(
                f"The {self.engine} engine's `adstock` family {self.spec.adstock.family!r} must "
                f"be one of {list(RIDGE_ADSTOCKS)}."
            )

    def _lift_rows(self, data: ModelData) -> LiftRows | None:
        """The lift table checked against the fitted ``data``, as arrays (None: uncalibrated)."""
        if self.lift is None:
            return None
        dates = data.X[self.spec.date_column]
        table = validate_model_lift(self.lift, self.spec, data)
        if "geo" in table:
            geo = table["geo"]
            bad = np.flatnonzero((geo.notna() & (geo != "national")).to_numpy())
            if len(bad):
                raise ValueError(
                    f"Lift rows {bad.tolist()} are geo rows; the {self.engine} engine is "
                    "national: keep the rows with geo 'national' (or empty)."
                )
        return LiftRows.from_table(table, self.channels, self.spec.adstock.l_max, dates)

    def _features(self, hp: dict[str, Any]) -> MediaFeatures:
        return media_features(self.spec, self.inputs_.lags, hp)

    def _design(self, media: np.ndarray):
        X = np.column_stack([media, self.inputs_.free])
        mean, sd = X.mean(axis=0), X.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        return X, mean, sd

    def _lambda(self, h: float) -> float:
        return len(self.inputs_.y) * 10 ** (-4 + 3 * h)

    def _solve(self, media, lam, y):
        """Ridge coefficients (original units) and intercept; media coefficients >= 0."""
        from scipy.optimize import nnls

        X, mean, sd = self._design(media)
        Xs = (X - mean) / sd
        yc = y - y.mean()
        k, q = media.shape[1], self.inputs_.free.shape[1]
        A = np.column_stack([Xs[:, :k], Xs[:, k:], -Xs[:, k:]])
        A = np.vstack([A, np.sqrt(lam) * np.eye(k + 2 * q)])
        b = np.concatenate([yc, np.zeros(k + 2 * q)])
        sol = nnls(A, b, maxiter=50 * A.shape[1])[0]
        coef = np.concatenate([sol[:k], sol[k : k + q] - sol[k + q :]]) / sd
        return coef, float(y.mean() - mean @ coef)

    def _objectives(self, media, coef, intercept, g=None) -> list[float]:
        """NRMSE, DECOMP.RSSD and, given unit lifts ``g``, MAPE.LIFT of one solution."""
        pred = intercept + np.column_stack([media, self.inputs_.free]) @ coef
        y = self.inputs_.y
        nrmse = float(np.sqrt(np.mean((y - pred) ** 2)) / (y.max() - y.min()))
        effect = coef[: media.shape[1]] * media.sum(axis=0)
        share = effect / effect.sum() if effect.sum() > 0 else np.zeros_like(effect)
        rssd = float(np.sqrt(((share - self.inputs_.spend_share) ** 2).sum()))
        out = [nrmse, rssd]
        if g is not None and self.lift_rows_ is not None:
            out.append(mape_lift(coef[: media.shape[1]], g, self.lift_rows_))
        return out

    def _evaluate(self, u: np.ndarray, use_lift: bool) -> list[float]:
        hp = decode_hyperparameters(self.spec, u)
        features = self._features(hp)
        coef, intercept = self._solve(features.media, self._lambda(hp["lambda_h"]), self.inputs_.y)
        rows = self.lift_rows_ if use_lift else None
        g = None if rows is None else rows.unit_lift(*features.curve)
        return self._objectives(features.media, coef, intercept, g)

    def _search(self, use_lift: bool) -> tuple[dict[str, Any], int]:
        """Run the search; the Pareto pick's hyperparameters and the front's size."""
        cfg = self.config
        result = search(
            lambda u: self._evaluate(u, use_lift),
            len(hyperparameter_names(self.spec)),
            budget=cfg.budget,
            seed=cfg.seed,
            progress=cfg.progress,
            label=f"{self.name}: search",
        )
        return decode_hyperparameters(self.spec, result.best), result.n_front

    def _bootstrap(self, media, lam: float, solve, coef, intercept):
        """Coefficient and intercept draws on moving-block resamples of the residuals."""
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        fitted = intercept + np.column_stack([media, self.inputs_.free]) @ coef
        resid = self.inputs_.y - fitted
        n, b = len(resid), min(cfg.block_length, len(resid))
        coefs, intercepts = [], []
        with progress_steps(cfg.progress, f"{self.name}: bootstrap", cfg.n_bootstrap) as step:
            for _ in range(cfg.n_bootstrap):
                starts = rng.integers(0, n - b + 1, size=-(-n // b))
                idx = (starts[:, None] + np.arange(b)[None, :]).ravel()[:n]
                c, i = solve(media, lam, fitted + resid[idx])
                coefs.append(c)
                intercepts.append(i)
                step()
        return np.array(coefs), np.array(intercepts)

    def _finish(self, hp: dict[str, Any], solve, n_front: int, start: float) -> None:
        """Solve and bootstrap at the selected hyperparameters ``hp``; set the learned state."""
        features = self._features(hp)
        lam = self._lambda(hp["lambda_h"])
        coef, intercept = solve(features.media, lam, self.inputs_.y)
        self.coef_draws_, self.intercept_draws_ = self._bootstrap(
            features.media, lam, solve, coef, intercept
        )
        g = None if self.lift_rows_ is None else self.lift_rows_.unit_lift(*features.curve)
        nrmse, rssd, *mape = self._objectives(features.media, coef, intercept, g)
        self.hyperparameters_ = {**hp, "lambda": lam}
        self.coef_, self.intercept_ = coef, intercept
        self.features_ = features
        self.diagnostics_ = BaselineDiagnostics(
            engine=self.engine,
            nrmse=round(nrmse, 5),
            decomp_rssd=round(rssd, 5),
            mape_lift=round(mape[0], 5) if mape else None,
            fit_seconds=round(time.perf_counter() - start, 2),
            n_evaluations=self.config.budget,
            n_pareto=n_front,
            n_bootstrap=self.config.n_bootstrap,
        )

    # ------------------------------------------------------------------ results
    def channel_contributions(self):
        """Bootstrap channel contributions, target units: dims (chain=1, draw, date, channel)."""
        import xarray as xr

        check_fitted(self, "coef_draws_")
        k = len(self.channels)
        draws = self.coef_draws_[:, None, :k] * self.features_.media[None, :, :]
        dates = pd.to_datetime(self.data_.X[self.spec.date_column]).to_numpy()
        return xr.DataArray(
            draws[None],
            dims=("chain", "draw", "date", "channel"),
            coords={
                "chain": [0],
                "draw": np.arange(len(draws)),
                "date": dates,
                "channel": self.channels,
            },
            name="channel_contribution",
        )

    def target_total(self) -> float:
        check_fitted(self, "data_")
        return float(self.data_.y.sum())

    def spend_totals(self) -> pd.Series:
        check_fitted(self, "data_")
        return self.data_.X[self.channels].sum()

    def response_draws(self, spend: np.ndarray) -> np.ndarray:
        """Steady-state contribution per period at ``spend`` (grid, channel).

        Returns (draw, grid, channel), target units.
        """
        check_fitted(self, "coef_draws_")
        f = self.features_.steady_response(spend)
        return self.coef_draws_[:, None, : len(self.channels)] * f[None]

    def implied_lift_draws(self, lift: pd.DataFrame) -> np.ndarray:
        """Model-implied lift per row of ``lift`` (rows' own units): (draw, row)."""
        check_fitted(self, "coef_draws_")
        dates = self.data_.X[self.spec.date_column]
        table = validate_lift_table(lift, self.channels, dates=dates)
        rows = LiftRows.from_table(table, self.channels, self.spec.adstock.l_max, dates)
        g = rows.unit_lift(*self.features_.curve)
        return self.coef_draws_[:, rows.channel_idx] * g[None, :]

    def mu_draws(self) -> np.ndarray:
        """Expected target per date of each bootstrap draw: (draw, date)."""
        check_fitted(self, "coef_draws_")
        X = np.column_stack([self.features_.media, self.inputs_.free])
        return self.intercept_draws_[:, None] + self.coef_draws_ @ X.T

    def residual_sd(self) -> float:
        """Standard deviation of the point fit's residuals (target units)."""
        check_fitted(self, "coef_")
        X = np.column_stack([self.features_.media, self.inputs_.free])
        return float(np.std(self.inputs_.y - self.intercept_ - X @ self.coef_))

    # ------------------------------------------------------------------ persistence
    def save(self, out_dir: str | Path) -> Path:
        """Write a fit directory; its ``model.nc`` holds the draws (see ``ridge_store``)."""
        check_fitted(self, "coef_draws_")
        idata = ridge_inference_data(self.spec, self.stored_values())
        return write_fit_dir(
            out_dir,
            engine=self.engine,
            name=self.name,
            spec=self.spec,
            lift=self.lift,
            meta={},
            problems=self.diagnostics_.problems,
            write_model=lambda path: idata.to_netcdf(str(path)),
        )

    def stored_values(self) -> RidgeFitValues:
        """The learned values a saved fit keeps."""
        check_fitted(self, "coef_draws_")
        return RidgeFitValues(
            data=self.data_,
            free_names=self.inputs_.free_names,
            hyperparameters=self.hyperparameters_,
            coef_draws=self.coef_draws_,
            intercept_draws=self.intercept_draws_,
            coef=self.coef_,
            intercept=self.intercept_,
            config=self.config.model_dump(),
            diagnostics=self.diagnostics_.to_dict(),
        )

    @classmethod
    def load(cls, fit_dir: str | Path) -> RidgeMMM:
        """Load a fit directory written by :meth:`save`."""
        fit = read_fit_dir(fit_dir, cls.engine)
        values = fit.read_model(lambda path: read_ridge_fit(path, fit.spec))
        self = cls(fit.spec, fit.lift, config=RidgeConfig(**values.config), name=fit.name)
        self._restore(values)
        return self

    def _restore(self, values: RidgeFitValues) -> None:
        """Set the learned state from stored ``values``."""
        self.data_ = values.data
        self.lift_rows_ = self._lift_rows(values.data)
        self.inputs_ = RidgeInputs.from_data(self.spec, self.data_, self.config.trend)
        self.hyperparameters_ = values.hyperparameters
        self.features_ = self._features(values.hyperparameters)
        self.coef_draws_, self.intercept_draws_ = values.coef_draws, values.intercept_draws
        self.coef_, self.intercept_ = values.coef, values.intercept
        self.diagnostics_ = BaselineDiagnostics(**values.diagnostics)
