"""The validation report page: one self-contained HTML file (figures embedded as PNG).

Sections: scorecard (before/after side by side), what to trust without truth
(:mod:`mmmcal.evaluate.trust`), sampler checks in plain language, shares
and ROAS with 90% HDIs, response curves with central 90% bands and the tested spend ranges,
lift fit (each test against the model-implied lift), posterior predictive fit with
residuals, contributions over time, and prior vs posterior of the tested channels'
parameters. Truth markers appear only when a ``truth.json`` document is given.

Baseline engines (:mod:`mmmcal.models.baselines`) share every figure but the prior vs
posterior one; their bands are bootstrap intervals and their checks describe the
hyperparameter search.

Pages are Jinja templates in ``mmmcal/report/templates/`` (``base.html`` holds the shared
head, style and layout), rendered with autoescaping by :func:`render`; the study summary
page uses the same base.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from mmmcal.evaluate.checks import diagnostic_checks, is_bayesian
from mmmcal.evaluate.scorecard import Scorecard
from mmmcal.evaluate.trust import TrustTable, trust_table
from mmmcal.lift.table import national_rows, union_lift
from mmmcal.options import RANK_LABELS
from mmmcal.report.decision_figure import decision_figure
from mmmcal.report.figures import (
    ReportFigure,
    contributions_figure,
    lift_fit_figure,
    predictive_fit_figure,
    prior_posterior_figure,
    response_curves_figure,
    shares_figure,
)
from mmmcal.report.posterior import mu_draws

if TYPE_CHECKING:
    from mmmcal.advise.advice import Advice
    from mmmcal.models.engines import Estimator

__all__ = ["render", "scorecard_rows", "write_report"]

# A recovered share within this distance of the truth counts as close; ROAS within this
# fraction of the true ROAS.
SHARE_TOLERANCE = 0.02
ROAS_TOLERANCE = 0.15


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("mmmcal.report", "templates"),
        autoescape=select_autoescape(default=True),
    )


def render(template_name: str, **context: Any) -> str:
    """Render the template ``template_name`` of ``mmmcal/report/templates/`` (autoescaped)."""
    return _environment().get_template(template_name).render(**context)


def _verdict(row: pd.Series, metric: str) -> str:
    """``good`` when the mean is close to the truth and the interval covers it, else ``bad``.

    ``""`` where the model or the truth lacks the metric.
    """
    truth = row[f"true_{metric}"]
    if pd.isna(truth) or pd.isna(row[f"{metric}_mean"]):
        return ""
    tolerance = SHARE_TOLERANCE if metric == "share" else ROAS_TOLERANCE * abs(truth)
    close = abs(row[f"{metric}_mean"] - truth) <= tolerance
    return "good" if close and row[f"{metric}_covered"] else "bad"


def scorecard_rows(card: Scorecard, has_truth: bool) -> dict[str, Any]:
    """The scorecard as the report's table: model names, and one row per channel.

    Each row has the channel, its true share, ROAS and marginal ROAS, and one cell per model
    and metric (``share``, ``roas``, and ``mroas`` where any model has it; a model without
    it has ``mean`` None): mean, 90% HDI (``lo``, ``hi``), whether the channel was tested,
    and a verdict (``good``/``bad`` against the truth, ``""`` without truth).
    """
    table = card.table()
    models = list(card.models)
    with_mroas = bool(table["mroas_mean"].notna().any())
    metrics = ("share", "roas", "mroas") if with_mroas else ("share", "roas")
    rows = []
    for c in dict.fromkeys(table["channel"]):
        first = table[table.channel == c].iloc[0]
        cells = []
        for m in models:
            r = table[(table.model == m) & (table.channel == c)].iloc[0]
            for metric in metrics:
                cells.append(
                    {
                        "metric": metric,
                        "mean": None if pd.isna(r[f"{metric}_mean"]) else r[f"{metric}_mean"],
                        "lo": r[f"{metric}_lo"],
                        "hi": r[f"{metric}_hi"],
                        "tested": bool(r.tested),
                        "verdict": _verdict(r, metric) if has_truth else "",
                    }
                )
        rows.append(
            {
                "channel": c,
                "true_share": first.true_share,
                "true_roas": first.true_roas,
                "true_mroas": None if pd.isna(first.true_mroas) else first.true_mroas,
                "cells": cells,
            }
        )
    return {"models": models, "rows": rows, "mroas": with_mroas}


def _figures(
    models: Sequence[Any], card: Scorecard, truth: dict[str, Any] | None, lift: pd.DataFrame | None
) -> list[ReportFigure]:
    has_truth = truth is not None
    figures = [shares_figure(card, has_truth), response_curves_figure(models, truth, lift)]
    if lift is not None and len(lift):
        figures.append(lift_fit_figure(models, lift.reset_index(drop=True), has_truth))
    mu = {m.name: mu_draws(m) for m in models}  # expected target draws, shared by two figures
    figures.append(predictive_fit_figure(models, mu))
    figures.extend(contributions_figure(m, mu[m.name]) for m in models)
    for m in filter(is_bayesian, models):
        tested = [] if m.lift is None else list(dict.fromkeys(m.lift["channel"]))
        figure = prior_posterior_figure(m, tested)
        if figure is not None:
            figures.append(figure)
    return figures


def _advice_view(advice: Advice) -> dict[str, Any]:
    """An advice table as the template shows it: the ranked value, power, cost, reason."""
    rows = advice.table.assign(value=advice.table[f"value_{advice.rank_by}"])
    return {
        "model": advice.model,
        "advised": advice.best,
        "rank_label": RANK_LABELS[advice.rank_by],
        "rows": rows.to_dict(orient="records"),
    }


def write_report(
    models: Sequence[Estimator],
    path: str | Path,
    *,
    truth: dict[str, Any] | None = None,
    lift: pd.DataFrame | None = None,
    title: str | None = None,
    card: Scorecard | None = None,
    trust: TrustTable | None = None,
    decisions: dict[str, dict[str, Any]] | None = None,
    advice: Sequence[Advice] | None = None,
) -> Path:
    """Write the validation report of fitted ``models`` to ``path`` (self-contained HTML).

    ``lift`` defaults to the union of the models' own lift tables; ``truth`` (a
    ``truth.json`` document) adds truth markers and coverage highlighting. ``card``
    (``Scorecard.from_models(models, truth)``) and ``trust`` (``trust_table(models)``) are
    computed here unless a caller that has them already passes them. ``decisions``: model
    name -> :func:`mmmcal.decide.regret.decision` document, shown as a budget-decision figure.
    ``advice``: :func:`mmmcal.advise.advice.advise` results, shown as "What to test next".
    """
    if not models:
        raise ValueError("A report needs at least one fitted model.")
    if lift is None:
        lift = union_lift(m.lift for m in models)
    if lift is not None and len(models[0].spec.dims) == 0:
        lift = national_rows(lift)
    card = card if card is not None else Scorecard.from_models(models, truth)
    has_truth = truth is not None
    page = render(
        "report.html",
        title=title or "mmmcal validation report",
        subtitle=f"{len(models)} model(s): {', '.join(m.name for m in models)}"
        + (
            "; scored against the simulation's ground truth."
            if has_truth
            else "; no ground truth given."
        ),
        has_truth=has_truth,
        unhealthy=card.unhealthy,
        scorecard=scorecard_rows(card, has_truth),
        trust=trust if trust is not None else trust_table(models),
        advice=[_advice_view(a) for a in advice or ()],
        checks=[c for m in models for c in diagnostic_checks(m)],
        bayesian=[m for m in models if is_bayesian(m)],
        baselines=[m for m in models if not is_bayesian(m)],
        figures=_figures(models, card, truth, lift)
        + ([decision_figure(decisions)] if decisions else []),
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
