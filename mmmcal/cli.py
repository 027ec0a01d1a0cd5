"""The ``mmmcal`` command line: a thin layer over the Python API."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    name="mmmcal",
    help="Calibrate marketing mix models with experiments, and check them against ground truth.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
_state = {"debug": False}


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug or bool(os.environ.get("MMMCAL_DEBUG"))


def _friendly(func):
    """Turn expected errors into one readable message and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ValueError, KeyError, FileNotFoundError, TypeError) as err:
            if _state["debug"]:
                raise
            message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
            err_console.print(f"[bold red]Error:[/] {message}", highlight=False, markup=True)
            err_console.print("(run with --debug for the traceback)", style="dim")
            raise typer.Exit(1) from None

    return wrapper


def _lift_table_view(table, title: str) -> Table:
    view = Table(title=title)
    cols = [
        c
        for c in (
            "test_id",
            "channel",
            "x",
            "delta_x",
            "delta_y",
            "sigma",
            "n_periods",
            "date_start",
            "date_end",
            "true_delta_y",
        )
        if c in table
    ]
    for c in cols:
        view.add_column(
            c, justify="left" if c in ("test_id", "channel", "date_start", "date_end") else "right"
        )
    for _, row in table.iterrows():
        view.add_row(
            *(f"{row[c]:,.2f}" if isinstance(row[c], float) else str(row[c]) for c in cols)
        )
    return view


@app.command()
@_friendly
def scenarios(
    show: Annotated[str | None, typer.Option(help="Print this preset as YAML.")] = None,
) -> None:
    """List the built-in scenario presets, or print one as YAML to start your own."""
    from mmmcal.scenario import get_preset, preset_names

    if show:
        sys.stdout.write(get_preset(show).to_yaml())
        return
    view = Table(title="Scenario presets")
    view.add_column("name")
    view.add_column("description")
    for name in preset_names():
        view.add_row(name, get_preset(name).description)
    console.print(view)


@app.command()
@_friendly
def simulate(
    scenario: Annotated[str, typer.Option(help="Preset name or scenario YAML file.")] = "reference",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[
        Path, typer.Option(help="Directory for data.csv, truth.json, scenario.yaml.")
    ] = Path("world"),
) -> None:
    """Simulate a world and write its data and ground truth."""
    from mmmcal.scenario import load_scenario
    from mmmcal.simulate import simulate as run_simulation

    world = run_simulation(load_scenario(scenario), seed)
    world.save(out)
    truth = world.truth_dict()
    shares = ", ".join(f"{c} {v['share']:.3f}" for c, v in truth["channels"].items())
    console.print(
        f"World [bold]{truth['scenario']}[/] (seed {seed}): {len(world.data)} rows -> {out}/\n"
        f"True shares: baseline {truth['baseline']['share']:.3f}, {shares}"
    )


@app.command("lift-test")
@_friendly
def lift_test(
    world: Annotated[Path, typer.Option(help="World directory written by `mmmcal simulate`.")],
    channel: Annotated[str, typer.Option(help="Channel to test.")],
    weeks: Annotated[int, typer.Option(help="Test length in periods.")] = 8,
    x: Annotated[
        float | None, typer.Option(help="Spend per period before the test (default: mean).")
    ] = None,
    delta_x: Annotated[
        float | None, typer.Option(help="Spend change per period during the test.")
    ] = None,
    switch_on: Annotated[bool, typer.Option(help="Switch on from zero at mean spend.")] = False,
    precision: Annotated[
        float, typer.Option(help="Standard error relative to the true lift.")
    ] = 0.05,
    bias: Annotated[
        float, typer.Option(help="Overstate the reported lift by this fraction.")
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the measurement noise.")] = 0,
    out: Annotated[Path, typer.Option(help="Lift-table CSV to write.")] = Path("lift.csv"),
) -> None:
    """Run a conversion-lift test in a simulated world and write its lift table."""
    from mmmcal.experiments import LiftTestDesign, conversion_lift_test
    from mmmcal.simulate import load_world

    if delta_x is None and not switch_on:
        raise ValueError("Give --delta-x DX (spend change per period) or --switch-on.")
    design = LiftTestDesign(
        channel=channel,
        n_periods=weeks,
        x=x,
        delta_x=delta_x,
        switch_on=switch_on,
        precision=precision,
        bias=bias,
    )
    table = conversion_lift_test(load_world(world), design, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    console.print(_lift_table_view(table, f"Lift table -> {out}"))


@app.command("check-lift")
@_friendly
def check_lift(
    lift: Annotated[Path, typer.Argument(help="Lift-table CSV.")],
    data: Annotated[
        Path | None, typer.Option(help="Data CSV whose dates/geos the tests must match.")
    ] = None,
    channels: Annotated[str | None, typer.Option(help="Comma-separated model channels.")] = None,
) -> None:
    """Check a lift table against the contract; list every row as accepted or rejected."""
    import pandas as pd

    from mmmcal.lift import check_lift_table, read_lift_table

    dates = geos = None
    if data is not None:
        frame = pd.read_csv(data, parse_dates=["date"])
        dates = frame["date"]
        geos = frame["geo"].unique() if "geo" in frame else None
    check = check_lift_table(
        read_lift_table(lift), channels.split(",") if channels else None, dates=dates, geos=geos
    )
    report = check.report()
    view = Table()
    for c in report.columns:
        view.add_column(c)
    for _, r in report.iterrows():
        view.add_row(str(r.row), r.status, r.reason)
    console.print(view)
    n_ok = int((report.status == "accepted").sum())
    console.print(f"{lift}: {n_ok} accepted, {len(report) - n_ok} rejected", highlight=False)
    if not check.ok:
        raise typer.Exit(1)


@app.command()
@_friendly
def demo(
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("demo_out"),
    seed: Annotated[int, typer.Option(help="World seed.")] = 0,
) -> None:
    """Simulate the reference world and run its 8-week TV switch-on lift test."""
    from mmmcal.experiments import LiftTestDesign, conversion_lift_test
    from mmmcal.scenario import get_preset
    from mmmcal.simulate import simulate as run_simulation

    world = run_simulation(get_preset("reference"), seed)
    world.save(out / "world")
    table = conversion_lift_test(
        world, LiftTestDesign(channel="tv", n_periods=8, switch_on=True), seed
    )
    table.to_csv(out / "lift.csv", index=False)
    truth = world.truth_dict()
    console.print(json.dumps({c: round(v["share"], 3) for c, v in truth["channels"].items()}))
    console.print(
        _lift_table_view(table, f"Reference world, 8-week TV switch-on test -> {out}/lift.csv")
    )


if __name__ == "__main__":  # pragma: no cover
    app()
