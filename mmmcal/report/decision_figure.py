"""The report's budget-decision figure: today's split, each model's recommendation, the truth's.

Reads the documents of :func:`mmmcal.decide.regret.decision` (one per model); the note gives
each model's probability of beating today's split, its own expected regret with the 90%
interval and, with the truth, the true regret.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmmcal.decide.regret import decision_summary
from mmmcal.report.figures import PALETTE, ReportFigure, png_base64, subplots

__all__ = ["decision_figure"]


def decision_figure(decisions: dict[str, dict[str, Any]]) -> ReportFigure:
    """Spend per period per channel: today, each model's recommended split, the true best."""
    names = list(decisions)
    first = decisions[names[0]]
    channels = [r["channel"] for r in first["channels"]]
    bars = [("today", [r["today"] for r in first["channels"]], "#BBBBBB")]
    bars += [
        (n, [r["recommended"] for r in decisions[n]["channels"]], PALETTE[j % len(PALETTE)])
        for j, n in enumerate(names)
    ]
    if "true" in first:
        best = first["true"]["true_best_spend"]
        bars.append(("true best", [best[c] for c in channels], "black"))
    fig, ax = subplots(figsize=(min(14, 3 + 1.2 * len(channels) * len(bars) / 2), 3.6))
    width = 0.8 / len(bars)
    for j, (label, values, color) in enumerate(bars):
        pos = np.arange(len(channels)) + (j - (len(bars) - 1) / 2) * width
        ax.bar(pos, values, width=width, color=color, label=label)
    lows = [r["lower_bound"] for r in first["channels"]]
    highs = [r["upper_bound"] for r in first["channels"]]
    for i, (lo, hi) in enumerate(zip(lows, highs, strict=True)):
        ax.plot([i - 0.45, i + 0.45], [lo, lo], color="black", lw=0.8, ls=":")
        ax.plot([i - 0.45, i + 0.45], [hi, hi], color="black", lw=0.8, ls=":")
    ax.set_xticks(np.arange(len(channels)), channels)
    ax.set_ylabel("spend per period")
    ax.set_title(f"Budget split of {first['budget_per_period']:,.0f} per period")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    note = (
        "Each model's split of today's budget that maximises its expected steady-state "
        "response, within the bounds (dotted)"
        + ("; black: the split the true curves recommend" if "true" in first else "")
        + ". Regret = (best - recommended) / (best - today) in response: 0 is the best split, "
        "1 no better than today. "
        + ". ".join(f"{n}: {decision_summary(decisions[n])}" for n in names)
        + "."
    )
    return ReportFigure("Budget decision", png_base64(fig), note)
