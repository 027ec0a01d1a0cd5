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
        except (typer.Exit, typer.Abort):
            raise
        except (ValueError, KeyError, FileNotFoundError, TypeError, RuntimeError) as err:
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
            "geo",
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


def _print_row_report(report, label: str) -> None:
    """Print one line per input row (accepted/rejected, reason) and the counts."""
    import pandas as pd

    view = Table()
    for c in report.columns:
        view.add_column(c)
    for _, r in report.iterrows():
        style = "green" if r.status == "accepted" else "red"
        cells = ["" if pd.isna(v) else str(v) for v in r]
        cells[list(report.columns).index("status")] = f"[{style}]{r.status}[/]"
        view.add_row(*cells)
    console.print(view)
    n_ok = int((report.status == "accepted").sum())
    console.print(f"{n_ok} accepted, {len(report) - n_ok} rejected {label}", highlight=False)


def _read_data(path: Path, date_column: str):
    import pandas as pd

    if not Path(path).exists():
        raise FileNotFoundError(f"Data file {str(path)!r} does not exist.")
    frame = pd.read_csv(path)
    if date_column not in frame:
        raise ValueError(
            f"{path} has no date column {date_column!r} (it has {list(frame.columns)}); "
            "name it with --date-column."
        )
    frame[date_column] = pd.to_datetime(frame[date_column])
    return frame


@app.command()
@_friendly
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
    from mmmcal.world.presets import load_scenario
    from mmmcal.world.simulate import simulate as run_simulation

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
        n_periods=weeks,
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
    console.print(_lift_table_view(table, f"Lift table -> {out}"))


@app.command()
@_friendly
def geolift(
    world: Annotated[Path, typer.Option(help="Geo world directory written by `mmmcal simulate`.")],
    channel: Annotated[str, typer.Option(help="Channel to test.")],
    treated_geos: Annotated[int, typer.Option(help="Number of treated geos.")] = 10,
    weeks: Annotated[int, typer.Option(help="Test length in periods.")] = 6,
    design: Annotated[
        str, typer.Option(help="random | matched (pairs on pre-period sales)")
    ] = "random",
    change: Annotated[str, typer.Option(help="heavy-up | go-dark | switch-on")] = "heavy-up",
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
        n_treated=treated_geos,
        n_periods=weeks,
        design=design,
        change=change.replace("-", "_"),
        multiplier=multiplier,
    )
    with console.status("Fitting CausalPy synthetic control ...", spinner="dots"):
        table = run_geolift(load_world(world), spec, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    view = _lift_table_view(table, f"Geo-lift rows -> {out}")
    console.print(view)


@app.command()
@_friendly
def ingest(
    file: Annotated[Path, typer.Argument(help="Results file (CSV).")],
    format: Annotated[
        str, typer.Option("--format", help="mmmcal | pymc-marketing | robyn | geolift")
    ],
    out: Annotated[Path, typer.Option(help="Lift-table CSV to write (accepted rows).")] = Path(
        "lift.csv"
    ),
    data: Annotated[
        Path | None, typer.Option(help="Model data CSV: its dates and channels.")
    ] = None,
    channels: Annotated[str | None, typer.Option(help="Comma-separated model channels.")] = None,
    relative_se: Annotated[
        float | None, typer.Option(help="Robyn: standard error as a fraction of liftAbs.")
    ] = None,
    carryover_periods: Annotated[
        int | None, typer.Option(help="Robyn scope 'total': periods of carryover measured.")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Also write the row report CSV here.")] = None,
    date_column: Annotated[str, typer.Option(help="Date column of --data.")] = "date",
) -> None:
    """Convert experiment results from elsewhere into a validated lift table.

    Every input row is listed as accepted or rejected with its reason; any rejection exits 1
    (the accepted rows are still written).
    """
    from mmmcal.lift.ingest import ingest as run_ingest

    dates = None
    names = channels.split(",") if channels else None
    if data is not None:
        frame = _read_data(data, date_column)
        dates = frame[date_column]
    result = run_ingest(
        file,
        format,
        channels=names,
        dates=dates,
        relative_se=relative_se,
        carryover_periods=carryover_periods,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(out, index=False)
    if report is not None:
        result.report.to_csv(report, index=False)
    _print_row_report(result.report, f"-> {out}")
    if not result.ok:
        raise typer.Exit(1)


@app.command("check-lift")
@_friendly
def check_lift(
    lift: Annotated[Path, typer.Argument(help="Lift-table CSV.")],
    data: Annotated[
        Path | None, typer.Option(help="Data CSV whose dates/geos the tests must match.")
    ] = None,
    channels: Annotated[str | None, typer.Option(help="Comma-separated model channels.")] = None,
    date_column: Annotated[str, typer.Option(help="Date column of --data.")] = "date",
) -> None:
    """Check a lift table against the contract; list every row as accepted or rejected."""
    from mmmcal.lift.table import check_lift_table, read_lift_table

    dates = geos = None
    if data is not None:
        frame = _read_data(data, date_column)
        dates = frame[date_column]
        geos = frame["geo"].unique() if "geo" in frame else None
    check = check_lift_table(
        read_lift_table(lift), channels.split(",") if channels else None, dates=dates, geos=geos
    )
    _print_row_report(check.report(), str(lift))
    if not check.ok:
        raise typer.Exit(1)


def _sampler(draws: int | None, chains: int | None, tune: int | None, seed: int, fast: bool):
    from mmmcal.models.bayes import SamplerConfig

    base = SamplerConfig.fast(seed=seed) if fast else SamplerConfig(seed=seed)
    changes = {k: v for k, v in {"draws": draws, "chains": chains, "tune": tune}.items() if v}
    return base.model_copy(update=changes) if changes else base


def _fit_with_status(model, data, label: str):
    with console.status(f"Fitting [bold]{label}[/] ...", spinner="dots"):
        model.fit(data)
    d = model.diagnostics_
    flag = "[green]ok[/]" if d.ok else "[bold red]CHECK[/]"
    console.print(
        f"  {label}: {d.fit_seconds:.0f}s, divergences {d.divergences}, "
        f"max R-hat {d.max_rhat:.3f}, "
        f"min bulk ESS {d.min_ess_bulk:.0f} {flag}"
    )
    return model


def _scorecard_view(card) -> Table:
    table = card.table()
    models = list(card.models)
    has_truth = table["true_share"].notna().all()
    view = Table(title="Contribution share of the target: posterior mean [90% HDI]")
    view.add_column("channel")
    if has_truth:
        view.add_column("truth", justify="right")
    for m in models:
        view.add_column(m, justify="right")
    for channel in dict.fromkeys(table["channel"]):
        cells = []
        for m in models:
            r = table[(table.model == m) & (table.channel == channel)].iloc[0]
            text = f"{r.share_mean:.3f} [{r.share_lo:.3f}, {r.share_hi:.3f}]"
            if has_truth:
                err = r.share_mean - r.true_share
                style = "green" if abs(err) <= 0.02 else "red"
                text = f"[{style}]{text}[/] {'covers' if r.share_covered else 'misses'}"
            if r.tested:
                text += " *"
            cells.append(text)
        first = [channel] + (
            [f"{table[table.channel == channel].true_share.iloc[0]:.3f}"] if has_truth else []
        )
        view.add_row(*first, *cells)
    view.caption = "* channel tested in that model's calibration" + (
        "; green = within 0.02 of the truth" if has_truth else ""
    )
    return view


@app.command()
@_friendly
def fit(
    data: Annotated[Path, typer.Option(help="CSV with one row per date (x geo).")],
    model: Annotated[Path, typer.Option(help="Model spec YAML.")],
    out: Annotated[Path, typer.Option(help="Fit directory to write.")],
    lift: Annotated[Path | None, typer.Option(help="Lift-table CSV to calibrate with.")] = None,
    likelihood: Annotated[str, typer.Option(help="auto | window | steady_state")] = "auto",
    lift_dist: Annotated[str, typer.Option(help="normal | studentt | gamma")] = "normal",
    name: Annotated[str | None, typer.Option(help="Model label (default: directory name).")] = None,
    draws: Annotated[int | None, typer.Option(help="Draws per chain.")] = None,
    tune: Annotated[int | None, typer.Option(help="Tuning steps per chain.")] = None,
    chains: Annotated[int | None, typer.Option(help="Chains.")] = None,
    seed: Annotated[int, typer.Option(help="Sampler seed.")] = 0,
    fast: Annotated[
        bool, typer.Option(help="Tiny draws for smoke runs (not for results).")
    ] = False,
    engine: Annotated[
        str, typer.Option(help="bayes (pymc-marketing) | ridge (Robyn-style) | bounded")
    ] = "bayes",
    budget: Annotated[int, typer.Option(help="ridge/bounded: Nevergrad evaluations.")] = 1000,
    bootstrap: Annotated[int, typer.Option(help="ridge/bounded: bootstrap resamples.")] = 200,
) -> None:
    """Fit an MMM to any data, optionally calibrated with a lift table.

    ``--engine bayes`` fits a pymc-marketing MMM; ``ridge`` and ``bounded`` are the
    non-Bayesian baselines of ``mmmcal.models.baselines`` (the sampler options do not apply).
    """
    import pandas as pd

    from mmmcal.lift.table import read_lift_table
    from mmmcal.models.baselines import ENGINES, make_engine
    from mmmcal.models.bayes import CalibratedMMM
    from mmmcal.models.spec import ModelSpec

    if engine not in ENGINES:
        raise ValueError(f"The `--engine` {engine!r} must be one of {list(ENGINES)}.")
    spec = ModelSpec.from_yaml(Path(model).read_text())
    if not Path(data).exists():
        raise FileNotFoundError(f"Data file {str(data)!r} does not exist.")
    frame = pd.read_csv(data)
    table = read_lift_table(lift) if lift else None
    if engine != "bayes":
        sampler_options = {"--draws": draws, "--tune": tune, "--chains": chains, "--fast": fast}
        given = [k for k, v in sampler_options.items() if v]
        if given:
            raise ValueError(
                f"{', '.join(given)} set(s) the sampler of --engine bayes; the {engine} engine "
                "has no sampler: use --budget and --bootstrap."
            )
        baseline = make_engine(
            engine,  # type: ignore[arg-type]
            spec,
            table,
            name=name or Path(out).name,
            budget=budget,
            n_bootstrap=bootstrap,
            seed=seed,
            progress=True,
        ).fit(frame)
        d = baseline.diagnostics_
        mape = "" if d.mape_lift is None else f", MAPE.LIFT {d.mape_lift:.3f}"
        console.print(
            f"  {baseline.name} ({engine}): {d.fit_seconds:.1f}s, {d.n_evaluations} evaluations, "
            f"NRMSE {d.nrmse:.3f}, DECOMP.RSSD {d.decomp_rssd:.3f}{mape}"
        )
        baseline.save(out)
        console.print(f"Saved fit -> {out}/")
        return
    estimator = CalibratedMMM(
        spec,
        table,
        likelihood=likelihood,
        lift_dist=lift_dist,
        sampler=_sampler(draws, chains, tune, seed, fast),
        name=name or Path(out).name,
    )
    _fit_with_status(estimator, frame, estimator.name)
    estimator.save(out)
    console.print(f"Saved fit -> {out}/")


@app.command()
@_friendly
def score(
    fit: Annotated[list[Path], typer.Option("--fit", help="Fit directory (repeat for several).")],
    truth: Annotated[Path | None, typer.Option(help="truth.json of the simulated world.")] = None,
    out: Annotated[Path, typer.Option(help="Scorecard JSON to write.")] = Path("scorecard.json"),
) -> None:
    """Score fitted models against the ground truth; write scorecard.json."""
    from mmmcal.evaluate.scorecard import Scorecard
    from mmmcal.models.baselines import load_fit

    truth_doc = json.loads(Path(truth).read_text()) if truth else None
    card = Scorecard.from_models([load_fit(f) for f in fit], truth_doc)
    card.save(out)
    console.print(_scorecard_view(card))
    console.print(f"Scorecard -> {out}")


@app.command()
@_friendly
def report(
    fit: Annotated[list[Path], typer.Option("--fit", help="Fit directory (repeat for several).")],
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("report.html"),
    truth: Annotated[Path | None, typer.Option(help="truth.json of a simulated world.")] = None,
    lift: Annotated[
        Path | None, typer.Option(help="Lift table to show (default: the fits').")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Report title.")] = None,
) -> None:
    """Write a self-contained HTML validation report of one or more fits."""
    from mmmcal.lift.table import read_lift_table
    from mmmcal.models.baselines import load_fit
    from mmmcal.report.report import write_report

    truth_doc = json.loads(Path(truth).read_text()) if truth else None
    table = read_lift_table(lift) if lift else None
    with console.status("Writing report ...", spinner="dots"):
        models = [load_fit(f) for f in fit]
        path = write_report(models, out, truth=truth_doc, lift=table, title=title)
    console.print(f"Report -> {path}")


@app.command()
@_friendly
def demo(
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("demo_out"),
    fast: Annotated[
        bool, typer.Option(help="Tiny draws for a smoke run (not for results).")
    ] = False,
    seed: Annotated[int, typer.Option(help="World seed.")] = 0,
    mean_only: Annotated[
        bool, typer.Option(help="Tests report only their mean lift (not each week's).")
    ] = False,
) -> None:
    """Reference world: fit uncalibrated, TV-calibrated and all-calibrated MMMs; score them.

    Each channel gets an 8-week switch-on test that reports its lift week by week (the ramp
    through adstock), calibrated with the window-aware likelihood.
    """
    import time

    from mmmcal.evaluate.scorecard import Scorecard
    from mmmcal.experiments.conversion_lift import LiftTestDesign, lift_tests
    from mmmcal.models.bayes import CalibratedMMM
    from mmmcal.models.spec import ModelSpec
    from mmmcal.report.report import write_report
    from mmmcal.world.presets import get_preset
    from mmmcal.world.simulate import simulate as run_simulation

    start = time.perf_counter()
    world = run_simulation(get_preset("reference"), seed)
    world.save(out / "world")
    channels = world.scenario.channel_names
    report_kind = "mean" if mean_only else "per_period"
    designs = [
        LiftTestDesign(channel=c, n_periods=8, switch_on=True, report=report_kind) for c in channels
    ]
    all_tests = lift_tests(world, designs, seed=seed)
    tv_test = all_tests[all_tests.channel == "tv"].reset_index(drop=True)
    tv_test.to_csv(out / "lift_tv.csv", index=False)
    all_tests.to_csv(out / "lift_all.csv", index=False)
    console.print(
        _lift_table_view(all_tests, "8-week switch-on lift tests (truth from the oracle)")
    )
    spec = ModelSpec.for_world(world)
    (out / "model.yaml").write_text(spec.to_yaml())
    sampler = _sampler(None, None, None, seed, fast)
    console.print(
        f"Fitting 3 MMMs with {sampler.sampler}: {sampler.chains} chains x {sampler.draws} draws"
        + (" (--fast: smoke run, not for results)" if fast else "")
    )
    models = []
    for name, table in (
        ("uncalibrated", None),
        ("calibrated", tv_test),
        ("calibrated_all", all_tests),
    ):
        model = CalibratedMMM(spec, table, sampler=sampler, name=name)
        _fit_with_status(model, world.data, name)
        model.save(out / "fits" / name)
        models.append(model)
    card = Scorecard.from_models(models, world.truth_dict())
    card.save(out / "scorecard.json")
    console.print(_scorecard_view(card))
    with console.status("Writing report ...", spinner="dots"):
        write_report(
            models,
            out / "report.html",
            truth=world.truth_dict(),
            lift=all_tests,
            title="mmmcal demo: the reference world, before and after calibration",
        )
    console.print(
        f"Scorecard -> {out / 'scorecard.json'}; report -> {out / 'report.html'}; "
        f"demo took {time.perf_counter() - start:.0f}s"
    )


@app.command()
@_friendly
def cache(
    clear: Annotated[bool, typer.Option("--clear", help="Delete every stored model.")] = False,
) -> None:
    """Show (or clear) the store of compiled models that later fits load instead of compiling.

    Set MMMCAL_COMPILE_CACHE to move it, or to 'off' to compile every fit afresh.
    """
    from mmmcal.sampling.store import cache_info, clear_disk_cache

    if clear:
        console.print(f"Deleted {clear_disk_cache()} compiled model(s).")
    info = cache_info()
    if info["path"] is None:
        console.print("The store of compiled models is off (MMMCAL_COMPILE_CACHE=off).")
    else:
        n, size = info["models"], info["size_mb"]
        console.print(f"{n} compiled model(s), {size} MB, in {info['path']}")


# --------------------------------------------------------------------------- studies

study_app = typer.Typer(
    help="Calibration studies: many worlds x calibration arms, locally or on a Dask cluster.",
    no_args_is_help=True,
)
app.add_typer(study_app, name="study")


@study_app.command("run")
@_friendly
def study_run(
    study: Annotated[Path, typer.Argument(help="Study YAML, e.g. experiments/smoke_study.yaml.")],
    out: Annotated[Path, typer.Option(help="Study directory; an existing one is resumed.")],
    workers: Annotated[
        int | None, typer.Option(help="Run on a local Dask cluster of N worker processes.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Run on an existing Dask cluster (tcp://host:8786).")
    ] = None,
) -> None:
    """Run every unfinished cell (world x arm) of a study; finished cells are kept."""
    from mmmcal.study.study import load_study, run_study

    spec = load_study(study)
    try:
        run = run_study(spec, out, workers=workers, scheduler=scheduler, progress=True)
    except KeyboardInterrupt:
        err_console.print(
            f"Interrupted. Finished cells are kept in {out}/cells/; "
            "run the same command again to resume."
        )
        raise typer.Exit(130) from None
    console.print(
        f"{len(run.finished)} cells finished, {run.already_done} already done, "
        f"{len(run.failed)} failed, of {run.total}; {run.wall_seconds:.0f}s -> {out}/cells/"
    )
    if run.failed:
        for cell_id, message in run.failed.items():
            err_console.print(f"  {cell_id}: {message}", highlight=False, markup=False)
        err_console.print(
            f"Tracebacks in {out}/failed/; run the same command again to retry failed cells."
        )
        raise typer.Exit(1)


@study_app.command("summarize")
@_friendly
def study_summarize(
    directory: Annotated[Path, typer.Argument(help="Study directory written by `study run`.")],
    out: Annotated[Path, typer.Option(help="Folder for summary.csv, figures and index.html.")],
) -> None:
    """Per arm and channel role: errors, coverage, paired differences, bootstrap intervals."""
    from mmmcal.study.study import write_summary

    summary = write_summary(directory, out)
    console.print(f"{len(summary)} estimates -> {out}/summary.csv; figures and {out}/index.html")


if __name__ == "__main__":  # pragma: no cover
    app()
