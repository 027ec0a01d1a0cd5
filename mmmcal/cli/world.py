"""Commands of the simulated world: ``scenarios``, ``simulate``, ``lift-test``, ``geolift``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from mmmcal.cli.choices import GeoDesign, SpendChange
from mmmcal.cli.views import console, lift_table_view

__all__ = ["geolift", "lift_test", "scenarios", "simulate"]


def scenarios(
    show: Annotated[str | None, typer.Option(help="Print this preset as YAML.")] = None,
) -> None:
    """List the built-in scenario presets, or print one as YAML to start your own."""
    from mmmcal.world.presets import get_preset, preset_names

    if show:
        sys.stdout.write(get_preset(show).to_yaml())
        return
    view = Table(title="Scenario presets")
    view.add_column("name")
    view.add_column("description")
    for name in preset_names():
        view.add_row(name, get_preset(name).description)
    console.print(view)


def simulate(
    scenario: Annotated[str, typer.Option(help="Preset name or scenario YAML file.")] = "reference",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[
        Path, typer.Option(help="Directory for data.csv, truth.json, scenario.yaml.")
    ] = Path("world"),
) -> None:
    """Simulate a world and write its data and ground truth."""
    from mmmcal.world.presets import load_scenario
    from mmmcal.world.simulate import simulate as run_simulation

    world = run_simulation(load_scenario(scenario), seed)
    world.save(out)
    truth = world.truth_dict()
    shares = ", ".join(f"{c} {v['share']:.3f}" for c, v in truth["channels"].items())
    console.print(
        f"World [bold]{escape(truth['scenario'])}[/] (seed {seed}): {len(world.data)} rows "
        f"-> {escape(str(out))}/\n"
        f"True shares: baseline {truth['baseline']['share']:.3f}, {shares}"
    )


def lift_test(
    world: Annotated[Path, typer.Option(help="World directory written by `mmmcal simulate`.")],
    channel: Annotated[str, typer.Option(help="Channel to test.")],
    n_periods: Annotated[int, typer.Option(help="Test length in periods.")] = 8,
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
    per_period: Annotated[
        bool, typer.Option(help="Report each period's lift as its own row.")
    ] = False,
    out: Annotated[Path, typer.Option(help="Lift-table CSV to write.")] = Path("lift.csv"),
) -> None:
    """Run a conversion-lift test in a simulated world and write its lift table."""
    from mmmcal.experiments.conversion_lift import LiftTestDesign, conversion_lift_test
    from mmmcal.world.simulate import load_world

    if delta_x is None and not switch_on:
        raise ValueError("Give --delta-x DX (spend change per period) or --switch-on.")
    design = LiftTestDesign(
        channel=channel,
        n_periods=n_periods,
        x=x,
        delta_x=delta_x,
        switch_on=switch_on,
        precision=precision,
        bias=bias,
        report="per_period" if per_period else "mean",
    )
    table = conversion_lift_test(load_world(world), design, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    console.print(lift_table_view(table, f"Lift table -> {escape(str(out))}"))


def geolift(
    world: Annotated[Path, typer.Option(help="Geo world directory written by `mmmcal simulate`.")],
    channel: Annotated[str, typer.Option(help="Channel to test.")],
    n_treated: Annotated[int, typer.Option(help="Number of treated geos.")] = 10,
    n_periods: Annotated[int, typer.Option(help="Test length in periods.")] = 6,
    design: Annotated[
        GeoDesign,
        typer.Option(help="Treated geos at random, or matched pairs on pre-period sales."),
    ] = GeoDesign.RANDOM,
    change: Annotated[
        SpendChange,
        typer.Option(help="Spend in the window: multiplied, zero, or switched on from zero."),
    ] = SpendChange.HEAVY_UP,
    multiplier: Annotated[float, typer.Option(help="Spend multiplier of a heavy-up.")] = 2.0,
    seed: Annotated[int, typer.Option(help="Seed of the geo choice and the analysis.")] = 0,
    out: Annotated[Path, typer.Option(help="Lift-table CSV to write.")] = Path("geolift.csv"),
) -> None:
    """Run a geo-lift test in a geo world, analyse it with CausalPy, write lift rows.

    Rows per treated geo plus the national aggregate (geo = national), each with its
    true lift from the oracle.
    """
    from mmmcal.experiments.geolift import GeoLiftDesign, run_geolift
    from mmmcal.world.simulate import load_world

    spec = GeoLiftDesign(
        channel=channel,
        n_treated=n_treated,
        n_periods=n_periods,
        design=design.value,
        change=change.value,
        multiplier=multiplier,
    )
    with console.status("Fitting CausalPy synthetic control ...", spinner="dots"):
        table = run_geolift(load_world(world), spec, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    console.print(lift_table_view(table, f"Geo-lift rows -> {escape(str(out))}"))
