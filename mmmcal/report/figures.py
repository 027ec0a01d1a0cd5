"""The report's figures (matplotlib, outside pyplot), each as an embeddable PNG with its note.

Every figure function returns a :class:`ReportFigure`: a title, the PNG as base64 text and a
note that says what the marks and intervals are. Posterior queries come from
:mod:`mmmcal.report.posterior`, intervals from :mod:`mmmcal.evaluate.intervals`.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mmmcal.evaluate.intervals import central_interval
from mmmcal.evaluate.scorecard import Scorecard
from mmmcal.report.posterior import (
    implied_lift_draws,
    observed_target,
    predictive_draws,
    response_draws,
    true_curve,
)

__all__ = [
    "PALETTE",
    "ReportFigure",
    "contributions_figure",
    "lift_fit_figure",
    "png_base64",
    "predictive_fit_figure",
    "prior_posterior_figure",
    "response_curves_figure",
    "shares_figure",
    "subplots",
]

PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860"]


@dataclass(frozen=True)
class ReportFigure:
    """One figure of a page: its title, the PNG as base64 text, and what it shows."""

    title: str
    png: str
    note: str = ""


def subplots(*args, **kwargs):
    """A figure outside pyplot (so the report never changes a notebook's backend)."""
    figsize = kwargs.pop("figsize", None)
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def png_base64(fig: Figure) -> str:
    """``fig`` as a PNG (110 dpi), base64-encoded for a ``data:`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _color(j: int) -> str:
    return PALETTE[j % len(PALETTE)]


def shares_figure(card: Scorecard, has_truth: bool) -> ReportFigure:
    """Contribution share and ROAS per channel and model: mean and 90% HDI (the scorecard's)."""
    table = card.table()
    models = list(card.models)
    channels = list(dict.fromkeys(table["channel"]))
    fig, axes = subplots(1, 2, figsize=(11, 3.6))
    for ax, metric, label in (
        (axes[0], "share", "contribution share of target"),
        (axes[1], "roas", "ROAS"),
    ):
        width = 0.8 / len(models)
        for j, m in enumerate(models):
            sub = table[table.model == m].set_index("channel").loc[channels]
            pos = np.arange(len(channels)) + (j - (len(models) - 1) / 2) * width
            ax.errorbar(
                pos,
                sub[f"{metric}_mean"],
                yerr=[
                    sub[f"{metric}_mean"] - sub[f"{metric}_lo"],
                    sub[f"{metric}_hi"] - sub[f"{metric}_mean"],
                ],
                fmt="o",
                color=_color(j),
                label=m,
                capsize=3,
            )
        if has_truth:
            truth = table.drop_duplicates("channel").set_index("channel").loc[channels]
            ax.scatter(
                np.arange(len(channels)),
                truth[f"true_{metric}"],
                marker="*",
                s=160,
                color="black",
                zorder=5,
                label="truth",
            )
        ax.set_xticks(np.arange(len(channels)), channels)
        ax.set_title(f"{label} (mean, 90% HDI)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    note = "Posterior mean with 90% HDI per model" + (
        "; stars mark the truth." if has_truth else "."
    )
    return ReportFigure("Contribution shares and ROAS", png_base64(fig), note)


def _spend_grid(models: Sequence[Any], lift: pd.DataFrame | None) -> np.ndarray:
    """(grid, channel) spend per period from 0 to past the data and the tested spends."""
    channels = list(models[0].spec.channel_columns)
    top = models[0].data_.X[channels].max().to_numpy() * 1.2
    if lift is not None and len(lift):
        for i, c in enumerate(channels):
            rows = lift[lift.channel == c]
            if len(rows):
                top[i] = max(top[i], float((rows.x + rows.delta_x).max()) * 1.1)
    return np.linspace(0, 1, 60)[:, None] * top[None, :]


def response_curves_figure(
    models: Sequence[Any], truth: dict[str, Any] | None, lift: pd.DataFrame | None
) -> ReportFigure:
    """Steady-state response curve per channel: mean and central 90% band per model."""
    channels = list(models[0].spec.channel_columns)
    spend = models[0].data_.X[channels]
    grid = _spend_grid(models, lift)
    fig, axes = subplots(1, len(channels), figsize=(4 * len(channels), 3.4), squeeze=False)
    for j, model in enumerate(models):
        curves = response_draws(model, grid)
        lo, hi = central_interval(curves)
        mean = curves.mean(axis=0)
        for i, ax in enumerate(axes[0]):
            ax.fill_between(grid[:, i], lo[:, i], hi[:, i], color=_color(j), alpha=0.2)
            ax.plot(grid[:, i], mean[:, i], color=_color(j), label=model.name)
    for i, (c, ax) in enumerate(zip(channels, axes[0], strict=True)):
        if truth is not None:
            true = true_curve(truth, c, grid[:, i])
            if true is not None:
                ax.plot(grid[:, i], true, "k--", label="truth")
        if lift is not None and len(lift):
            for _, r in lift[lift.channel == c].iterrows():
                lo_x, hi_x = sorted([r.x, r.x + r.delta_x])
                ax.axvspan(lo_x, hi_x, color="gold", alpha=0.25, label="tested spend")
        ax.axvline(spend[c].mean(), color="grey", lw=0.8, ls=":")
        ax.set_title(c)
        ax.set_xlabel("spend per period (dotted: mean)")
        ax.set_ylabel("contribution per period")
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=False))
    axes[0][0].legend(unique.values(), unique.keys(), fontsize=8)
    note = (
        "Contribution per period once a constant spend has run long enough (steady state); "
        "bands are central 90% intervals of the draws (5th to 95th percentile); shaded spans "
        "are the spend ranges the experiments tested"
        + ("; dashed: the true curve." if truth is not None else ".")
    )
    return ReportFigure("Response curves", png_base64(fig), note)


def lift_fit_figure(models: Sequence[Any], lift: pd.DataFrame, has_truth: bool) -> ReportFigure:
    """Each lift test against each model's implied lift for the same test."""
    labels = (
        lift["test_id"].astype(str).tolist() if "test_id" in lift else [str(i) for i in lift.index]
    )
    n = len(lift)
    fig, ax = subplots(figsize=(min(16, max(6, 0.7 * n + 3)), 3.8))
    pos = np.arange(n)
    ax.errorbar(
        pos - 0.25,
        lift.delta_y,
        yerr=1.645 * lift.sigma,
        fmt="s",
        color="black",
        capsize=3,
        label="experiment (delta_y, 90%)",
    )
    if has_truth and "true_delta_y" in lift:
        ax.scatter(
            pos - 0.25,
            lift.true_delta_y,
            marker="*",
            s=140,
            color="gold",
            zorder=5,
            edgecolor="black",
            label="true lift",
        )
    for j, model in enumerate(models):
        draws = implied_lift_draws(model, lift)
        mean = draws.mean(axis=0)
        lo, hi = central_interval(draws)
        off = (j + 1) * 0.5 / (len(models) + 1) - 0.05
        ax.errorbar(
            pos + off,
            mean,
            yerr=[mean - lo, hi - mean],
            fmt="o",
            color=_color(j),
            capsize=3,
            label=f"{model.name} (model-implied)",
        )
    ax.set_xticks(pos, labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("lift per period")
    ax.axhline(0, color="grey", lw=0.8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    note = (
        "Each experiment's lift per period with its 90% interval (delta_y +/- 1.645 sigma), "
        "against what each model implies for the same test: mean and central 90% interval of "
        "the draws (window-aware for rows with a window)."
    )
    return ReportFigure("Lift fit", png_base64(fig), note)


def predictive_fit_figure(models: Sequence[Any], mu: dict[str, np.ndarray]) -> ReportFigure:
    """Observed target against each model's predictive band, and the residuals below.

    ``mu`` maps model name to its draws of the expected target, (sample, date).
    """
    y = observed_target(models[0])
    fig, axes = subplots(
        2, 1, figsize=(11, 5.2), sharex=True, gridspec_kw={"height_ratios": [3, 1.4]}
    )
    axes[0].plot(y.index, y.values, color="black", lw=1, label="observed")
    rng = np.random.default_rng(0)
    for j, model in enumerate(models):
        expected = mu[model.name]
        lo, hi = central_interval(predictive_draws(model, expected, rng))
        axes[0].fill_between(y.index, lo, hi, color=_color(j), alpha=0.15)
        axes[0].plot(
            y.index,
            expected.mean(axis=0),
            color=_color(j),
            lw=1,
            label=f"{model.name} (90% predictive)",
        )
        axes[1].plot(y.index, y.values - expected.mean(axis=0), color=_color(j), lw=0.8)
    axes[1].axhline(0, color="grey", lw=0.8)
    axes[0].set_title("Posterior predictive fit")
    axes[1].set_ylabel("residual")
    axes[0].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    note = (
        "Lines: mean expected target; bands: central 90% intervals of the predictive draws "
        "(expected target plus observation noise). Residual: observed minus the mean."
    )
    return ReportFigure("Posterior predictive fit and residuals", png_base64(fig), note)


def contributions_figure(model: Any, mu: np.ndarray) -> ReportFigure:
    """Stacked mean contributions over time: baseline and each channel, with the target.

    ``mu`` is the model's draws of the expected target, (sample, date).
    """
    y = observed_target(model)
    channels = list(model.spec.channel_columns)
    media = model.channel_contributions().mean(("chain", "draw")).transpose("date", "channel")
    base = mu.mean(axis=0) - media.sum("channel").to_numpy()
    fig, ax = subplots(figsize=(11, 3.4))
    layers = [base, *(media.sel(channel=c).to_numpy() for c in channels)]
    ax.stackplot(
        y.index,
        layers,
        labels=["baseline (intercept, controls, seasonality)", *channels],
        colors=["#cccccc", *PALETTE[: len(channels)]],
        alpha=0.85,
    )
    ax.plot(y.index, y.values, color="black", lw=0.8, label="observed")
    ax.set_title(f"{model.name}: contributions over time (posterior mean)")
    ax.legend(fontsize=8, loc="upper left", ncol=len(channels) + 2)
    ax.grid(alpha=0.3)
    return ReportFigure(f"Contributions over time: {model.name}", png_base64(fig))


def _prior_draws(prior: Any, channels: list[str]) -> Any:
    """2000 draws of a media parameter's prior, or None when it cannot be sampled."""
    pymc_log = logging.getLogger("pymc")
    level = pymc_log.level
    pymc_log.setLevel(logging.WARNING)  # no "Sampling: [variable]" lines in the output
    try:
        return prior.sample_prior(coords={"channel": channels}, draws=2000)["variable"]
    except Exception:  # a prior without a sampleable form: show the posterior only
        return None
    finally:
        pymc_log.setLevel(level)


def prior_posterior_figure(model: Any, channels: list[str]) -> ReportFigure | None:
    """Prior and posterior of the media parameters of ``channels`` (None without channels)."""
    if not channels:
        return None
    mmm = model.mmm_
    mapping = {**mmm.adstock.variable_mapping, **mmm.saturation.variable_mapping}
    priors = {**mmm.adstock.function_priors, **mmm.saturation.function_priors}
    fig, axes = subplots(
        len(channels),
        len(mapping),
        figsize=(3.3 * len(mapping), 2.6 * len(channels)),
        squeeze=False,
    )
    for j, (param, var) in enumerate(mapping.items()):
        prior_draws = _prior_draws(priors[param], list(model.spec.channel_columns))
        post = model.idata_.posterior[var]
        for i, c in enumerate(channels):
            ax = axes[i][j]
            p = post.sel(channel=c) if "channel" in post.dims else post
            values = p.to_numpy().ravel()
            ax.hist(values, bins=40, density=True, alpha=0.6, color=PALETTE[0], label="posterior")
            if prior_draws is not None:
                one = prior_draws.sel(channel=c) if "channel" in prior_draws.dims else prior_draws
                pv = np.asarray(one).ravel()
                hi = np.quantile(np.concatenate([pv, values]), 0.99)
                ax.hist(
                    pv[pv <= hi],
                    bins=40,
                    density=True,
                    histtype="step",
                    color="black",
                    label="prior",
                )
            ax.set_title(f"{c}: {var}", fontsize=9)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return ReportFigure(
        f"Prior vs posterior of calibrated channels: {model.name}",
        png_base64(fig),
        "Histograms of prior draws (outline) and posterior draws (filled) "
        "for the tested channels' media parameters (model units).",
    )
