"""A lift table checked against a model's data as ``fit`` prepares it: one check for all.

``fit`` (every engine), ``check-lift --model`` and ``ingest --model`` call
:func:`model_lift_checks`, so a table that passes one passes the others.
"""

from __future__ import annotations

import pandas as pd

from mmmcal.lift.data_checks import LiftChecks, data_checks
from mmmcal.lift.table import LiftTable, validate_lift_table
from mmmcal.models.data import ModelData
from mmmcal.models.spec import ModelSpec

__all__ = ["model_lift_checks", "validate_model_lift"]


def model_lift_checks(spec: ModelSpec, data: ModelData) -> LiftChecks:
    """The contract's arguments for a model of ``spec`` fitted to ``data`` (prepared).

    Channels are the spec's; dates, geos and the scales (largest target and spend per
    period) are the prepared data's.
    """
    frame = data.X.assign(**{spec.target_column: data.y.to_numpy()})
    return data_checks(
        frame,
        date_column=spec.date_column,
        channels=list(spec.channel_columns),
        target_column=spec.target_column,
        geo_column="geo" if spec.geo_column else None,
    )


def validate_model_lift(lift: pd.DataFrame, spec: ModelSpec, data: ModelData) -> LiftTable:
    """``lift`` checked against ``data`` as ``fit`` checks it (``LiftTableError`` if not)."""
    return validate_lift_table(lift, **model_lift_checks(spec, data))
