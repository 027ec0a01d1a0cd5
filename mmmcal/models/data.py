"""Data checked against a model spec and shaped for pymc-marketing.

Units: channel spend and the target are divided by their maximum over dates by
pymc-marketing; controls are divided by their maximum absolute value here, so their
coefficients live on the scale the priors expect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from mmmcal.models.spec import ModelSpec

__all__ = ["ModelData", "prepare_data"]


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
