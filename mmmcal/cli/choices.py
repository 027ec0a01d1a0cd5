"""The command line's choices, each built from the API's own list of allowed values.

Typer lists an Enum's values in ``--help`` and rejects any other value with that list
(exit code 2), so a choice added to the API appears on the command line by itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import cast, get_args

from mmmcal.experiments.geolift import GeoLiftDesign
from mmmcal.lift.ingest import INGEST_FORMAT_ALIASES, INGEST_FORMATS
from mmmcal.lift.windows import LikelihoodChoice
from mmmcal.models.engines import ENGINES
from mmmcal.models.lift_likelihood import LIFT_DISTRIBUTIONS

__all__ = ["Engine", "GeoDesign", "IngestFormat", "LiftDistribution", "Likelihood", "SpendChange"]


def choice(name: str, values: Iterable[str]) -> type[StrEnum]:
    """A StrEnum called ``name`` with one member per value (``steady_state`` -> STEADY_STATE)."""
    members = [(value.upper().replace("-", "_"), value) for value in values]
    return cast(type[StrEnum], StrEnum(name, members))


def _literal_values(field: str) -> tuple[str, ...]:
    return get_args(GeoLiftDesign.model_fields[field].annotation)


Engine = choice("Engine", ENGINES)
Likelihood = choice("Likelihood", get_args(LikelihoodChoice))
LiftDistribution = choice("LiftDistribution", LIFT_DISTRIBUTIONS)
IngestFormat = choice("IngestFormat", (*INGEST_FORMATS, *INGEST_FORMAT_ALIASES))
GeoDesign = choice("GeoDesign", _literal_values("design"))
SpendChange = choice("SpendChange", _literal_values("change"))
