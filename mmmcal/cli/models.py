"""Model commands: ``fit``, ``score``, ``report``, ``demo`` and the compiled-model ``cache``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from mmmcal.cli.choices import Engine, LiftDistribution, Likelihood
from mmmcal.cli.views import checks_view, console, lift_table_view, scorecard_view, trust_view

__all__ = ["cache", "demo", "fit", "report", "score"]


class _PhaseClock:
    """Seconds per named phase of a command (``with clock("report_s"): ...``); repeats add up."""

    def __init__(self) -> None:
        import time

        self._now = time.perf_counter
        self._start = self._now()
        self.seconds: dict[str, float] = {}
        self.fits: dict[str, dict] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        began = self._now()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + self._now() - began

    def fit_parts(self, name: str, timings) -> None:
        """Record where a fit's seconds went (its :class:`SampleTimes`; build = the rest)."""
        wall = self.seconds[f"fit_{name}_s"]
        parts = {  # NaN (not measured, e.g. pymc's own sampler) left out
            k: v
            for k, v in (
                ("compile_s", timings.compile_s),
                ("sample_s", timings.sample_s),
                ("deterministics_s", timings.deterministics_s),
            )
            if v == v
        }
        self.fits[name] = {
            **{k: round(v, 2) for k, v in parts.items()},
            "build_and_checks_s": round(wall - sum(parts.values()), 2),
            "compiled_model": timings.source,
            "retried": timings.retried,
        }

    def phases(self) -> dict:
        """Every phase's seconds, the fits' parts, and the total (process start-up excluded)."""
        rounded = {k: round(v, 2) for k, v in self.seconds.items()}
        return {**rounded, "fits": self.fits, "total_s": round(self._now() - self._start, 2)}


def _sampler(draws: int | None, chains: int | None, tune: int | None, seed: int, fast: bool):
    from mmmcal.models.bayes import SamplerConfig

    base = SamplerConfig.fast(seed=seed) if fast else SamplerConfig(seed=seed)
    changes = {k: v for k, v in {"draws": draws, "chains": chains, "tune": tune}.items() if v}
    return base.model_copy(update=changes) if changes else base


def _fit_with_status(model, data, label: str):
    with console.status(f"Fitting [bold]{escape(label)}[/] ...", spinner="dots"):
        model.fit(data)
    d = model.diagnostics_
    flag = "[green]ok[/]" if d.ok else f"[bold red]FAIL[/] ({escape('; '.join(d.problems))})"
    console.print(
        f"  {escape(label)}: {d.fit_seconds:.0f}s, divergences {d.divergences}, "
        f"max R-hat {d.max_rhat:.3f}, "
        f"min bulk ESS {d.min_ess_bulk:.0f} {flag}"
    )
    return model


def _fit_baseline(engine: str, spec, table, frame, out: Path, name: str, **options) -> None:
    """Fit the non-Bayesian ``engine`` (``options``: RidgeConfig's), report it, save it."""
    from mmmcal.models.engines import make_engine

    estimator = make_engine(engine, spec, table, name=name, progress=True, **options)
    baseline = estimator.fit(frame)
    d = baseline.diagnostics_
    mape = "" if d.mape_lift is None else f", MAPE.LIFT {d.mape_lift:.3f}"
    console.print(
        f"  {escape(baseline.name)} ({engine}): {d.fit_seconds:.1f}s, "
        f"{d.n_evaluations} evaluations, "
        f"NRMSE {d.nrmse:.3f}, DECOMP.RSSD {d.decomp_rssd:.3f}{mape}"
    )
    baseline.save(out)


def _show_trust(models, *, flagged_only: bool):
    """Print the "what to trust" table and its checks (only REVIEW/FAIL if ``flagged_only``)."""
    from mmmcal.evaluate.trust import trust_table

    trust = trust_table(models)
    console.print(trust_view(trust))
    checks = [c for c in trust.checks if c.status != "PASS"] if flagged_only else trust.checks
    console.print(checks_view(checks, "What to trust" if flagged_only else "What to trust: checks"))
    return trust


def _print_spend_factor_decision(estimator) -> None:
    """What ``spend_factor: auto`` decided on the fitted data, and why."""
    from mmmcal.models.data import channel_comovement
    from mmmcal.models.spend_factor import SHARED_MOVEMENT

    r = channel_comovement(estimator.spec, estimator.data_.X)
    added = "added" if estimator.spec.spend_factor else "left out"
    console.print(
        f"spend_factor auto: {added} (the channels' log spend correlates {r:.2f} on "
        f"average; it is added from {SHARED_MOVEMENT})"
    )


def fit(
    data: Annotated[Path, typer.Option(help="CSV with one row per date (x geo).")],
    model: Annotated[Path, typer.Option(help="Model spec YAML.")],
    out: Annotated[Path, typer.Option(help="Fit directory to write.")],
    lift: Annotated[Path | None, typer.Option(help="Lift-table CSV to calibrate with.")] = None,
    likelihood: Annotated[
        Likelihood, typer.Option(help="Lift estimand: the test window, or the steady state.")
    ] = Likelihood.AUTO,
    lift_dist: Annotated[
        LiftDistribution, typer.Option(help="Distribution of a measured lift around the model's.")
    ] = LiftDistribution.NORMAL,
    name: Annotated[str | None, typer.Option(help="Model label (default: directory name).")] = None,
    draws: Annotated[int | None, typer.Option(help="Draws per chain.")] = None,
    tune: Annotated[int | None, typer.Option(help="Tuning steps per chain.")] = None,
    chains: Annotated[int | None, typer.Option(help="Chains.")] = None,
    seed: Annotated[int, typer.Option(help="Sampler seed.")] = 0,
    fast: Annotated[
        bool, typer.Option(help="Tiny draws for smoke runs (not for results).")
    ] = False,
    engine: Annotated[
        Engine, typer.Option(help="bayes (pymc-marketing), ridge (Robyn-style) or bounded.")
    ] = Engine.BAYES,
    budget: Annotated[int, typer.Option(help="ridge/bounded: Nevergrad evaluations.")] = 1000,
    n_bootstrap: Annotated[int, typer.Option(help="ridge/bounded: bootstrap resamples.")] = 200,
    overwrite: Annotated[
        bool, typer.Option(help="Replace the fit already in --out (the whole directory).")
    ] = False,
) -> None:
    """Fit an MMM to any data, optionally calibrated with a lift table.

    The bayes engine fits a pymc-marketing MMM; ridge (Robyn-style) and bounded (lift-bounded
    ridge) are non-Bayesian baselines, to which the sampler options do not apply.
    """
    from mmmcal.files import read_csv_file
    from mmmcal.lift.table import read_lift_table
    from mmmcal.models.bayes import CalibratedMMM
    from mmmcal.models.fit_dir import check_fit_dir_target
    from mmmcal.models.spec import ModelSpec

    check_fit_dir_target(out, overwrite=overwrite)  # before any fit: new, empty, or --overwrite
    spec = ModelSpec.from_yaml(Path(model))
    frame = read_csv_file(data, "data file")
    table = read_lift_table(lift) if lift else None
    label = name or Path(out).name
    if engine != Engine.BAYES:
        sampler_options = {"--draws": draws, "--tune": tune, "--chains": chains, "--fast": fast}
        given = [k for k, v in sampler_options.items() if v]
        if given:
            raise ValueError(
                f"{', '.join(given)} set(s) the sampler of --engine bayes; the {engine} engine "
                "has no sampler: use --budget and --n-bootstrap."
            )
        options = {"budget": budget, "n_bootstrap": n_bootstrap, "seed": seed}
        _fit_baseline(engine.value, spec, table, frame, out, label, **options)
        console.print(f"Saved fit -> {escape(str(out))}/")
        return
    estimator = CalibratedMMM(
        spec,
        table,
        likelihood=likelihood.value,
        lift_dist=lift_dist.value,
        sampler=_sampler(draws, chains, tune, seed, fast),
        name=label,
    )
    _fit_with_status(estimator, frame, estimator.name)
    if spec.spend_factor == "auto":
        _print_spend_factor_decision(estimator)
    estimator.save(out)
    console.print(f"Saved fit -> {escape(str(out))}/")


def score(
    fit: Annotated[list[Path], typer.Option("--fit", help="Fit directory (repeat for several).")],
    truth: Annotated[Path | None, typer.Option(help="truth.json of the simulated world.")] = None,
    out: Annotated[Path, typer.Option(help="Scorecard JSON to write.")] = Path("scorecard.json"),
    allow_unhealthy: Annotated[
        bool, typer.Option(help="Score fits that failed their checks (marked FAIL).")
    ] = False,
    decide: Annotated[
        bool, typer.Option(help="Add each fit's budget split and its regret (`decision`).")
    ] = False,
    budget: Annotated[
        float | None, typer.Option(help="Budget per period of --decide (default: today's).")
    ] = None,
) -> None:
    """Score fitted models (against the ground truth if given) and say what to trust; write JSON.

    Under the scorecard: the "what to trust" table and its checks, read from the fits alone
    (the scorecard JSON holds them under ``trust``); with --decide (or --budget) each fit's
    budget split, as `mmmcal optimize` makes it, under ``decision``. A fit that failed its checks
    (divergences, R-hat, ESS) is shown as FAIL with why, and stops the command (exit 1,
    nothing written) unless --allow-unhealthy is given.
    """
    from mmmcal.evaluate.scorecard import Scorecard
    from mmmcal.files import read_truth_file
    from mmmcal.models.engines import load_fit

    truth_doc = None if truth is None else read_truth_file(truth)
    models = [load_fit(f) for f in fit]
    card = Scorecard.from_models(models, truth_doc)
    console.print(scorecard_view(card))
    trust = _show_trust(models, flagged_only=False)
    if card.unhealthy and not allow_unhealthy:
        names = ", ".join(card.unhealthy)
        raise ValueError(
            f"{names} failed the fit checks, so no scorecard was written: refit with more "
            "draws and tuning (not --fast), or pass --allow-unhealthy to score it anyway."
        )
    sections: dict = {"trust": trust.to_dict()}
    if decide or budget is not None:
        sections["decision"] = _decisions(models, budget, truth_doc)
    card.save(out, **sections)
    console.print(f"Scorecard -> {escape(str(out))}")


def _decisions(models, budget: float | None, truth: dict | None) -> dict:
    """Each model's budget split (default bounds) and its regret; printed a line each."""
    from mmmcal.decide.regret import decision, decision_summary

    national = truth is not None and not truth.get("geos")
    docs = {}
    for m in models:
        if m.spec.geo_column:
            console.print(f"  decision of {escape(m.name)}: not available for geo models yet")
            continue
        docs[m.name] = decision(m, budget, truth=truth if national else None)
        console.print(f"  decision of {escape(m.name)}: {decision_summary(docs[m.name])}")
    return docs


def report(
    fit: Annotated[list[Path], typer.Option("--fit", help="Fit directory (repeat for several).")],
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("report.html"),
    truth: Annotated[Path | None, typer.Option(help="truth.json of a simulated world.")] = None,
    lift: Annotated[
        Path | None, typer.Option(help="Lift table to show (default: the fits').")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Report title.")] = None,
    decide: Annotated[
        bool, typer.Option(help="Add each fit's budget split and its regret (a figure).")
    ] = False,
    advise: Annotated[
        bool, typer.Option(help="Add what to test next (default candidates) per bayes fit.")
    ] = False,
) -> None:
    """Write a self-contained HTML validation report of one or more fits."""
    from mmmcal.files import read_truth_file
    from mmmcal.lift.table import read_lift_table
    from mmmcal.models.engines import load_fit
    from mmmcal.report.page import write_report

    truth_doc = None if truth is None else read_truth_file(truth)
    table = read_lift_table(lift) if lift else None
    with console.status("Writing report ...", spinner="dots"):
        models = [load_fit(f) for f in fit]
        decisions = _decisions(models, None, truth_doc) if decide else None
        advice = _advice(models) if advise else None
        path = write_report(
            models,
            out,
            truth=truth_doc,
            lift=table,
            title=title,
            decisions=decisions,
            advice=advice,
        )
    console.print(f"Report -> {escape(str(path))}")


def _advice(models) -> list:
    """Advice (default candidates) of each national bayes fit; the others are named."""
    from mmmcal.advise.advice import advise
    from mmmcal.evaluate.checks import is_bayesian

    out = []
    for m in models:
        if not is_bayesian(m) or m.spec.geo_column:
            console.print(f"  advice for {escape(m.name)}: national bayes fits only")
            continue
        out.append(advise(m))
        console.print(f"  advice for {escape(m.name)}: test {escape(out[-1].best)} next")
    return out


def _fit_and_save(models: list, data, fits_dir: Path, clock: _PhaseClock) -> None:
    """Fit and save ``models`` in order.

    The later structures compile in a second process while the first fits
    (:class:`mmmcal.models.precompile.Precompiler`).
    """
    from mmmcal.models.precompile import Precompiler

    with Precompiler.for_fits(models, data) as ahead:
        for model in models:
            with clock(f"fit_{model.name}_s"):
                ahead.wait(model)
                _fit_with_status(model, data, model.name)
            clock.fit_parts(model.name, model.timings_)
            with clock("save_s"):
                model.save(fits_dir / model.name)


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
    from mmmcal.evaluate.scorecard import Scorecard
    from mmmcal.experiments.conversion_lift import LiftTestDesign, lift_tests
    from mmmcal.models.bayes import CalibratedMMM
    from mmmcal.models.spec import ModelSpec
    from mmmcal.report.page import write_report
    from mmmcal.world.presets import get_preset
    from mmmcal.world.simulate import simulate as run_simulation

    clock = _PhaseClock()
    with clock("simulate_s"):
        world = run_simulation(get_preset("reference"), seed)
        world.save(out / "world")
    channels = world.scenario.channel_names
    report_kind = "mean" if mean_only else "per_period"
    designs = [
        LiftTestDesign(channel=c, n_periods=8, switch_on=True, report=report_kind) for c in channels
    ]
    with clock("lift_tests_s"):
        all_tests = lift_tests(world, designs, seed=seed)
    tv_test = all_tests[all_tests.channel == "tv"].reset_index(drop=True)
    tv_test.to_csv(out / "lift_tv.csv", index=False)
    all_tests.to_csv(out / "lift_all.csv", index=False)
    console.print(lift_table_view(all_tests, "8-week switch-on lift tests (truth from the oracle)"))
    spec = ModelSpec.for_world(world)
    (out / "model.yaml").write_text(spec.to_yaml())
    sampler = _sampler(None, None, None, seed, fast)
    console.print(
        f"Fitting 3 MMMs with {sampler.sampler}: {sampler.chains} chains x {sampler.draws} draws"
        + (" (--fast: smoke run, not for results)" if fast else "")
    )
    models = [
        CalibratedMMM(spec, table, sampler=sampler, name=name)
        for name, table in (
            ("uncalibrated", None),
            ("calibrated", tv_test),
            ("calibrated_all", all_tests),
        )
    ]
    _fit_and_save(models, world.data, out / "fits", clock)
    with clock("score_s"):
        card = Scorecard.from_models(models, world.truth_dict())
    console.print(scorecard_view(card))
    trust = _show_trust(models, flagged_only=True)
    card.save(out / "scorecard.json", trust=trust.to_dict())
    with console.status("Writing report ...", spinner="dots"), clock("report_s"):
        write_report(
            models,
            out / "report.html",
            truth=world.truth_dict(),
            lift=all_tests,
            title="mmmcal demo: the reference world, before and after calibration",
            card=card,
            trust=trust,
        )
    times = clock.phases()
    (out / "timings.json").write_text(json.dumps(times, indent=2) + "\n")
    fits = " / ".join(f"{clock.seconds[f'fit_{m.name}_s']:.0f}" for m in models)
    console.print(
        f"Scorecard -> {escape(str(out / 'scorecard.json'))}; "
        f"report -> {escape(str(out / 'report.html'))}; "
        f"demo took {times['total_s']:.0f}s (fits {fits} s; phases in timings.json)"
    )


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
        console.print(f"{n} compiled model(s), {size} MB, in {escape(str(info['path']))}")
