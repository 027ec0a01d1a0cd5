"""The command line's choices, each built from the API's own list of allowed values.

Typer lists an Enum's values in ``--help`` and rejects any other value with that list
(exit code 2), so a choice added to the API appears on the command line by itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import cast, get_args

from mmmcal.options import (
    ENGINES,
    INGEST_FORMAT_ALIASES,
    INGEST_FORMATS,
    LIFT_DISTRIBUTIONS,
    GeoDesignKind,
    LikelihoodChoice,
    SpendChangeKind,
)

__all__ = ["Engine", "GeoDesign", "IngestFormat", "LiftDistribution", "Likelihood", "SpendChange"]


def choice(name: str, values: Iterable[str]) -> type[StrEnum]:
    """A StrEnum called ``name`` with one member per value (``steady_state`` -> STEADY_STATE)."""
    members = [(value.upper().replace("-", "_"), value) for value in values]
    return cast(type[StrEnum], StrEnum(name, members))


Engine = choice("Engine", ENGINES)
Likelihood = choice("Likelihood", get_args(LikelihoodChoice))
LiftDistribution = choice("LiftDistribution", LIFT_DISTRIBUTIONS)
IngestFormat = choice("IngestFormat", (*INGEST_FORMATS, *INGEST_FORMAT_ALIASES))
GeoDesign = choice("GeoDesign", get_args(GeoDesignKind))
SpendChange = choice("SpendChange", get_args(SpendChangeKind))
