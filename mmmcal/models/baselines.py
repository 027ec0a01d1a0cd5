"""Non-Bayesian calibrated MMMs as baselines, scored by the same scorecard and report.

Engines (pick one with :func:`make_engine`; reload any fit directory with :func:`load_fit`):

``bayes``
    :class:`mmmcal.fit.CalibratedMMM`, the pymc-marketing MMM with lift likelihoods.
``ridge`` (:class:`RidgeMMM`, Robyn-style)
    Per channel an adstock (geometric ``theta``, or Weibull ``shape``/``scale`` in periods;
    from the spec's ``adstock`` family, ``l_max`` lags, unnormalised) and Robyn's Hill
    saturation ``a**alpha / (a**alpha + k**alpha)`` with inflexion
    ``k = (1 - gamma) * min(a) + gamma * max(a)`` over the adstocked data ``a`` (whatever the
    spec's saturation family). Media, the spec's controls, a linear trend and the spec's
    ``yearly_seasonality`` Fourier terms enter a ridge regression on standardised columns
    (intercept unpenalised, media coefficients >= 0, solved as non-negative least squares on
    the augmented system). Hyperparameters (adstock, ``alpha``, ``gamma`` per channel and
    ``lambda = n * 10**(-4 + 3 h)``, ``h`` in [0, 1]) are searched with Nevergrad's
    ``TwoPointsDE`` on the objectives NRMSE, DECOMP.RSSD and, with a lift table, MAPE.LIFT.
``bounded`` (:class:`BoundedMMM`)
    The ridge's transforms, searched without the lift term (NRMSE and DECOMP.RSSD), then
    each tested channel's coefficient bounded by its lift tests and solved with cvxpy.

Objectives (all minimised):

- NRMSE: root mean squared residual over the target's range (``max(y) - min(y)``).
- DECOMP.RSSD: ``sqrt(sum_c (effect share_c - spend share_c)**2)`` over media channels.
- MAPE.LIFT: mean over lift rows of ``|lift_model - delta_y| / |delta_y|``. The model lift of
  a row is computed exactly as :mod:`mmmcal.models.lift_likelihood` defines it: spend steady
  at ``x`` long enough for carryover to settle, then ``x + delta_x`` for ``n_periods``; the media
  response with minus without the change, over the measured periods (``measured_from`` ..
  ``measured_to``), averaged or summed per ``aggregation``. Rows without a window use the
  steady-state curve difference. At fixed transforms the lift is ``beta * g`` (``beta`` the
  channel's coefficient, ``g`` the lift of the transformed feature).

Pareto rule: every evaluation is recorded; among the non-dominated ones, each objective is
min-max normalised over the front and the candidate closest (Euclidean) to the origin wins.

Bounds rule (``bounded``): a row measures ``beta * g`` (``g``: its modelled lift per unit
coefficient), so it estimates ``beta`` as ``delta_y / g`` with standard error
``sigma / |g|``. A channel's rows (the weeks of one test, or several tests) are combined by
precision weighting, and its coefficient is bounded to ``estimate +/- z se`` (``z = 1.96`` by
default) and ``beta >= 0``. A bound entirely below zero, a row whose spend change has no
modelled response (``g = 0``) or an unknown channel is an error naming the rows.

Use: ``make_engine("ridge", spec, lift, budget=1000, seed=0).fit(data)`` returns the fitted
estimator; a study runner maps an arm's ``engine: bayes|ridge|bounded`` (plus its options) to
a fit the same way. ``fit.save(dir)`` writes a fit directory (``fit.json`` names the engine)
that ``load_fit(dir)``, ``mmmcal score`` and ``mmmcal report`` read.

Intervals: the coefficients are refitted at the selected hyperparameters on ``n_bootstrap``
moving-block bootstrap resamples of the residuals (blocks of ``block_length`` periods). They
ignore the hyperparameters' uncertainty, so they are narrower than a posterior.
:meth:`RidgeMMM.channel_contributions` returns the draws with dims
(chain=1, draw, date, channel), in target units, so scorecards and reports work unchanged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from mmmcal.lift.table import read_lift_table, validate_lift_table
from mmmcal.lift.windows import split_rows, to_per_period
from mmmcal.models.data import ModelData, prepare_data
from mmmcal.models.lift_likelihood import WindowLiftTerm
from mmmcal.models.spec import ModelSpec

__all__ = [
    "ENGINES",
    "BaselineDiagnostics",
    "BoundedMMM",
    "RidgeConfig",
    "RidgeMMM",
    "load_fit",
    "make_engine",
]

ENGINES = ("bayes", "ridge", "bounded")
_ADSTOCKS = ("geometric", "weibull_cdf", "weibull_pdf")
# Search ranges (the search runs on [0, 1] and maps linearly); Weibull ``scale`` runs over
# 0.5 .. l_max periods and the ridge penalty over n * 10**-4 .. n * 10**-1.
RANGES: dict[str, tuple[float, float]] = {
    "theta": (0.0, 0.9),
    "shape": (0.1, 5.0),
    "alpha": (0.5, 3.0),
    "gamma": (0.3, 1.0),
}


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
    def ok(self) -> bool:
        """A usable fit: finite objectives."""
        return bool(np.isfinite(self.nrmse) and np.isfinite(self.decomp_rssd))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- transforms


def adstock_weights(family: str, params: dict[str, float], l_max: int) -> np.ndarray:
    """Lag weights (lag 0 first, unnormalised) of a geometric or Weibull adstock."""
    if family == "geometric":
        return params["theta"] ** np.arange(l_max, dtype=float)
    t = np.arange(1, l_max + 1, dtype=float)
    z = (t / params["scale"]) ** params["shape"]
    if family == "weibull_cdf":
        return np.cumprod(np.concatenate([[1.0], np.exp(-z[:-1])]))
    pdf = params["shape"] / params["scale"] * z ** (1 - 1 / params["shape"]) * np.exp(-z)
    span = pdf.max() - pdf.min()
    return (pdf - pdf.min()) / span if span > 0 else np.ones(l_max)


def hill(a: np.ndarray, alpha: float, inflexion: float) -> np.ndarray:
    """Robyn's Hill saturation of adstocked spend ``a`` (currency per period), in [0, 1)."""
    a = np.maximum(np.asarray(a, dtype=float), 0.0)
    return a**alpha / (a**alpha + inflexion**alpha)


def _lags(x: np.ndarray, l_max: int) -> np.ndarray:
    """(date, lag) matrix of spend ``l_max`` lags back, zero before the first date."""
    out = np.zeros((len(x), l_max))
    for k in range(l_max):
        out[k:, k] = x[: len(x) - k]
    return out


# --------------------------------------------------------------------------- lift rows


@dataclass(frozen=True)
class _LiftRows:
    """A lift table as arrays for the model-implied lift ``beta * g`` of each row."""

    channel_idx: np.ndarray
    delta_y: np.ndarray
    sigma: np.ndarray
    window: WindowLiftTerm | None
    window_pos: np.ndarray
    steady_x: np.ndarray
    steady_dx: np.ndarray
    steady_idx: np.ndarray
    steady_pos: np.ndarray

    @classmethod
    def from_table(cls, table: pd.DataFrame, channels: list[str], l_max: int, dates):
        table = table.reset_index(drop=True)
        window, steady = split_rows(table, pd.DatetimeIndex(dates), "auto")
        steady = to_per_period(steady)
        zero = np.flatnonzero(table["delta_y"].to_numpy(dtype=float) == 0)
        if len(zero):
            raise ValueError(
                f"Lift rows {zero.tolist()} have delta_y = 0; MAPE.LIFT divides by it. "
                "Drop them or report the measured lift."
            )
        delta_y = table["delta_y"].to_numpy(dtype=float).copy()
        sigma = table["sigma"].to_numpy(dtype=float).copy()
        delta_y[steady.index] = steady["delta_y"].to_numpy(dtype=float)
        sigma[steady.index] = steady["sigma"].to_numpy(dtype=float)
        term = None
        if len(window):
            term = WindowLiftTerm.from_rows(window, channels, l_max, np.ones(len(channels)))
        return cls(
            channel_idx=np.array([channels.index(c) for c in table["channel"]]),
            delta_y=delta_y,
            sigma=sigma,
            window=term,
            window_pos=window.index.to_numpy(),
            steady_x=steady["x"].to_numpy(dtype=float),
            steady_dx=steady["delta_x"].to_numpy(dtype=float),
            steady_idx=np.array([channels.index(c) for c in steady["channel"]], dtype=int),
            steady_pos=steady.index.to_numpy(),
        )

    def unit_lift(self, weights: np.ndarray, alpha: np.ndarray, inflexion: np.ndarray):
        """Lift per unit coefficient ``g`` of each row, given (channel, lag) adstock weights."""
        g = np.zeros(len(self.delta_y))
        l_max = weights.shape[1]
        cw = np.concatenate([np.zeros((len(weights), 1)), np.cumsum(weights, axis=1)], axis=1)
        if self.window is not None:
            w = self.window
            c = w.channel_idx
            rows = np.arange(len(c))[:, None]
            cwr = cw[c]
            base = (w.x * cwr[:, l_max])[:, None]
            treated = base + w.delta_x[:, None] * (cwr[rows, w.hi] - cwr[rows, w.lo])
            a, k = alpha[c][:, None], inflexion[c][:, None]
            diff = hill(treated, a, k) - hill(base, a, k)
            g[self.window_pos] = (diff * w.mask).sum(axis=1) / w.divisor
        if len(self.steady_pos):
            c = self.steady_idx
            total = cw[c, l_max]
            a, k = alpha[c], inflexion[c]
            g[self.steady_pos] = hill((self.steady_x + self.steady_dx) * total, a, k) - hill(
                self.steady_x * total, a, k
            )
        return g


def mape_lift(beta: np.ndarray, g: np.ndarray, rows: _LiftRows) -> float:
    """MAPE.LIFT: mean of ``|beta_c * g - delta_y| / |delta_y|`` over lift rows."""
    implied = beta[rows.channel_idx] * g
    return float(np.mean(np.abs(implied - rows.delta_y) / np.abs(rows.delta_y)))


# --------------------------------------------------------------------------- the engine


def _pareto_pick(losses: np.ndarray) -> tuple[int, int]:
    """Index of the selected evaluation (Pareto rule of the module docstring), front size."""
    finite = np.isfinite(losses).all(axis=1)
    idx = np.flatnonzero(finite)
    if not len(idx):
        raise RuntimeError("Every evaluation of the search failed (non-finite objectives).")
    f = losses[idx]
    le = (f[:, None, :] <= f[None, :, :]).all(axis=2)
    lt = (f[:, None, :] < f[None, :, :]).any(axis=2)
    dominated = (le & lt).any(axis=0)
    front = idx[~dominated]
    pf = losses[front]
    span = pf.max(axis=0) - pf.min(axis=0)
    norm = (pf - pf.min(axis=0)) / np.where(span > 0, span, 1.0)
    return int(front[np.argmin(np.sqrt((norm**2).sum(axis=1)))]), len(front)


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

    engine = "ridge"

    def __init__(
        self,
        spec: ModelSpec,
        lift: pd.DataFrame | None = None,
        *,
        config: RidgeConfig | None = None,
        name: str = "model",
    ):
        if spec.geo_column is not None:
            raise ValueError(
                f"The {self.engine} engine fits national data; the spec has geo column "
                f"{spec.geo_column!r}. Aggregate to national or use --engine bayes."
            )
        if spec.adstock.family not in _ADSTOCKS:
            raise ValueError(
                f"The {self.engine} engine's `adstock` family {spec.adstock.family!r} must be one "
                f"of {list(_ADSTOCKS)}."
            )
        self.spec = spec
        self.lift = None if lift is None or len(lift) == 0 else lift.copy()
        if self.lift is not None:
            self.lift = validate_lift_table(self.lift, list(spec.channel_columns))
            if "geo" in self.lift:
                geo = self.lift["geo"]
                bad = np.flatnonzero((geo.notna() & (geo != "national")).to_numpy())
                if len(bad):
                    raise ValueError(
                        f"Lift rows {bad.tolist()} are geo rows; the {self.engine} engine is "
                        "national: keep the rows with geo 'national' (or empty)."
                    )
        self.config = config or RidgeConfig()
        self.name = name

    # ------------------------------------------------------------------ features
    @property
    def channels(self) -> list[str]:
        return list(self.spec.channel_columns)

    def _free_features(self, X: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        """Controls (scaled), trend and Fourier columns: (date, column), their names."""
        cols, names = [], []
        for c in self.spec.control_columns:
            cols.append(X[c].to_numpy(dtype=float))
            names.append(c)
        n = len(X)
        if self.config.trend:
            cols.append(np.arange(n, dtype=float) / max(n - 1, 1))
            names.append("trend")
        day = pd.to_datetime(X[self.spec.date_column]).dt.dayofyear.to_numpy(dtype=float)
        for k in range(1, (self.spec.yearly_seasonality or 0) + 1):
            cols += [np.sin(2 * np.pi * k * day / 365.25), np.cos(2 * np.pi * k * day / 365.25)]
            names += [f"sin_{k}", f"cos_{k}"]
        return (np.column_stack(cols) if cols else np.zeros((n, 0))), names

    def _param_names(self) -> list[tuple[str, str]]:
        ad = ["theta"] if self.spec.adstock.family == "geometric" else ["shape", "scale"]
        return [(c, p) for c in self.channels for p in [*ad, "alpha", "gamma"]] + [("", "lambda")]

    def _decode(self, u: np.ndarray) -> dict[str, Any]:
        """Map a point of [0, 1]^d to hyperparameters."""
        out: dict[str, Any] = {c: {} for c in self.channels}
        for (c, p), v in zip(self._param_names(), u, strict=True):
            if p == "lambda":
                out["lambda_h"] = float(v)
            else:
                lo, hi = (0.5, float(self.spec.adstock.l_max)) if p == "scale" else RANGES[p]
                out[c][p] = float(lo + (hi - lo) * v)
        return out

    def _transform(self, hp: dict[str, Any]):
        """Media features (date, channel), adstock weights, alphas and inflexions."""
        l_max = self.spec.adstock.l_max
        family = self.spec.adstock.family
        weights = np.stack([adstock_weights(family, hp[c], l_max) for c in self.channels])
        adstocked = np.einsum("ctl,cl->tc", self._lag, weights)
        gamma = np.array([hp[c]["gamma"] for c in self.channels])
        alpha = np.array([hp[c]["alpha"] for c in self.channels])
        inflexion = (1 - gamma) * adstocked.min(axis=0) + gamma * adstocked.max(axis=0)
        return hill(adstocked, alpha, inflexion), weights, alpha, inflexion

    # ------------------------------------------------------------------ solving
    def _design(self, media: np.ndarray):
        X = np.column_stack([media, self._free])
        mean, sd = X.mean(axis=0), X.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        return X, mean, sd

    def _lambda(self, h: float) -> float:
        return len(self._y) * 10 ** (-4 + 3 * h)

    def _solve(self, media, lam, y):
        """Ridge coefficients (original units) and intercept; media coefficients >= 0."""
        from scipy.optimize import nnls

        X, mean, sd = self._design(media)
        Xs = (X - mean) / sd
        yc = y - y.mean()
        k, q = media.shape[1], self._free.shape[1]
        A = np.column_stack([Xs[:, :k], Xs[:, k:], -Xs[:, k:]])
        A = np.vstack([A, np.sqrt(lam) * np.eye(k + 2 * q)])
        b = np.concatenate([yc, np.zeros(k + 2 * q)])
        sol = nnls(A, b, maxiter=50 * A.shape[1])[0]
        coef = np.concatenate([sol[:k], sol[k : k + q] - sol[k + q :]]) / sd
        return coef, float(y.mean() - mean @ coef)

    def _objectives(self, media, coef, intercept, g=None) -> list[float]:
        pred = intercept + np.column_stack([media, self._free]) @ coef
        y = self._y
        nrmse = float(np.sqrt(np.mean((y - pred) ** 2)) / (y.max() - y.min()))
        effect = coef[: media.shape[1]] * media.sum(axis=0)
        share = effect / effect.sum() if effect.sum() > 0 else np.zeros_like(effect)
        rssd = float(np.sqrt(((share - self._spend_share) ** 2).sum()))
        out = [nrmse, rssd]
        if g is not None:
            out.append(mape_lift(coef[: media.shape[1]], g, self._rows))
        return out

    def _evaluate(self, u: np.ndarray, use_lift: bool) -> list[float]:
        hp = self._decode(u)
        media, weights, alpha, inflexion = self._transform(hp)
        coef, intercept = self._solve(media, self._lambda(hp["lambda_h"]), self._y)
        g = self._rows.unit_lift(weights, alpha, inflexion) if use_lift else None
        return self._objectives(media, coef, intercept, g)

    def _search(self, use_lift: bool) -> tuple[dict[str, Any], int]:
        """Run the Nevergrad search; the Pareto pick's hyperparameters and the front's size."""
        import nevergrad as ng

        cfg = self.config
        dim = len(self._param_names())
        param = ng.p.Array(shape=(dim,), lower=0.0, upper=1.0)
        param.random_state = np.random.RandomState(cfg.seed)
        opt = ng.optimizers.TwoPointsDE(parametrization=param, budget=cfg.budget, num_workers=1)
        points, losses = [], []
        with _progress(cfg.progress, f"{self.name}: search", cfg.budget) as step:
            for _ in range(cfg.budget):
                cand = opt.ask()
                u = np.asarray(cand.value, dtype=float)
                with np.errstate(all="ignore"):
                    loss = self._evaluate(u, use_lift)
                loss = [v if np.isfinite(v) else 1e6 for v in loss]
                opt.tell(cand, loss)
                points.append(u)
                losses.append(loss)
                step()
        best, n_front = _pareto_pick(np.array(losses))
        return self._decode(points[best]), n_front

    def _bootstrap(self, media: np.ndarray, lam: float, solve) -> tuple[np.ndarray, np.ndarray]:
        """Coefficient and intercept draws on moving-block resamples of the residuals."""
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        coef, intercept = solve(media, lam, self._y)
        fitted = intercept + np.column_stack([media, self._free]) @ coef
        resid = self._y - fitted
        n, b = len(resid), min(cfg.block_length, len(resid))
        coefs, intercepts = [], []
        with _progress(cfg.progress, f"{self.name}: bootstrap", cfg.n_bootstrap) as step:
            for _ in range(cfg.n_bootstrap):
                starts = rng.integers(0, n - b + 1, size=-(-n // b))
                idx = (starts[:, None] + np.arange(b)[None, :]).ravel()[:n]
                c, i = solve(media, lam, fitted + resid[idx])
                coefs.append(c)
                intercepts.append(i)
                step()
        return np.array(coefs), np.array(intercepts)

    def _prepare(self, data: pd.DataFrame) -> None:
        for attr in ("hyperparameters_", "coef_draws_", "diagnostics_"):
            self.__dict__.pop(attr, None)
        self.data_: ModelData = prepare_data(self.spec, data)
        self._set_arrays()
        self._rows = None
        if self.lift is not None:
            dates = self.data_.X[self.spec.date_column]
            table = validate_lift_table(self.lift, self.channels, dates=dates)
            self._rows = _LiftRows.from_table(table, self.channels, self.spec.adstock.l_max, dates)

    def _set_arrays(self) -> None:
        X = self.data_.X
        spend = X[self.channels].to_numpy(dtype=float)
        self._lag = np.stack(
            [_lags(spend[:, i], self.spec.adstock.l_max) for i in range(spend.shape[1])]
        )
        self._free, self._free_names = self._free_features(X)
        self._y = self.data_.y.to_numpy(dtype=float)
        self._spend_share = spend.sum(axis=0) / spend.sum()

    def fit(self, data: pd.DataFrame) -> RidgeMMM:
        """Search hyperparameters, pick from the Pareto front, bootstrap the coefficients."""
        start = time.perf_counter()
        self._prepare(data)
        hp, n_front = self._search(use_lift=self._rows is not None)
        self._finish(hp, self._solve, n_front, start)
        return self

    def _finish(self, hp, solve, n_front: int, start: float) -> None:
        """Solve and bootstrap at the selected hyperparameters ``hp``; set the learned state."""
        media, weights, alpha, inflexion = self._transform(hp)
        lam = self._lambda(hp["lambda_h"])
        coef, intercept = solve(media, lam, self._y)
        self.coef_draws_, self.intercept_draws_ = self._bootstrap(media, lam, solve)
        g = None if self._rows is None else self._rows.unit_lift(weights, alpha, inflexion)
        nrmse, rssd, *mape = self._objectives(media, coef, intercept, g)
        self.hyperparameters_ = {**hp, "lambda": lam}
        self.coef_, self.intercept_ = coef, intercept
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
        self._curve = (weights, alpha, inflexion)
        self._media = media

    # ------------------------------------------------------------------ results
    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_draws_"):
            raise RuntimeError(f"Model {self.name!r} is not fitted yet: call .fit(data) first.")

    def channel_contributions(self):
        """Bootstrap channel contributions, target units: dims (chain=1, draw, date, channel)."""
        import xarray as xr

        self._check_fitted()
        k = len(self.channels)
        draws = self.coef_draws_[:, None, :k] * self._media[None, :, :]
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
        return float(self.data_.y.sum())

    def spend_totals(self) -> pd.Series:
        return self.data_.X[self.channels].sum()

    def response_draws(self, spend: np.ndarray) -> np.ndarray:
        """Steady-state contribution per period at ``spend`` (grid, channel).

        Returns (draw, grid, channel), target units.
        """
        self._check_fitted()
        weights, alpha, inflexion = self._curve
        f = hill(np.asarray(spend) * weights.sum(axis=1), alpha, inflexion)
        return self.coef_draws_[:, None, : len(self.channels)] * f[None]

    def implied_lift_draws(self, lift: pd.DataFrame) -> np.ndarray:
        """Model-implied lift per row of ``lift`` (rows' own units): (draw, row)."""
        self._check_fitted()
        dates = self.data_.X[self.spec.date_column]
        table = validate_lift_table(lift, self.channels, dates=dates)
        rows = _LiftRows.from_table(table, self.channels, self.spec.adstock.l_max, dates)
        g = rows.unit_lift(*self._curve)
        return self.coef_draws_[:, rows.channel_idx] * g[None, :]

    def mu_draws(self) -> np.ndarray:
        """Expected target per date of each bootstrap draw: (draw, date)."""
        self._check_fitted()
        X = np.column_stack([self._media, self._free])
        return self.intercept_draws_[:, None] + self.coef_draws_ @ X.T

    def residual_sd(self) -> float:
        """Standard deviation of the point fit's residuals (target units)."""
        X = np.column_stack([self._media, self._free])
        return float(np.std(self._y - self.intercept_ - X @ self.coef_))

    # ------------------------------------------------------------------ persistence
    def save(self, out_dir: str | Path) -> Path:
        """Write ``fit.json`` (engine, hyperparameters), ``spec.yaml``, ``data.csv``, draws."""
        self._check_fitted()
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "spec.yaml").write_text(self.spec.to_yaml())
        if self.lift is not None:
            self.lift.to_csv(out / "lift.csv", index=False)
        self.data_.X.assign(**{self.spec.target_column: self.data_.y}).to_csv(
            out / "data.csv", index=False
        )
        np.savez(
            out / "bootstrap.npz",
            coef=self.coef_draws_,
            intercept=self.intercept_draws_,
            coef_point=self.coef_,
        )
        meta = {
            "engine": self.engine,
            "name": self.name,
            "config": self.config.model_dump(),
            "hyperparameters": self.hyperparameters_,
            "intercept": self.intercept_,
            "columns": [*self.channels, *self._free_names],
            "saturation": "hill (Robyn inflexion)",
            "diagnostics": self.diagnostics_.to_dict(),
            "control_scale": self.data_.control_scale,
        }
        (out / "fit.json").write_text(json.dumps(meta, indent=2) + "\n")
        return out

    @classmethod
    def load(cls, fit_dir: str | Path) -> RidgeMMM:
        """Load a fit directory written by :meth:`save`."""
        path = Path(fit_dir)
        meta = json.loads((path / "fit.json").read_text())
        if meta.get("engine") != cls.engine:
            raise ValueError(
                f"{path} holds a {meta.get('engine', 'bayes')!r} fit, not {cls.engine!r}; "
                "load it with mmmcal.baselines.load_fit."
            )
        spec = ModelSpec.from_yaml((path / "spec.yaml").read_text())
        lift = read_lift_table(path / "lift.csv") if (path / "lift.csv").exists() else None
        self = cls(spec, lift, config=RidgeConfig(**meta["config"]), name=meta["name"])
        frame = pd.read_csv(path / "data.csv", parse_dates=[spec.date_column])
        y = frame.pop(spec.target_column)
        self.data_ = ModelData(X=frame, y=y, control_scale=meta["control_scale"])
        self._set_arrays()
        draws = np.load(path / "bootstrap.npz")
        self.coef_draws_, self.intercept_draws_ = draws["coef"], draws["intercept"]
        self.coef_, self.intercept_ = draws["coef_point"], float(meta["intercept"])
        self.hyperparameters_ = meta["hyperparameters"]
        media, weights, alpha, inflexion = self._transform(self.hyperparameters_)
        self._media, self._curve = media, (weights, alpha, inflexion)
        self.diagnostics_ = BaselineDiagnostics(**meta["diagnostics"])
        return self


class BoundedMMM(RidgeMMM):
    """Ridge with lift-implied coefficient bounds, solved with cvxpy (see module docstring).

    The transforms are the ridge search's selection without the lift term; the bounds
    are then derived at those transforms and every solve (fit and bootstrap) respects them.
    """

    engine = "bounded"

    def _bounds(self, g: np.ndarray | None) -> dict[str, tuple[float, float]]:
        """Coefficient interval (target units per unit feature) of each tested channel.

        ``g`` is each lift row's lift per unit coefficient at the selected transforms.
        """
        if self._rows is None:
            return {}
        rows = self._rows
        z = self.config.z
        out: dict[str, tuple[float, float]] = {}
        for k, c in enumerate(self.channels):
            idx = np.flatnonzero(rows.channel_idx == k)
            if not len(idx):
                continue
            dead = idx[np.abs(g[idx]) < 1e-12]
            if len(dead):
                raise ValueError(
                    f"Lift rows {dead.tolist()} ({c}): the spend change gives no modelled "
                    "response at the selected transforms, so no coefficient bound follows. "
                    "Check x/delta_x, or drop the rows."
                )
            # Each row measures beta * g: beta_i = delta_y / g with se sigma / |g|. The rows of a
            # channel are combined by precision weighting (their joint Gaussian likelihood),
            # so weekly rows of one test, or several tests, tighten the bound together.
            b_i = rows.delta_y[idx] / g[idx]
            w_i = (g[idx] / rows.sigma[idx]) ** 2
            estimate, se = float(np.sum(w_i * b_i) / np.sum(w_i)), float(np.sum(w_i) ** -0.5)
            lo, hi = max(0.0, estimate - z * se), estimate + z * se
            if hi <= 0:
                raise ValueError(
                    f"The lift tests on {c} imply a coefficient of {estimate:.4g} "
                    f"(+/- {z:g} x {se:.3g}), below zero, but media coefficients are >= 0: "
                    "check the sign of delta_y and delta_x, or fit --engine ridge."
                )
            out[c] = (lo, hi)
        return out

    def _bounded_solver(self, bounds: dict[str, tuple[float, float]]):
        """A ``solve(media, lam, y)`` like :meth:`RidgeMMM._solve`, with the bounds, via cvxpy."""
        import cvxpy as cp

        k, q = len(self.channels), self._free.shape[1]
        bounded = [(self.channels.index(c), lo, hi) for c, (lo, hi) in bounds.items()]

        def solve(media, lam, y):
            X, mean, sd = self._design(media)
            sy = float(np.std(y)) or 1.0  # unit-scale target: better conditioned for the solver
            A = np.vstack([(X - mean) / sd, np.sqrt(lam) * np.eye(k + q)])
            rhs = np.concatenate([(y - y.mean()) / sy, np.zeros(k + q)])
            b = cp.Variable(k + q)
            limits = [b[:k] >= 0]
            for i, lo, hi in bounded:
                limits += [b[i] >= lo * sd[i] / sy, b[i] <= hi * sd[i] / sy]
            problem = cp.Problem(cp.Minimize(cp.sum_squares(A @ b - rhs)), limits)
            problem.solve(solver=cp.CLARABEL)
            if problem.status not in ("optimal", "optimal_inaccurate"):
                raise RuntimeError(f"cvxpy could not solve the bounded ridge: {problem.status}.")
            coef = np.asarray(b.value) * sy / sd
            return coef, float(y.mean() - mean @ coef)

        return solve

    def fit(self, data: pd.DataFrame) -> BoundedMMM:
        """Search without the lift term, bound tested channels, solve and bootstrap with cvxpy."""
        start = time.perf_counter()
        self._prepare(data)
        hp, n_front = self._search(use_lift=False)
        _, weights, alpha, inflexion = self._transform(hp)
        g = None if self._rows is None else self._rows.unit_lift(weights, alpha, inflexion)
        self.bounds_ = self._bounds(g)
        self._finish(hp, self._bounded_solver(self.bounds_), n_front, start)
        return self

    def save(self, out_dir: str | Path) -> Path:
        out = super().save(out_dir)
        meta = json.loads((out / "fit.json").read_text())
        meta["bounds"] = {c: list(b) for c, b in self.bounds_.items()}
        (out / "fit.json").write_text(json.dumps(meta, indent=2) + "\n")
        return out

    @classmethod
    def load(cls, fit_dir: str | Path) -> BoundedMMM:
        self = super().load(fit_dir)
        meta = json.loads((Path(fit_dir) / "fit.json").read_text())
        self.bounds_ = {c: tuple(b) for c, b in meta["bounds"].items()}
        return self  # type: ignore[return-value]


# --------------------------------------------------------------------------- registry


@contextmanager
def _progress(show: bool, label: str, total: int) -> Iterator[Callable[[], None]]:
    """A rich progress bar over ``total`` steps when ``show``; yields a step function."""
    if not show:
        yield lambda: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


def make_engine(
    engine: Literal["bayes", "ridge", "bounded"],
    spec: ModelSpec,
    lift: pd.DataFrame | None = None,
    *,
    name: str = "model",
    **options: Any,
):
    """An unfitted estimator of ``engine`` with ``.fit(data) -> self``.

    ``options`` go to :class:`~mmmcal.fit.CalibratedMMM` (``likelihood``, ``lift_dist``,
    ``sampler``) for ``bayes`` and to :class:`RidgeConfig` (``budget``, ``seed``,
    ``n_bootstrap``, ``block_length``, ``z``, ``trend``, ``progress``) otherwise.
    """
    if engine not in ENGINES:
        raise ValueError(f"The `engine` {engine!r} must be one of {list(ENGINES)}.")
    allowed = (
        ["likelihood", "lift_dist", "sampler"]
        if engine == "bayes"
        else list(RidgeConfig.model_fields)
    )
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"Option(s) {unknown} do not apply to the {engine} engine; its options are {allowed}."
        )
    if engine == "bayes":
        from mmmcal.models.bayes import CalibratedMMM

        return CalibratedMMM(spec, lift, name=name, **options)
    classes = {"ridge": RidgeMMM, "bounded": BoundedMMM}
    return classes[engine](spec, lift, config=RidgeConfig(**options), name=name)


def load_fit(fit_dir: str | Path):
    """Load any fit directory, dispatching on ``fit.json``'s ``engine`` (missing: bayes)."""
    path = Path(fit_dir)
    if not (path / "fit.json").exists():
        raise FileNotFoundError(
            f"{path} is not a fit directory (it has no fit.json); make one with `mmmcal fit`."
        )
    engine = json.loads((path / "fit.json").read_text()).get("engine", "bayes")
    if engine == "bayes":
        from mmmcal.models.bayes import CalibratedMMM

        return CalibratedMMM.load(path)
    classes = {"ridge": RidgeMMM, "bounded": BoundedMMM}
    if engine not in classes:
        raise ValueError(f"{path}/fit.json names engine {engine!r}; known: {list(ENGINES)}.")
    return classes[engine].load(path)
