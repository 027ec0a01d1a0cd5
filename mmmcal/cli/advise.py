"""``mmmcal advise``: which test to run next, ranked under a fit's posterior."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from mmmcal.cli.views import console
from mmmcal.options import ADVICE_RANKS, RANK_LABELS

__all__ = ["advise"]


def _view(table, rank_by: str, model: str) -> Table:
    view = Table(
        title=f"What to test next under {escape(model)} (ranked by {RANK_LABELS[rank_by]})"
    )
    for col in ("#", "candidate", "value", "power", "MDE / period", "extra spend", "why"):
        view.add_column(col, justify="left" if col in ("candidate", "why") else "right")
    for r in table.to_dict(orient="records"):
        view.add_row(
            str(r["rank"]),
            escape(r["candidate"]),
            f"{r[f'value_{rank_by}']:.3f}",
            f"{r['power']:.2f}",
            f"{r['mde']:,.1f}",
            f"{r['extra_spend']:+,.0f}",
            escape(r["reason"]),
        )
    return view


def advise(
    fit: Annotated[Path, typer.Option(help="Fit directory of a national bayes fit.")],
    candidates: Annotated[
        Path | None,
        typer.Option(
            help="YAML list of candidates (default: a heavy-up and a go-dark per channel)."
        ),
    ] = None,
    rank_by: Annotated[
        str, typer.Option(help=f"What the ranking values: {', '.join(ADVICE_RANKS)}.")
    ] = "share",
    budget: Annotated[
        float | None, typer.Option(help="Budget per period of the decision (default: today's).")
    ] = None,
    bounds: Annotated[
        Path | None, typer.Option(help="YAML: channel -> {min, max} spend per period.")
    ] = None,
    draws: Annotated[int, typer.Option(help="Posterior draws used.")] = 1000,
    outcomes: Annotated[int, typer.Option(help="Hypothetical outcomes per candidate.")] = 64,
    seed: Annotated[int, typer.Option(help="Seed of the hypothetical outcomes.")] = 0,
    refit: Annotated[
        bool, typer.Option(help="Refit where importance weights degenerate (a fit each).")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Write the ranked table as CSV here.")] = None,
) -> None:
    """Rank candidate lift tests by what their outcome would teach the fit, before running one.

    Each candidate's window lift under every posterior draw, its standard error, power and
    cost; hypothetical outcomes update the posterior by importance weights (linear-Gaussian,
    or with --refit a refit, where the weights degenerate) to give the expected narrowing
    of each channel's share and ROAS intervals and the budget decision's value of
    information.
    """
    from mmmcal.advise.advice import advise as run_advice
    from mmmcal.advise.candidates import read_candidates
    from mmmcal.files import read_bounds_file
    from mmmcal.models.engines import load_fit

    if rank_by not in ADVICE_RANKS:
        raise ValueError(f"--rank-by {rank_by!r} must be one of {list(ADVICE_RANKS)}.")
    chosen = None if candidates is None else read_candidates(candidates)
    limits = None if bounds is None else read_bounds_file(bounds)
    advice = run_advice(
        load_fit(fit),
        chosen,
        rank_by=rank_by,
        n_draws=draws,
        n_outcomes=outcomes,
        budget=budget,
        bounds=limits,
        seed=seed,
        refit=refit,
    )
    console.print(_view(advice.table, rank_by, advice.model))
    console.print(f"Advised: {escape(advice.best)}")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        advice.table.to_csv(out, index=False)
        console.print(f"Advice -> {escape(str(out))}")
