"""Candidate experiments: channel x design x weeks x spend change, checked against a fit.

A candidate is a conversion-lift test not yet run: ``heavy-up`` (spend up by
``spend_change`` of the channel's mean spend, default +50%), ``pull-back`` (down, default
-50%), ``go-dark`` (spend off) or ``switch-on`` (from zero to ``spend_change`` of the mean,
default 100%), for the last ``weeks`` periods of the data. Its precision is the standard
error of the lift it will report: ``sigma`` (target units per period) or ``precision``
(relative to the lift the posterior expects); neither: the target's noise (see
:mod:`mmmcal.advise.advice`). :func:`check_candidates` names every bad row and field before
any computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from mmmcal.experiments.conversion_lift import LiftTestDesign
from mmmcal.specs import FrozenSpec, format_validation_error

__all__ = [
    "Candidate",
    "CandidateError",
    "check_candidates",
    "default_candidates",
    "read_candidates",
]

_DEFAULT_CHANGE = {"heavy-up": 0.5, "pull-back": -0.5, "go-dark": -1.0, "switch-on": 1.0}


class CandidateError(ValueError):
    """Candidates that cannot be valued; the message names each row and field."""


class Candidate(FrozenSpec):
    """One experiment that could be run next (spend changes as fractions of mean spend)."""

    channel: str
    design: Literal["heavy-up", "pull-back", "go-dark", "switch-on"] = "heavy-up"
    weeks: int = Field(8, ge=1, le=104, description="periods of the data the test runs")
    spend_change: float | None = Field(None, ge=-1, le=20)
    precision: float | None = Field(None, gt=0, le=5)
    sigma: float | None = Field(None, gt=0)
    name: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Candidate:
        change = self.change
        ok = {
            "heavy-up": change > 0,
            "pull-back": -1 < change < 0,
            "go-dark": change == -1,
            "switch-on": change > 0,
        }[self.design]
        if not ok:
            raise ValueError(
                f"a {self.design} cannot have spend_change {change:g} (heavy-up and switch-on: "
                "> 0; pull-back: between -1 and 0; go-dark: -1 or leave it out)"
            )
        if self.precision is not None and self.sigma is not None:
            raise ValueError("give `precision` (relative) or `sigma` (target units), not both")
        return self

    @property
    def change(self) -> float:
        """The spend change as a fraction of the channel's mean spend."""
        return _DEFAULT_CHANGE[self.design] if self.spend_change is None else self.spend_change

    @property
    def label(self) -> str:
        """A short name: ``name``, or channel, design, change and weeks."""
        if self.name:
            return self.name
        change = "" if self.design == "go-dark" else f" {self.change:+.0%}"
        return f"{self.channel} {self.design}{change} {self.weeks}w"

    def design_for_simulator(self, precision: float = 0.05) -> LiftTestDesign:
        """The :class:`LiftTestDesign` that runs this candidate in a simulated world."""
        return LiftTestDesign(
            channel=self.channel,
            n_periods=self.weeks,
            spend_change=self.change,
            switch_on=self.design == "switch-on",
            precision=self.precision or precision,
            test_id=self.label.replace(" ", "_").replace("%", "pct"),
        )

    @classmethod
    def from_design(cls, design: LiftTestDesign) -> Candidate:
        """The candidate a simulator design runs (``spend_change`` or ``switch_on`` designs)."""
        if design.delta_x is not None or design.x is not None:
            raise ValueError(
                f"the {design.channel} test gives x/delta_x in spend; give it as "
                "`spend_change` (a fraction of mean spend) to be a candidate"
            )
        change = 1.0 if design.spend_change is None else design.spend_change
        kind = "switch-on" if design.switch_on else None
        kind = kind or ("go-dark" if change == -1 else "pull-back" if change < 0 else "heavy-up")
        return cls(
            channel=design.channel,
            design=kind,
            weeks=design.n_periods,
            spend_change=change,
            precision=design.precision,
            name=design.test_id,
        )


def default_candidates(channels: Sequence[str]) -> list[Candidate]:
    """Two tests per channel: an 8-week +50% heavy-up and an 8-week go-dark."""
    return [
        Candidate(channel=c, design=d, weeks=8) for c in channels for d in ("heavy-up", "go-dark")
    ]


def read_candidates(path: str | Path) -> list[Candidate]:
    """Candidates from a YAML file: a list of entries, or ``{candidates: [...]}``."""
    from mmmcal.files import read_yaml_file

    doc = read_yaml_file(path, "candidates file")
    entries = doc.get("candidates") if isinstance(doc, dict) else doc
    if not isinstance(entries, list) or not entries:
        raise CandidateError(
            f"The candidates file {str(path)!r} must hold a list of candidates (or "
            "`candidates: [...]`), e.g. '- {channel: tv, design: heavy-up, weeks: 8, "
            "spend_change: 0.5}'."
        )
    return parse_candidates(entries, f"candidates file {str(path)!r}")


def parse_candidates(entries: list[Any], what: str = "candidates") -> list[Candidate]:
    """Each entry validated; one error naming every bad row (counted from 1) and field."""
    out, problems = [], []
    for i, entry in enumerate(entries, start=1):
        try:
            out.append(entry if isinstance(entry, Candidate) else Candidate.model_validate(entry))
        except ValidationError as err:
            for line in format_validation_error(err, "").splitlines()[1:]:
                loc, msg = line.removeprefix("  - ").split(": ", 1)
                field = "" if loc == "(top level)" else f", field `{loc}`"
                problems.append(f"  - row {i}{field}: {msg.removeprefix('Value error, ')}")
    if problems:
        raise CandidateError(f"Invalid {what}:\n" + "\n".join(problems))
    return out


def check_candidates(
    candidates: Sequence[Candidate], channels: Sequence[str], mean_spend: np.ndarray, n_dates: int
) -> None:
    """Every candidate runnable on the fitted data, or one error naming each row and field.

    ``channels`` and ``mean_spend`` (per period, same order) are the fit's; ``n_dates`` its
    periods. Refused: an unknown channel, a heavy-up, pull-back or go-dark on a channel with
    no spend (switch it on instead), more weeks than the data has, a repeated candidate.
    """
    import difflib

    problems, seen = [], set()
    for i, c in enumerate(candidates, start=1):
        if c.channel not in channels:
            close = difflib.get_close_matches(c.channel, channels, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"  - row {i}, field `channel`: {c.channel!r} is not a channel of the fit{hint}; "
                f"use one of {list(channels)}"
            )
        elif c.design != "switch-on" and mean_spend[list(channels).index(c.channel)] <= 0:
            problems.append(
                f"  - row {i}, field `design`: {c.channel!r} has no spend to {c.design}; "
                "use design: switch-on"
            )
        if c.weeks > n_dates:
            problems.append(
                f"  - row {i}, field `weeks`: {c.weeks} is more than the {n_dates} periods of "
                "the data; shorten the test"
            )
        if c.label in seen:
            problems.append(f"  - row {i}: {c.label!r} repeats an earlier candidate; drop it")
        seen.add(c.label)
    if problems:
        raise CandidateError("Candidates that cannot run on this fit:\n" + "\n".join(problems))
