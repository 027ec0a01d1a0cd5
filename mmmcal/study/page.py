"""The study's summary written out: ``summary.csv``, per-scenario summaries, figures, a page."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pandas as pd

from mmmcal.study.advice import advice_metrics
from mmmcal.study.summary import NOMINAL_COVERAGE, load_cells, summarize_cells, unhealthy_fits

__all__ = ["write_summary"]


def _forest(summary: pd.DataFrame, metrics: list[tuple[str, str]], ref: float, ref_label: str):
    from mmmcal.report.figures import PALETTE, png_base64, subplots

    n_rows = (summary["metric"] == metrics[0][0]).sum()
    fig, axes = subplots(1, len(metrics), figsize=(5.2 * len(metrics), 1.2 + 0.32 * n_rows))
    axes = np.atleast_1d(axes)
    for ax, (metric, title) in zip(axes, metrics, strict=True):
        part = summary[summary["metric"] == metric].iloc[::-1]
        y = np.arange(len(part))
        colors = [PALETTE[("all", "tested", "untested").index(r)] for r in part["role"]]
        for yi, (est, lo, hi), color in zip(
            y, part[["estimate", "lo", "hi"]].to_numpy(), colors, strict=True
        ):
            ax.errorbar(est, yi, xerr=[[est - lo], [hi - est]], fmt="none", ecolor=color, capsize=3)
        ax.scatter(part["estimate"], y, c=colors, zorder=3)
        ax.axvline(ref, color="#888", ls="--", lw=1, label=ref_label)
        ax.set_yticks(y, [f"{a} ({r})" for a, r in zip(part["arm"], part["role"], strict=True)])
        ax.set_title(title, fontsize=10)
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return png_base64(fig)


def _figure_specs(summary: pd.DataFrame) -> list[tuple]:
    """(file name, title, [(metric, label)], reference value, its label, note) per figure."""
    specs = [
        (
            "paired_differences",
            "Change in error against the uncalibrated fit (paired by world and channel)",
            [
                ("share_abs_error_diff", "|share error|: arm - uncalibrated"),
                ("roas_rel_error_diff", "|ROAS error| / true ROAS: arm - uncalibrated"),
            ],
            0.0,
            "no change",
            "Median of per-world, per-channel differences with 90% bootstrap intervals over "
            "worlds; left of the line: calibration reduced the error.",
        ),
        (
            "coverage",
            "Do 90% intervals cover the truth?",
            [
                ("share_coverage", "share: 90% HDI coverage"),
                ("roas_coverage", "ROAS: 90% HDI coverage"),
            ],
            NOMINAL_COVERAGE,
            "nominal 0.9",
            "Share of 90% HDIs containing the true value; 90% bootstrap intervals over worlds.",
        ),
        (
            "errors",
            "Median absolute error per arm",
            [("share_abs_error", "|share error|"), ("roas_rel_error", "|ROAS error| / true ROAS")],
            0.0,
            "zero error",
            "Medians over world x channel, with 90% bootstrap intervals over worlds.",
        ),
    ]
    if (summary["metric"] == "regret").any():
        specs.append(
            (
                "decisions",
                "Regret of the recommended budget split (today's budget, default bounds)",
                [("regret", "true regret: (best - recommended) / (best - today)")],
                0.0,
                "the best split",
                "Median over worlds with 90% bootstrap intervals; 1 is no better than today's "
                "split. regret_covered in the table: the share of worlds whose true regret "
                "lies in the model's own 90% interval.",
            )
        )
    if (summary["metric"] == "beats_random").any():
        specs.append(
            (
                "advice",
                "Which test next: does the advised test beat the alternatives?",
                [
                    ("beats_random", "vs a random candidate"),
                    ("beats_biggest_spender", "vs testing the biggest spender"),
                    ("beats_channel_score", "vs the widest-ROAS channel"),
                ],
                0.7,
                "target 0.7",
                "Share of worlds in which the advised test's true improvement of the mean "
                "absolute share error beats the alternative's (ties: one half), with 90% "
                "bootstrap intervals over worlds. advised_over_best in the table: the "
                "advised test's improvement over the oracle-best candidate's (median).",
            )
        )
    return specs


def _summary(cells: pd.DataFrame, *, n_boot: int, seed: int) -> pd.DataFrame:
    """The per-arm summary, and an advice study's metrics (arm ``advice``) after it."""
    summary = summarize_cells(cells, n_boot=n_boot, seed=seed)
    if "advice" not in cells:
        return summary
    advice = advice_metrics(cells, n_boot=n_boot, seed=seed)
    return pd.concat([summary, advice], ignore_index=True) if len(advice) else summary


def write_summary(
    out_dir: str | Path, out: str | Path, *, n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Write ``summary.csv``, ``summary_by_scenario.csv``, figures and ``index.html`` to ``out``.

    Returns the pooled summary (columns ``arm, role, metric, estimate, lo, hi, n``).
    """
    from mmmcal.report.page import render

    cells = load_cells(out_dir)
    summary = _summary(cells, n_boot=n_boot, seed=seed)
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    summary.to_csv(target / "summary.csv", index=False)
    by_scenario = [
        _summary(part, n_boot=n_boot, seed=seed).assign(scenario=label)
        for label, part in cells.groupby("scenario", sort=False)
    ]
    pd.concat(by_scenario, ignore_index=True).to_csv(
        target / "summary_by_scenario.csv", index=False
    )
    figures = []
    specs = _figure_specs(summary)
    for name, title, metrics, ref, ref_label, note in specs:
        png = _forest(summary, metrics, ref, ref_label)
        (target / f"{name}.png").write_bytes(base64.b64decode(png))
        figures.append({"title": title, "png": png, "note": note})
    worlds = cells[["scenario", "seed"]].drop_duplicates()
    unhealthy = unhealthy_fits(cells)
    unhealthy.to_csv(target / "unhealthy_fits.csv", index=False)
    subtitle = (
        f"{len(worlds)} worlds ({', '.join(dict.fromkeys(cells['scenario']))};"
        f" {cells['seed'].nunique()} seeds), arms: {', '.join(dict.fromkeys(cells['arm']))}; "
        f"{len(cells.groupby(['scenario', 'seed', 'arm']))} fitted cells, {len(unhealthy)} of "
        "them failing their sampler checks (listed in unhealthy_fits.csv; included in the "
        "medians, see fits_ok)."
    )
    page = render(
        "study.html",
        title=f"Calibration study: {Path(out_dir).name}",
        subtitle=subtitle,
        figures=figures,
        rows=summary.to_dict("records"),
    )
    (target / "index.html").write_text(page, encoding="utf-8")
    return summary
