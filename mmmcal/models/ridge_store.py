"""Ridge and bounded fits as ArviZ ``InferenceData``: the ``model.nc`` of their fit directory.

Groups:

``posterior``
    The bootstrap draws (chain=1, draw): ``channel_coef`` (channel), ``control_coef``
    (coefficient: controls, ``trend``, ``sin_k``/``cos_k``) and ``intercept``, in target units
    per unit feature.
``constant_data``
    What the bootstrap holds fixed: the selected hyperparameters (``theta`` or ``shape`` and
    ``scale``, ``alpha``, ``gamma`` per channel; ``lambda`` and its search coordinate
    ``lambda_h``), the point fit (``channel_coef_point``, ``control_coef_point``,
    ``intercept_point``) and, for the bounded engine, the coefficient bounds (``coef_lower``,
    ``coef_upper`` per ``bounded_channel``).
``fit_data``
    The fitted data by date (controls scaled as fitted) with the target, as pymc-marketing
    keeps it.

The attributes hold the engine's ``config``, the search's ``diagnostics`` and the
``control_scale`` of each control, as JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from mmmcal.models.data import ModelData
from mmmcal.models.ridge_features import hyperparameter_names
from mmmcal.models.spec import ModelSpec

__all__ = ["RidgeFitValues", "read_ridge_fit", "ridge_inference_data"]


@dataclass(frozen=True)
class RidgeFitValues:
    """The learned values of a ridge or bounded fit.

    ``coef_draws`` (draw, coefficient) and ``coef`` hold the channels' coefficients first,
    then those of ``free_names``; ``bounds`` (bounded engine only) maps each tested channel
    to its coefficient interval.
    """

    data: ModelData
    free_names: list[str]
    hyperparameters: dict[str, Any]
    coef_draws: np.ndarray
    intercept_draws: np.ndarray
    coef: np.ndarray
    intercept: float
    config: dict[str, Any]
    diagnostics: dict[str, Any]
    bounds: dict[str, tuple[float, float]] | None = None


def _channel_parameters(spec: ModelSpec) -> list[str]:
    return list(dict.fromkeys(p for c, p in hyperparameter_names(spec) if c))


def ridge_inference_data(spec: ModelSpec, values: RidgeFitValues):
    """``values`` as ``InferenceData`` with the groups of the module docstring."""
    import arviz as az
    import xarray as xr

    channels = list(spec.channel_columns)
    k = len(channels)
    coords = {"channel": channels, "coefficient": values.free_names}
    draws = values.coef_draws[None]
    posterior = xr.Dataset(
        {
            "channel_coef": (("chain", "draw", "channel"), draws[:, :, :k]),
            "control_coef": (("chain", "draw", "coefficient"), draws[:, :, k:]),
            "intercept": (("chain", "draw"), values.intercept_draws[None]),
        },
        coords={"chain": [0], "draw": np.arange(draws.shape[1]), **coords},
        attrs={
            "created_at": datetime.now(UTC).isoformat(),
            "inference_library": "mmmcal",
            "method": "moving-block bootstrap of the residuals at the selected hyperparameters",
        },
    )
    hp = values.hyperparameters
    fixed: dict[str, Any] = {
        p: ("channel", [hp[c][p] for c in channels]) for p in _channel_parameters(spec)
    }
    fixed |= {
        "lambda": hp["lambda"],
        "lambda_h": hp["lambda_h"],
        "channel_coef_point": ("channel", values.coef[:k]),
        "control_coef_point": ("coefficient", values.coef[k:]),
        "intercept_point": values.intercept,
    }
    bounds = values.bounds
    if bounds is not None:
        coords["bounded_channel"] = list(bounds)
        fixed["coef_lower"] = ("bounded_channel", [lo for lo, _ in bounds.values()])
        fixed["coef_upper"] = ("bounded_channel", [hi for _, hi in bounds.values()])
    frame = values.data.X.assign(**{spec.target_column: values.data.y.to_numpy()})
    return az.InferenceData(
        posterior=posterior,
        constant_data=xr.Dataset(fixed, coords=coords),
        fit_data=frame.set_index(spec.date_column).to_xarray(),
        attrs={
            "config": json.dumps(values.config),
            "diagnostics": json.dumps(values.diagnostics),
            "control_scale": json.dumps(values.data.control_scale),
        },
    )


def read_ridge_fit(path: str | Path, spec: ModelSpec) -> RidgeFitValues:
    """The values stored at ``path`` by :func:`ridge_inference_data` for a fit of ``spec``."""
    import arviz as az

    with az.rc_context({"data.load": "eager"}):
        idata = az.from_netcdf(str(path))
    post, fixed = idata.posterior, idata.constant_data
    channels = list(spec.channel_columns)
    hp: dict[str, Any] = {
        c: {p: float(fixed[p].sel(channel=c)) for p in _channel_parameters(spec)} for c in channels
    }
    hp |= {"lambda_h": float(fixed["lambda_h"]), "lambda": float(fixed["lambda"])}
    coef_draws = np.concatenate(
        [
            post["channel_coef"].sel(chain=0, channel=channels).to_numpy(),
            post["control_coef"].sel(chain=0).to_numpy(),
        ],
        axis=1,
    )
    coef = np.concatenate(
        [
            fixed["channel_coef_point"].sel(channel=channels).to_numpy(),
            fixed["control_coef_point"].to_numpy(),
        ]
    )
    bounds = None
    if "coef_lower" in fixed:
        bounds = {
            str(c): (float(lo), float(hi))
            for c, lo, hi in zip(
                fixed["bounded_channel"].to_numpy(),
                fixed["coef_lower"].to_numpy(),
                fixed["coef_upper"].to_numpy(),
                strict=True,
            )
        }
    frame = idata.fit_data.to_dataframe().reset_index()
    y = frame.pop(spec.target_column)
    return RidgeFitValues(
        data=ModelData(X=frame, y=y, control_scale=json.loads(idata.attrs["control_scale"])),
        free_names=[str(n) for n in post["coefficient"].to_numpy()],
        hyperparameters=hp,
        coef_draws=coef_draws,
        intercept_draws=post["intercept"].sel(chain=0).to_numpy(),
        coef=coef,
        intercept=float(fixed["intercept_point"]),
        config=json.loads(idata.attrs["config"]),
        diagnostics=json.loads(idata.attrs["diagnostics"]),
        bounds=bounds,
    )
