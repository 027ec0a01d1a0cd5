"""Scorecards: what a fitted model recovered, against the ground truth.

Per channel: contribution share of the total target, ROAS (contribution per unit of
spend) and marginal ROAS at current spend (extra contribution per extra unit of spend when
every period's spend rises 1%: what a heavy-up test measures, whatever the curve family;
Bayesian national fits), posterior mean and 90% HDI, the truth, absolute error and whether
the interval covers the truth; plus sampler diagnostics. One entry per model, so before/after
calibration is one comparison.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mmmcal.evaluate.intervals import hdi
from mmmcal.models.engines import Estimator
from mmmcal.report.posterior import marginal_roas_draws

__all__ = ["ChannelScore", "ModelScore", "Scorecard", "score_model"]


HDI_PROB = 0.9


@dataclass(frozen=True)
class ChannelScore:
    """Recovered share and ROAS of one channel; truth fields are None without truth."""

    share_mean: float
    share_hdi_90: tuple[float, float]
    roas_mean: float
    roas_hdi_90: tuple[float, float]
    true_share: float | None = None
    true_roas: float | None = None
    # Marginal ROAS at current spend (every period's spend +1%); None where not computed.
    mroas_mean: float | None = None
    mroas_hdi_90: tuple[float, float] | None = None
    true_mroas: float | None = None

    @property
    def mroas_error(self) -> float | None:
        if self.true_mroas is None or self.mroas_mean is None:
            return None
        return self.mroas_mean - self.true_mroas

    @property
    def mroas_covered(self) -> bool | None:
        if self.true_mroas is None or self.mroas_hdi_90 is None:
            return None
        return self.mroas_hdi_90[0] <= self.true_mroas <= self.mroas_hdi_90[1]

    @property
    def share_error(self) -> float | None:
        return None if self.true_share is None else self.share_mean - self.true_share

    @property
    def roas_error(self) -> float | None:
        return None if self.true_roas is None else self.roas_mean - self.true_roas

    @property
    def share_covered(self) -> bool | None:
        if self.true_share is None:
            return None
        return self.share_hdi_90[0] <= self.true_share <= self.share_hdi_90[1]

    @property
    def roas_covered(self) -> bool | None:
        if self.true_roas is None:
            return None
        return self.roas_hdi_90[0] <= self.true_roas <= self.roas_hdi_90[1]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "true_share": self.true_share,
            "share_mean": self.share_mean,
            "share_hdi_90": list(self.share_hdi_90),
            "share_abs_error": None if self.share_error is None else abs(self.share_error),
            "share_covered": self.share_covered,
            "true_roas": self.true_roas,
            "roas_mean": self.roas_mean,
            "roas_hdi_90": list(self.roas_hdi_90),
            "roas_abs_error": None if self.roas_error is None else abs(self.roas_error),
            "roas_covered": self.roas_covered,
            "true_mroas": self.true_mroas,
            "mroas_mean": self.mroas_mean,
            "mroas_hdi_90": None if self.mroas_hdi_90 is None else list(self.mroas_hdi_90),
            "mroas_abs_error": None if self.mroas_error is None else abs(self.mroas_error),
            "mroas_covered": self.mroas_covered,
        }
        return out


@dataclass(frozen=True)
class ModelScore:
    """Scores of one fitted model."""

    name: str
    channels: dict[str, ChannelScore]
    diagnostics: dict[str, Any]
    tested_channels: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # why the fit fails its checks; empty: it passes

    @property
    def healthy(self) -> bool:
        """Whether the fit passed its checks (its numbers are results)."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.healthy else "fail",
            "problems": list(self.problems),
            "channels": {c: s.to_dict() for c, s in self.channels.items()},
            "diagnostics": self.diagnostics,
            "tested_channels": list(self.tested_channels),
        }


def score_model(model: Estimator, truth: dict[str, Any] | None = None) -> ModelScore:
    """Score a fitted model against ``truth`` (a ``truth.json`` document) if given."""
    contributions = model.channel_contributions()  # chain, draw, date, channel
    totals = (
        contributions.sum("date").stack(sample=("chain", "draw")).transpose("channel", "sample")
    )
    target_total = model.target_total()
    spend = model.spend_totals()
    marginal = marginal_roas_draws(model)
    channels = {}
    for k, c in enumerate(model.spec.channel_columns):
        draws = totals.sel(channel=c).to_numpy()
        share = draws / target_total
        roas = draws / float(spend[c])
        true = (truth or {}).get("channels", {}).get(c)
        mroas = None if marginal is None else marginal[:, k]
        channels[c] = ChannelScore(
            share_mean=float(share.mean()),
            share_hdi_90=hdi(share, HDI_PROB),
            roas_mean=float(roas.mean()),
            roas_hdi_90=hdi(roas, HDI_PROB),
            true_share=None if true is None else float(true["share"]),
            true_roas=None if true is None else float(true["roas"]),
            mroas_mean=None if mroas is None else float(mroas.mean()),
            mroas_hdi_90=None if mroas is None else hdi(mroas, HDI_PROB),
            true_mroas=None if true is None or "mroas" not in true else float(true["mroas"]),
        )
    tested = ()
    if model.lift is not None:
        tested = tuple(dict.fromkeys(model.lift["channel"].astype(str)))
    return ModelScore(
        name=model.name,
        channels=channels,
        diagnostics=model.diagnostics_.to_dict(),
        tested_channels=tested,
        problems=tuple(model.diagnostics_.problems),
    )


@dataclass(frozen=True)
class Scorecard:
    """Scores of several models on the same data and truth."""

    models: dict[str, ModelScore]

    @classmethod
    def from_models(
        cls, models: Sequence[Estimator], truth: dict[str, Any] | None = None
    ) -> Scorecard:
        names = [m.name for m in models]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"Model names must be unique in a scorecard; repeated: {dup}.")
        return cls({m.name: score_model(m, truth) for m in models})

    @property
    def unhealthy(self) -> dict[str, tuple[str, ...]]:
        """Models that failed their checks, with why."""
        return {n: s.problems for n, s in self.models.items() if not s.healthy}

    def to_dict(self) -> dict[str, Any]:
        return {"models": {n: s.to_dict() for n, s in self.models.items()}}

    def save(self, path: str | Path, **sections: Any) -> Path:
        """Write the scorecard JSON; ``sections`` (e.g. ``trust=...``) join it at the top."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**self.to_dict(), **sections}, indent=2) + "\n")
        return path

    def table(self) -> pd.DataFrame:
        """Long table: one row per model x channel."""
        rows = []
        for name, score in self.models.items():
            for c, s in score.channels.items():
                rows.append(
                    {
                        "model": name,
                        "channel": c,
                        "tested": c in score.tested_channels,
                        "true_share": s.true_share,
                        "share_mean": s.share_mean,
                        "share_lo": s.share_hdi_90[0],
                        "share_hi": s.share_hdi_90[1],
                        "share_covered": s.share_covered,
                        "true_roas": s.true_roas,
                        "roas_mean": s.roas_mean,
                        "roas_lo": s.roas_hdi_90[0],
                        "roas_hi": s.roas_hdi_90[1],
                        "roas_covered": s.roas_covered,
                        "true_mroas": s.true_mroas,
                        "mroas_mean": s.mroas_mean,
                        "mroas_lo": None if s.mroas_hdi_90 is None else s.mroas_hdi_90[0],
                        "mroas_hi": None if s.mroas_hdi_90 is None else s.mroas_hdi_90[1],
                        "mroas_covered": s.mroas_covered,
                    }
                )
        return pd.DataFrame(rows)
