"""``mmmcal optimize``: the budget split a fit recommends, scored against the truth if given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.markup import escape
from rich.table import Table

from mmmcal.cli.views import console
from mmmcal.options import OBJECTIVES

__all__ = ["optimize"]


def _view(doc: dict) -> Table:
    table = Table(title=f"Budget split of {escape(doc['model'])}: {escape(doc['objective'])}")
    for col in ("channel", "today", "bounds", "recommended", "response change [90%]"):
        table.add_column(col, justify="left" if col == "channel" else "right")
    for r in doc["channels"]:
        table.add_row(
            escape(str(r["channel"])),
            f"{r['today']:,.0f}",
            f"{r['lower_bound']:,.0f}-{r['upper_bound']:,.0f}",
            f"{r['recommended']:,.0f}",
            f"{r['response_change']:+,.1f} [{r['response_change_lo']:+,.1f}, "
            f"{r['response_change_hi']:+,.1f}]",
        )
    return table


def optimize(
    fit: Annotated[Path, typer.Option(help="Fit directory (any engine).")],
    budget: Annotated[
        float | None, typer.Option(help="Spend per period to split (default: today's total).")
    ] = None,
    bounds: Annotated[
        Path | None, typer.Option(help="YAML: channel -> {min, max} spend per period.")
    ] = None,
    objective: Annotated[
        str, typer.Option(help=f"What to maximise: {', '.join(OBJECTIVES)}.")
    ] = "neutral",
    risk_aversion: Annotated[
        float, typer.Option(help="mean_minus_sd: weight of the sd (default 1).")
    ] = 1.0,
    truth: Annotated[
        Path | None, typer.Option(help="truth.json of a simulated world: adds the regret.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the allocation as JSON here.")] = None,
) -> None:
    """Split a per-period budget across channels to maximise the fit's steady-state response.

    Bounds default to 0.5x-1.5x today's spend per channel. With --truth, the regret of the
    recommendation: (best - recommended) / (best - today) in true response (0: the best).
    """
    from mmmcal.decide.allocate import Objective
    from mmmcal.decide.regret import decision, decision_summary
    from mmmcal.files import read_bounds_file, read_truth_file
    from mmmcal.models.engines import load_fit

    if objective not in OBJECTIVES:
        raise ValueError(f"--objective {objective!r} must be one of {list(OBJECTIVES)}.")
    limits = None if bounds is None else read_bounds_file(bounds)
    truth_doc = None if truth is None else read_truth_file(truth)
    doc = decision(
        load_fit(fit),
        budget,
        truth=truth_doc,
        bounds=limits,
        objective=cast(Objective, objective),
        risk_aversion=risk_aversion,
    )
    console.print(_view(doc))
    console.print(decision_summary(doc))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=2) + "\n")
        console.print(f"Allocation -> {escape(str(out))}")
