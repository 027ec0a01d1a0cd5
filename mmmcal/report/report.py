"""Validation report: one self-contained HTML file (figures embedded as PNG) per comparison.

Sections: scorecard (before/after side by side), shares and ROAS with 90% intervals,
response curves with posterior bands and the tested spend ranges, lift fit (each test
against the model-implied lift), posterior predictive fit with residuals, contributions
over time, sampler checks in plain language, and prior vs posterior of the tested channels'
parameters. Truth markers appear only when a ``truth.json`` document is given.

Baseline engines (:mod:`mmmcal.models.engines`) share every figure but the prior vs posterior one;
their bands are bootstrap intervals and their checks describe the hyperparameter search.
"""

from __future__ import annotations

import base64
import html
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, select_autoescape
from matplotlib.figure import Figure

from mmmcal.evaluate.scorecard import Scorecard
from mmmcal.models.bayes import CalibratedMMM

__all__ = ["Check", "diagnostic_checks", "implied_lift_draws", "response_draws", "write_report"]

N_DRAWS = 200
PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860"]


@dataclass(frozen=True)
class Check:
    """A sampler or model check: PASS / REVIEW / FAIL, what happened, and what to do."""

    model: str
    name: str
    status: str
    message: str
    recommendation: str = ""


def _is_bayes(model) -> bool:
    return isinstance(model, CalibratedMMM)


def _baseline_checks(model) -> list[Check]:
    """Plain-language checks of a baseline engine's search (no sampler to check)."""
    d = model.diagnostics_
    checks = [
        Check(
            model.name,
            "search",
            "PASS" if d.ok else "FAIL",
            f"Nevergrad evaluated {d.n_evaluations} hyperparameter sets; the pick from the "
            f"Pareto front ({d.n_pareto} sets) has NRMSE {d.nrmse:.3f} and DECOMP.RSSD "
            f"{d.decomp_rssd:.3f}.",
        ),
        Check(
            model.name,
            "intervals",
            "REVIEW",
            f"Intervals come from {d.n_bootstrap} block-bootstrap refits at the selected "
            "hyperparameters; they ignore the hyperparameters' uncertainty.",
            "Read them as lower bounds on the uncertainty, not as posterior intervals.",
        ),
    ]
    if d.mape_lift is not None:
        good = d.mape_lift <= 0.1
        checks.append(
            Check(
                model.name,
                "lift fit",
                "PASS" if good else "REVIEW",
                f"The model-implied lifts miss the tests by {100 * d.mape_lift:.1f}% on average "
                "(MAPE.LIFT).",
                "" if good else "Raise the search budget, or check the tests against each other.",
            )
        )
    return checks


def diagnostic_checks(model: CalibratedMMM) -> list[Check]:
    """Plain-language checks of one fit's sampler diagnostics (a baseline's search)."""
    if not _is_bayes(model):
        return _baseline_checks(model)
    d = model.diagnostics_
    checks = []
    if d.divergences == 0:
        checks.append(Check(model.name, "divergences", "PASS", "No divergent transitions."))
    else:
        checks.append(
            Check(
                model.name,
                "divergences",
                "FAIL",
                f"{d.divergences} divergent transitions: the sampler met regions it could not "
                "explore, so the posterior may be biased.",
                "Raise target_accept (e.g. 0.95), tighten weakly identified priors, or "
                "reparametrise.",
            )
        )
    if not np.isfinite(d.max_rhat):
        checks.append(
            Check(
                model.name, "R-hat", "REVIEW", "R-hat needs at least two chains.", "Run 4 chains."
            )
        )
    elif d.max_rhat <= 1.01:
        checks.append(
            Check(model.name, "R-hat", "PASS", f"Chains agree (max R-hat {d.max_rhat:.3f}).")
        )
    else:
        checks.append(
            Check(
                model.name,
                "R-hat",
                "FAIL" if d.max_rhat > 1.05 else "REVIEW",
                f"Chains disagree (max R-hat {d.max_rhat:.3f} > 1.01): some chain may be stuck.",
                "Run more tuning and draws; check for multimodality.",
            )
        )
    need = d.ess_needed
    if np.isfinite(d.min_ess_bulk) and d.min_ess_bulk >= need:
        checks.append(
            Check(
                model.name,
                "ESS",
                "PASS",
                f"Enough independent draws (min bulk ESS {d.min_ess_bulk:.0f}).",
            )
        )
    else:
        checks.append(
            Check(
                model.name,
                "ESS",
                "REVIEW",
                f"Few independent draws (min bulk ESS {d.min_ess_bulk:.0f} < {need}): "
                "intervals are imprecise.",
                "Draw more samples.",
            )
        )
    return checks


# --------------------------------------------------------------------------- helpers


def subplots(*args, **kwargs):
    """A figure outside pyplot (so the report never changes a notebook's backend)."""
    figsize = kwargs.pop("figsize", None)
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def png_base64(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _thin(model: CalibratedMMM, var: str, n: int = N_DRAWS) -> np.ndarray:
    """Up to ``n`` evenly spaced posterior draws of ``var`` (first axis = sample)."""
    da = model.idata_.posterior[var].stack(sample=("chain", "draw")).transpose("sample", ...)
    idx = np.linspace(0, da.sizes["sample"] - 1, min(n, da.sizes["sample"])).astype(int)
    return da.isel(sample=idx)


def _scales(model: CalibratedMMM) -> tuple[np.ndarray, float]:
    scales = model.mmm_.get_scales_as_xarray()
    cs = scales["channel_scale"]
    if "geo" in cs.dims:
        cs = cs.max("geo")
    ts = scales["target_scale"]
    ts = float(ts.sum()) if ts.ndim else float(ts)
    return cs.sel(channel=list(model.spec.channel_columns)).to_numpy(), ts


def response_draws(model: CalibratedMMM, spend: np.ndarray) -> np.ndarray:
    """Steady-state contribution per period (target units) at ``spend`` per period.

    Returns (sample, grid, channel); ``spend`` is (grid, channel). National models only
    use one scale per channel (geo models: the largest geo scale, an approximation).
    Baseline engines: their fitted curve per bootstrap draw.
    """
    from pytensor.xtensor import as_xtensor

    if not _is_bayes(model):
        return model.response_draws(spend)

    mmm = model.mmm_
    cs, ts = _scales(model)
    params = {}
    for p, var in mmm.saturation.variable_mapping.items():
        draws = _thin(model, var)
        if "geo" in draws.dims:
            draws = draws.mean("geo")
        params[p] = as_xtensor(
            draws.transpose("sample", "channel").to_numpy(), dims=("sample", "channel")
        )
    weights = _adstock_total_weight(model)
    x = as_xtensor((spend / cs)[None] * weights[:, None, :], dims=("sample", "grid", "channel"))
    out = mmm.saturation.function(x, **params).transpose("sample", "grid", "channel").eval()
    return np.asarray(out) * ts


def _adstock_total_weight(model: CalibratedMMM) -> np.ndarray:
    """Sum of adstock weights per draw and channel (1 when normalised)."""
    n = min(N_DRAWS, model.idata_.posterior.sizes["chain"] * model.idata_.posterior.sizes["draw"])
    k = len(model.spec.channel_columns)
    if model.spec.adstock.normalize:
        return np.ones((n, k))
    from pytensor.xtensor import as_xtensor

    mmm = model.mmm_
    impulse = np.zeros((mmm.adstock.l_max, n, k))
    impulse[0] = 1.0
    params = {
        p: as_xtensor(
            _thin(model, v).transpose("sample", "channel").to_numpy(), dims=("sample", "channel")
        )
        for p, v in mmm.adstock.variable_mapping.items()
    }
    w = mmm.adstock.function(
        as_xtensor(impulse, dims=("lag", "sample", "channel")), dim="lag", **params
    )
    return np.asarray(w.sum("lag").transpose("sample", "channel").eval())


def _true_curve(truth: dict, channel: str, spend: np.ndarray) -> np.ndarray | None:
    from pydantic import TypeAdapter

    from mmmcal.world.scenario import AdstockSpec, SaturationSpec, adstock_weights

    params = truth["channels"][channel]["params"]
    if isinstance(params["spend_scale"], dict):
        return None  # geo world: the national curve depends on the split over geos
    sat = TypeAdapter(SaturationSpec).validate_python(params["saturation"])
    ad = TypeAdapter(AdstockSpec).validate_python(params["adstock"])
    return params["beta"] * sat(spend * adstock_weights(ad).sum() / params["spend_scale"])


def _hdi(a: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    return np.quantile(a, 0.05, axis=axis), np.quantile(a, 0.95, axis=axis)


# --------------------------------------------------------------------------- figures


def _fig_shares(card: Scorecard, has_truth: bool) -> str:
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
                color=PALETTE[j % len(PALETTE)],
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
    return png_base64(fig)


def _fig_curves(models: list[CalibratedMMM], truth: dict | None, lift: pd.DataFrame | None) -> str:
    channels = list(models[0].spec.channel_columns)
    spend = models[0].data_.X[channels]
    top = spend.max().to_numpy() * 1.2
    if lift is not None and len(lift):
        for i, c in enumerate(channels):
            rows = lift[lift.channel == c]
            if len(rows):
                top[i] = max(top[i], float((rows.x + rows.delta_x).max()) * 1.1)
    grid = np.linspace(0, 1, 60)[:, None] * top[None, :]
    fig, axes = subplots(1, len(channels), figsize=(4 * len(channels), 3.4), squeeze=False)
    for j, model in enumerate(models):
        curves = response_draws(model, grid)
        lo, hi = _hdi(curves)
        mean = curves.mean(axis=0)
        for i, ax in enumerate(axes[0]):
            color = PALETTE[j % len(PALETTE)]
            ax.fill_between(grid[:, i], lo[:, i], hi[:, i], color=color, alpha=0.2)
            ax.plot(grid[:, i], mean[:, i], color=color, label=model.name)
    for i, (c, ax) in enumerate(zip(channels, axes[0], strict=True)):
        if truth is not None:
            true = _true_curve(truth, c, grid[:, i])
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
    return png_base64(fig)


def implied_lift_draws(model: CalibratedMMM, lift: pd.DataFrame) -> np.ndarray:
    """Model-implied lift per period of each lift row, (sample, row), target units.

    Rows with a window use mmmcal's window lift (the model's adstock and saturation over
    the test window); rows without one the steady-state curve difference. National models.
    Baseline engines: the same lift per bootstrap draw.
    """
    import pytensor
    from pytensor.xtensor import xtensor

    from mmmcal.lift.windows import split_rows
    from mmmcal.models.lift_likelihood import WindowLiftTerm, window_lift_expression

    if not _is_bayes(model):
        return model.implied_lift_draws(lift)
    mmm = model.mmm_
    channels = list(model.spec.channel_columns)
    dates = pd.DatetimeIndex(pd.to_datetime(model.data_.X[model.spec.date_column]).unique())
    window, steady = split_rows(lift.reset_index(drop=True), dates, "auto")
    cs, ts = _scales(model)
    n = min(N_DRAWS, model.idata_.posterior.sizes["chain"] * model.idata_.posterior.sizes["draw"])
    out = np.zeros((n, len(lift)))
    mapping = {**mmm.adstock.variable_mapping, **mmm.saturation.variable_mapping}
    if len(window):
        term = WindowLiftTerm.from_rows(window, channels, mmm.adstock.l_max, cs)
        inputs = {
            v: xtensor(v, dims=("channel",), shape=(len(channels),)) for v in mapping.values()
        }
        fn = pytensor.function(
            list(inputs.values()), window_lift_expression(mmm.adstock, mmm.saturation, inputs, term)
        )
        draws = {v: _thin(model, v).transpose("sample", "channel").to_numpy() for v in inputs}
        for i in range(n):
            out[i, window.index] = fn(*(draws[v][i] for v in inputs)) * ts
    for idx, r in steady.iterrows():
        grid = np.zeros((2, len(channels)))
        k = channels.index(r.channel)
        grid[0, k], grid[1, k] = r.x, r.x + r.delta_x
        curves = response_draws(model, grid)
        out[:, idx] = curves[:, 1, k] - curves[:, 0, k]
    return out


def _fig_lift(models: list[CalibratedMMM], lift: pd.DataFrame, has_truth: bool) -> str:
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
        lo, hi = _hdi(draws)
        off = (j + 1) * 0.5 / (len(models) + 1) - 0.05
        ax.errorbar(
            pos + off,
            mean,
            yerr=[mean - lo, hi - mean],
            fmt="o",
            color=PALETTE[j % len(PALETTE)],
            capsize=3,
            label=f"{model.name} (model-implied)",
        )
    ax.set_xticks(pos, labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("lift per period")
    ax.axhline(0, color="grey", lw=0.8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return png_base64(fig)


def _mu_draws(model: CalibratedMMM) -> np.ndarray:
    """Posterior draws of the expected target per date (target units), (sample, date)."""
    if not _is_bayes(model):
        return model.mu_draws()
    post_vars = model.idata_.posterior
    _, ts = _scales(model)
    total = _thin(model, "channel_contribution").sum("channel")
    for var, dim in (
        ("control_contribution", "control"),
        ("yearly_seasonality_contribution", None),
    ):
        if var in post_vars:
            d = _thin(model, var)
            total = total + (d.sum(dim) if dim else d)
    total = total + _thin(model, "intercept_contribution")
    if "geo" in total.dims:
        total = total.sum("geo")
    return total.transpose("sample", "date").to_numpy() * ts


def _observed(model: CalibratedMMM) -> pd.Series:
    X = model.data_.X
    date = model.spec.date_column
    y = pd.Series(np.asarray(model.data_.y), index=pd.to_datetime(X[date]).to_numpy())
    return y.groupby(level=0).sum()


def _fig_fit(models: list[CalibratedMMM], mu_draws: dict[str, np.ndarray]) -> str:
    y = _observed(models[0])
    fig, axes = subplots(
        2, 1, figsize=(11, 5.2), sharex=True, gridspec_kw={"height_ratios": [3, 1.4]}
    )
    axes[0].plot(y.index, y.values, color="black", lw=1, label="observed")
    rng = np.random.default_rng(0)
    for j, model in enumerate(models):
        mu = mu_draws[model.name]
        if _is_bayes(model):
            sigma = (
                _thin(model, "y_sigma").to_numpy().reshape(len(mu), -1).sum(axis=1)
                * _scales(model)[1]
            )
        else:
            sigma = np.full(len(mu), model.residual_sd())
        pred = mu + rng.standard_normal(mu.shape) * sigma[:, None]
        lo, hi = _hdi(pred)
        color = PALETTE[j % len(PALETTE)]
        axes[0].fill_between(y.index, lo, hi, color=color, alpha=0.15)
        axes[0].plot(
            y.index, mu.mean(axis=0), color=color, lw=1, label=f"{model.name} (90% predictive)"
        )
        axes[1].plot(y.index, y.values - mu.mean(axis=0), color=color, lw=0.8)
    axes[1].axhline(0, color="grey", lw=0.8)
    axes[0].set_title("Posterior predictive fit")
    axes[1].set_ylabel("residual")
    axes[0].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    return png_base64(fig)


def _fig_contributions(model: CalibratedMMM, mu_draws: np.ndarray) -> str:
    y = _observed(model)
    channels = list(model.spec.channel_columns)
    media = model.channel_contributions().mean(("chain", "draw")).transpose("date", "channel")
    mu = mu_draws.mean(axis=0)
    base = mu - media.sum("channel").to_numpy()
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
    return png_base64(fig)


def _fig_prior_posterior(model: CalibratedMMM, channels: list[str]) -> str | None:
    mmm = model.mmm_
    mapping = {**mmm.adstock.variable_mapping, **mmm.saturation.variable_mapping}
    priors = {**mmm.adstock.function_priors, **mmm.saturation.function_priors}
    all_channels = list(model.spec.channel_columns)
    if not channels:
        return None
    fig, axes = subplots(
        len(channels),
        len(mapping),
        figsize=(3.3 * len(mapping), 2.6 * len(channels)),
        squeeze=False,
    )
    for j, (param, var) in enumerate(mapping.items()):
        prior = priors[param]
        pymc_log = logging.getLogger("pymc")
        level = pymc_log.level
        pymc_log.setLevel(logging.WARNING)  # no "Sampling: [variable]" lines in the output
        try:
            prior_draws = prior.sample_prior(coords={"channel": all_channels}, draws=2000)
            prior_draws = prior_draws["variable"]
        except Exception:  # a prior without a sampleable form: show the posterior only
            prior_draws = None
        finally:
            pymc_log.setLevel(level)
        post = model.idata_.posterior[var]
        for i, c in enumerate(channels):
            ax = axes[i][j]
            p = post.sel(channel=c) if "channel" in post.dims else post
            values = p.to_numpy().ravel()
            ax.hist(values, bins=40, density=True, alpha=0.6, color=PALETTE[0], label="posterior")
            if prior_draws is not None:
                pd_ = prior_draws.sel(channel=c) if "channel" in prior_draws.dims else prior_draws
                pv = np.asarray(pd_).ravel()
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
    return png_base64(fig)


# --------------------------------------------------------------------------- page

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;margin:2em auto;color:#222;padding:0 1em}
h1{font-size:1.6em} h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:.3em .6em;text-align:right} th{background:#f4f4f4}
td.l,th.l{text-align:left} .good{background:#e3f4e1} .bad{background:#fbe3e3} .muted{color:#888}
.PASS{color:#1a7f37;font-weight:600} .REVIEW{color:#b08800;font-weight:600} .FAIL{color:#cf222e;font-weight:600}
img{max-width:100%} .note{color:#555;font-size:.9em}
</style></head><body>
<h1>{{ title }}</h1>
<p class="note">{{ subtitle }}</p>
<h2>Scorecard</h2>
{{ scorecard_html | safe }}
<p class="note">Shares are of the total target; intervals are 90% HDIs.{% if has_truth %} Green: within 0.02 of the truth (share; ROAS within 15%) and the 90% interval covers it; red: it does not.{% endif %} * = channel tested in that model's calibration.</p>
<h2>Sampler checks</h2>
<table><tr><th class="l">model</th><th class="l">check</th><th class="l">status</th><th class="l">what happened</th><th class="l">what to do</th></tr>
{% for c in checks %}<tr><td class="l">{{ c.model }}</td><td class="l">{{ c.name }}</td><td class="l {{ c.status }}">{{ c.status }}</td><td class="l">{{ c.message }}</td><td class="l">{{ c.recommendation }}</td></tr>{% endfor %}
</table>
{{ diagnostics_html | safe }}
{% for fig in figures %}
<h2>{{ fig.title }}</h2>
{% if fig.note %}<p class="note">{{ fig.note }}</p>{% endif %}
<img alt="{{ fig.title }}" src="data:image/png;base64,{{ fig.png }}">
{% endfor %}
</body></html>
"""


def _scorecard_html(card: Scorecard, has_truth: bool) -> str:
    table = card.table()
    models = list(card.models)
    channels = list(dict.fromkeys(table["channel"]))
    head = "<tr><th class='l'>channel</th>" + (
        "<th>true share</th><th>true ROAS</th>" if has_truth else ""
    )
    head += (
        "".join(f"<th>{html.escape(m)}: share</th><th>{html.escape(m)}: ROAS</th>" for m in models)
        + "</tr>"
    )
    body = []
    for c in channels:
        first = table[table.channel == c].iloc[0]
        cells = [f"<td class='l'>{html.escape(c)}</td>"]
        if has_truth:
            cells.append(f"<td>{first.true_share:.3f}</td><td>{first.true_roas:.4g}</td>")
        for m in models:
            r = table[(table.model == m) & (table.channel == c)].iloc[0]
            star = " *" if r.tested else ""
            for metric, fmt in (("share", ".3f"), ("roas", ".4g")):
                cls = ""
                if has_truth:
                    close = abs(r[f"{metric}_mean"] - r[f"true_{metric}"]) <= (
                        0.02 if metric == "share" else 0.15 * abs(r[f"true_{metric}"])
                    )
                    cls = "good" if close and r[f"{metric}_covered"] else "bad"
                text = f"{r[f'{metric}_mean']:{fmt}} <span class='muted'>[{r[f'{metric}_lo']:{fmt}}, {r[f'{metric}_hi']:{fmt}}]</span>{star}"
                cells.append(f"<td class='{cls}'>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>{head}{''.join(body)}</table>"


def _diagnostics_html(models: list[CalibratedMMM]) -> str:
    baselines = [m for m in models if not _is_bayes(m)]
    models = [m for m in models if _is_bayes(m)]
    extra = ""
    if baselines:
        brows = "".join(
            f"<tr><td class='l'>{html.escape(m.name)}</td><td class='l'>{m.diagnostics_.engine}</td>"
            f"<td>{m.diagnostics_.n_evaluations}</td><td>{m.diagnostics_.nrmse:.3f}</td>"
            f"<td>{m.diagnostics_.decomp_rssd:.3f}</td>"
            f"<td>{'' if m.diagnostics_.mape_lift is None else f'{m.diagnostics_.mape_lift:.3f}'}</td>"
            f"<td>{m.diagnostics_.n_bootstrap}</td><td>{m.diagnostics_.fit_seconds:.0f}</td></tr>"
            for m in baselines
        )
        extra = (
            "<table><tr><th class='l'>model</th><th class='l'>engine</th><th>evaluations</th>"
            "<th>NRMSE</th><th>DECOMP.RSSD</th><th>MAPE.LIFT</th><th>bootstrap draws</th>"
            f"<th>fit seconds</th></tr>{brows}</table>"
        )
    if not models:
        return extra
    rows = "".join(
        f"<tr><td class='l'>{html.escape(m.name)}</td><td>{m.diagnostics_.divergences}</td>"
        f"<td>{m.diagnostics_.max_rhat:.3f}</td><td>{m.diagnostics_.min_ess_bulk:.0f}</td>"
        f"<td>{m.diagnostics_.chains} x {m.diagnostics_.draws}</td><td>{m.diagnostics_.fit_seconds:.0f}</td></tr>"
        for m in models
    )
    return (
        "<table><tr><th class='l'>model</th><th>divergences</th><th>max R-hat</th>"
        f"<th>min bulk ESS</th><th>chains x draws</th><th>fit seconds</th></tr>{rows}</table>"
    ) + extra


def write_report(
    models: list[CalibratedMMM],
    path: str | Path,
    *,
    truth: dict[str, Any] | None = None,
    lift: pd.DataFrame | None = None,
    title: str | None = None,
) -> Path:
    """Write the validation report of fitted ``models`` to ``path`` (self-contained HTML).

    ``lift`` defaults to the union of the models' own lift tables; ``truth`` (a
    ``truth.json`` document) adds truth markers and coverage highlighting.
    """
    if not models:
        raise ValueError("A report needs at least one fitted model.")
    if lift is None:
        tables = [m.lift for m in models if m.lift is not None]
        lift = (
            pd.concat(tables, ignore_index=True).drop_duplicates(
                subset=[c for c in ("test_id", "channel", "x", "delta_x", "geo") if c in tables[0]]
            )
            if tables
            else None
        )
    if lift is not None and "geo" in lift and len(models[0].spec.dims) == 0:
        lift = lift[lift["geo"].isna() | (lift["geo"] == "national")]
    card = Scorecard.from_models(models, truth)
    has_truth = truth is not None
    figures = [
        {
            "title": "Contribution shares and ROAS",
            "png": _fig_shares(card, has_truth),
            "note": "Posterior mean with 90% HDI per model"
            + ("; stars mark the truth." if has_truth else "."),
        },
        {
            "title": "Response curves",
            "png": _fig_curves(models, truth, lift),
            "note": "Contribution per period once a constant spend has run long enough (steady state); "
            "bands are 90% intervals; shaded spans are the spend ranges the experiments tested"
            + ("; dashed: the true curve." if has_truth else "."),
        },
    ]
    if lift is not None and len(lift):
        figures.append(
            {
                "title": "Lift fit",
                "png": _fig_lift(models, lift.reset_index(drop=True), has_truth),
                "note": "Each experiment's lift per period with its 90% interval, against what each model "
                "implies for the same test (window-aware for rows with a window).",
            }
        )
    mu = {m.name: _mu_draws(m) for m in models}  # expected target draws, shared by two figures
    figures.append(
        {"title": "Posterior predictive fit and residuals", "png": _fig_fit(models, mu), "note": ""}
    )
    for m in models:
        figures.append(
            {
                "title": f"Contributions over time: {m.name}",
                "png": _fig_contributions(m, mu[m.name]),
                "note": "",
            }
        )
    for m in filter(_is_bayes, models):
        tested = [] if m.lift is None else list(dict.fromkeys(m.lift["channel"]))
        png = _fig_prior_posterior(m, tested)
        if png:
            figures.append(
                {
                    "title": f"Prior vs posterior of calibrated channels: {m.name}",
                    "png": png,
                    "note": "Histograms of prior draws (outline) and posterior draws (filled) "
                    "for the tested channels' media parameters (model units).",
                }
            )
    checks = [c for m in models for c in diagnostic_checks(m)]
    env = Environment(autoescape=select_autoescape(default=True))
    page = env.from_string(_TEMPLATE).render(
        title=title or "mmmcal validation report",
        subtitle=f"{len(models)} model(s): {', '.join(m.name for m in models)}"
        + (
            "; scored against the simulation's ground truth."
            if has_truth
            else "; no ground truth given."
        ),
        scorecard_html=_scorecard_html(card, has_truth),
        diagnostics_html=_diagnostics_html(models),
        checks=checks,
        figures=figures,
        has_truth=has_truth,
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
