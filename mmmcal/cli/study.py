"""Commands of calibration studies: ``study run`` and ``study summarize``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from mmmcal.cli.views import console, err_console

__all__ = ["study_run", "study_summarize"]


def study_run(
    study: Annotated[Path, typer.Argument(help="Study YAML, e.g. experiments/smoke_study.yaml.")],
    out: Annotated[Path, typer.Option(help="Study directory; an existing one is resumed.")],
    workers: Annotated[
        int | None, typer.Option(help="Run on a local Dask cluster of N worker processes.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Run on an existing Dask cluster (tcp://host:8786).")
    ] = None,
    seeds: Annotated[
        int | None,
        typer.Option(
            help="Run only the study's first N seeds (a pilot); the same --out resumes to all."
        ),
    ] = None,
    scenarios: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            help="Run only this scenario's cells (repeat for more); the same --out resumes to all.",
        ),
    ] = None,
    arms: Annotated[
        list[str] | None,
        typer.Option(
            "--arm",
            help="Run only this arm's cells (repeat for more); the same --out resumes to all.",
        ),
    ] = None,
) -> None:
    """Run every unfinished cell (world x arm) of a study; finished cells are kept."""
    from mmmcal.study.runner import run_study
    from mmmcal.study.spec import load_study

    spec = load_study(study)
    try:
        run = run_study(
            spec,
            out,
            workers=workers,
            scheduler=scheduler,
            progress=True,
            first_seeds=seeds,
            only_scenarios=scenarios,
            only_arms=arms,
        )
    except KeyboardInterrupt:
        err_console.print(
            f"Interrupted. Finished cells are kept in {escape(str(out))}/cells/; "
            "run the same command again to resume."
        )
        raise typer.Exit(130) from None
    console.print(
        f"{len(run.finished)} cells finished, {run.already_done} already done, "
        f"{len(run.failed)} failed, of {run.total}; {run.wall_seconds:.0f}s -> "
        f"{escape(str(out))}/cells/"
    )
    if run.failed:
        for cell_id, message in run.failed.items():
            err_console.print(f"  {cell_id}: {message}", highlight=False, markup=False)
        err_console.print(
            f"Tracebacks in {escape(str(out))}/failed/; run the same command again to retry "
            "failed cells."
        )
        raise typer.Exit(1)


def study_summarize(
    directory: Annotated[Path, typer.Argument(help="Study directory written by `study run`.")],
    out: Annotated[Path, typer.Option(help="Folder for summary.csv, figures and index.html.")],
) -> None:
    """Per arm and channel role: errors, coverage, paired differences, bootstrap intervals."""
    from mmmcal.study.page import write_summary

    summary = write_summary(directory, out)
    where = escape(str(out))
    console.print(
        f"{len(summary)} estimates -> {where}/summary.csv; figures and {where}/index.html"
    )
