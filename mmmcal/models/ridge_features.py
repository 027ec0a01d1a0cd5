"""Robyn-style media transforms and design columns of the ridge engines.

Per channel an adstock (geometric ``theta``, or Weibull ``shape``/``scale`` in periods; from
the spec's ``adstock`` family, ``l_max`` lags, unnormalised; the lag weights are those of
:mod:`mmmcal.world.transforms`) and Robyn's Hill saturation ``a**alpha / (a**alpha + k**alpha)``
with inflexion ``k = (1 - gamma) * min(a) + gamma * max(a)`` over the adstocked data ``a``
(whatever the spec's saturation family). The other columns of the regression are the spec's
controls, a linear trend and the spec's ``yearly_seasonality`` Fourier terms.

Hyperparameters (adstock, ``alpha``, ``gamma`` per channel and ``lambda = n * 10**(-4 + 3 h)``,
``h`` in [0, 1]) are searched on [0, 1] and mapped linearly onto :data:`SEARCH_RANGES`; the
Weibull ``scale`` runs over 0.5 .. ``l_max`` periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mmmcal.models.data import ModelData
from mmmcal.models.spec import ModelSpec
from mmmcal.world.transforms import geometric_weights, hill_saturation, weibull_weights

__all__ = [
    "RIDGE_ADSTOCKS",
    "SEARCH_RANGES",
    "MediaFeatures",
    "RidgeInputs",
    "decode_hyperparameters",
    "hyperparameter_names",
    "media_features",
    "ridge_adstock_weights",
]

RIDGE_ADSTOCKS = ("geometric", "weibull_cdf", "weibull_pdf")
SEARCH_RANGES: dict[str, tuple[float, float]] = {
    "theta": (0.0, 0.9),
    "shape": (0.1, 5.0),
    "alpha": (0.5, 3.0),
    "gamma": (0.3, 1.0),
}


def ridge_adstock_weights(family: str, params: dict[str, float], l_max: int) -> np.ndarray:
    """Lag weights (lag 0 first, unnormalised) of the ridge's geometric or Weibull adstock.

    ``params``: ``theta`` (geometric), or ``shape`` and ``scale`` (periods) for
    ``weibull_cdf`` and ``weibull_pdf``.
    """
    if family == "geometric":
        return geometric_weights(params["theta"], l_max)
    kind = family.removeprefix("weibull_")
    return weibull_weights(params["scale"], params["shape"], l_max, kind=kind)


def lag_matrix(x: np.ndarray, l_max: int) -> np.ndarray:
    """(date, lag) matrix of spend ``l_max`` lags back, zero before the first date."""
    out = np.zeros((len(x), l_max))
    for k in range(l_max):
        out[k:, k] = x[: len(x) - k]
    return out


def free_features(spec: ModelSpec, X: pd.DataFrame, trend: bool) -> tuple[np.ndarray, list[str]]:
    """Controls (scaled), trend and Fourier columns: (date, column), their names."""
    cols, names = [], []
    for c in spec.control_columns:
        cols.append(X[c].to_numpy(dtype=float))
        names.append(c)
    n = len(X)
    if trend:
        cols.append(np.arange(n, dtype=float) / max(n - 1, 1))
        names.append("trend")
    day = pd.to_datetime(X[spec.date_column]).dt.dayofyear.to_numpy(dtype=float)
    for k in range(1, (spec.yearly_seasonality or 0) + 1):
        cols += [np.sin(2 * np.pi * k * day / 365.25), np.cos(2 * np.pi * k * day / 365.25)]
        names += [f"sin_{k}", f"cos_{k}"]
    return (np.column_stack(cols) if cols else np.zeros((n, 0))), names


@dataclass(frozen=True)
class RidgeInputs:
    """Fitted data as the ridge uses it.

    ``lags``: spend per (channel, date, lag), currency per period; ``free``: the other columns
    (date, column) named ``free_names``; ``y``: the target; ``spend_share``: each channel's
    share of all spend.
    """

    lags: np.ndarray
    free: np.ndarray
    free_names: list[str]
    y: np.ndarray
    spend_share: np.ndarray

    @classmethod
    def from_data(cls, spec: ModelSpec, data: ModelData, trend: bool) -> RidgeInputs:
        spend = data.X[list(spec.channel_columns)].to_numpy(dtype=float)
        l_max = spec.adstock.l_max
        free, names = free_features(spec, data.X, trend)
        return cls(
            lags=np.stack([lag_matrix(spend[:, i], l_max) for i in range(spend.shape[1])]),
            free=free,
            free_names=names,
            y=data.y.to_numpy(dtype=float),
            spend_share=spend.sum(axis=0) / spend.sum(),
        )


def hyperparameter_names(spec: ModelSpec) -> list[tuple[str, str]]:
    """(channel, name) of each searched hyperparameter, ``("", "lambda")`` last."""
    ad = ["theta"] if spec.adstock.family == "geometric" else ["shape", "scale"]
    channels = spec.channel_columns
    return [(c, p) for c in channels for p in [*ad, "alpha", "gamma"]] + [("", "lambda")]


def decode_hyperparameters(spec: ModelSpec, u: np.ndarray) -> dict[str, Any]:
    """Map a point of [0, 1]^d to hyperparameters: per channel a dict, and ``lambda_h``."""
    out: dict[str, Any] = {c: {} for c in spec.channel_columns}
    for (c, p), v in zip(hyperparameter_names(spec), u, strict=True):
        if p == "lambda":
            out["lambda_h"] = float(v)
        else:
            lo, hi = (0.5, float(spec.adstock.l_max)) if p == "scale" else SEARCH_RANGES[p]
            out[c][p] = float(lo + (hi - lo) * v)
    return out


@dataclass(frozen=True)
class MediaFeatures:
    """Saturated media columns (date, channel) and the transforms that made them.

    ``weights``: adstock weights (channel, lag); ``alpha``: Hill exponents; ``inflexion``:
    Hill inflexions in adstocked currency per period (both per channel).
    """

    media: np.ndarray
    weights: np.ndarray
    alpha: np.ndarray
    inflexion: np.ndarray

    @property
    def curve(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(weights, alpha, inflexion)``, the arguments of a lift row's unit lift."""
        return self.weights, self.alpha, self.inflexion

    def steady_response(self, spend: np.ndarray) -> np.ndarray:
        """Saturated feature at steady spend ``spend`` (grid, channel): same shape, in [0, 1)."""
        return hill_saturation(
            np.asarray(spend) * self.weights.sum(axis=1), self.alpha, self.inflexion
        )


def media_features(spec: ModelSpec, lags: np.ndarray, hp: dict[str, Any]) -> MediaFeatures:
    """Adstock and saturate the spend ``lags`` (channel, date, lag) at hyperparameters ``hp``."""
    channels = spec.channel_columns
    l_max, family = spec.adstock.l_max, spec.adstock.family
    weights = np.stack([ridge_adstock_weights(family, hp[c], l_max) for c in channels])
    adstocked = np.einsum("ctl,cl->tc", lags, weights)
    gamma = np.array([hp[c]["gamma"] for c in channels])
    alpha = np.array([hp[c]["alpha"] for c in channels])
    inflexion = (1 - gamma) * adstocked.min(axis=0) + gamma * adstocked.max(axis=0)
    return MediaFeatures(hill_saturation(adstocked, alpha, inflexion), weights, alpha, inflexion)
