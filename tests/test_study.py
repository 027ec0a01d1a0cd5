"""Studies: spec validation before any fit, local == Dask, resume, and the summary's math."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import mmmcal.study.runner as study_runner
from mmmcal.cli import app
from mmmcal.study.advice import world_advice
from mmmcal.study.cell import RUN_COLUMNS, arm_lift_table, prior_route, run_cell
from mmmcal.study.page import write_summary
from mmmcal.study.runner import run_study
from mmmcal.study.spec import Study, StudyError, load_study
from mmmcal.study.summary import SUMMARY_COLUMNS, cluster_bootstrap, load_cells, summarize_cells
from mmmcal.world.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "experiments" / "smoke_study.yaml"
runner = CliRunner()


def _smoke_dict() -> dict:
    return yaml.safe_load(SMOKE.read_text())


# --------------------------------------------------------------------------- the spec


def test_committed_studies_load():
    smoke = load_study(SMOKE)
    assert [c.id for c in smoke.cells()] == [
        "reference-short__s00000__uncalibrated",
        "reference-short__s00000__tv_one_test",
        "reference-short__s00001__uncalibrated",
        "reference-short__s00001__tv_one_test",
    ]
    full = load_study(ROOT / "experiments" / "value_of_calibration.yaml")
    assert len(full.seed_list) >= 30
    trust = load_study(ROOT / "experiments" / "trust_beyond_tested.yaml")
    assert len(trust.scenario_labels) >= 5 and len(trust.seed_list) >= 30
    names = [a.name for a in trust.arms]
    assert {"uncalibrated", "tv_one_test", "one_test_per_channel"} <= set(names)
    assert any(n.startswith("old_default_") for n in names)
    assert {"uncalibrated", "tv_one_test", "one_test_per_channel", "tv_biased"} <= {
        a.name for a in full.arms
    }


def test_the_advice_study_values_every_candidate_arm_from_the_uncalibrated_cell():
    full = load_study(ROOT / "experiments" / "advice.yaml")
    assert len(full.seed_list) >= 30 and len(full.scenario_labels) >= 4
    assert len(full.candidate_arms) >= 6 and full.advise is not None
    data = _smoke_dict()
    data["seeds"] = [0]
    data["advise"] = {"n_draws": 50, "n_outcomes": 16}
    data["arms"] = [
        {"name": "uncalibrated"},
        {"name": "tv_dark", "tests": [{"channel": "tv", "spend_change": -1}]},
        {"name": "search_up", "tests": [{"channel": "search", "spend_change": 0.5}]},
    ]
    study = Study.from_dict(data)
    cells = pd.concat([run_cell(study, c) for c in study.cells()], ignore_index=True)
    base = cells[cells["arm"] == "uncalibrated"]
    doc = json.loads(base["advice"].iloc[0])
    assert (
        set(doc["candidates"]) == {"tv_dark", "search_up"} and doc["advised"] in doc["candidates"]
    )
    assert cells.loc[cells["arm"] != "uncalibrated", "advice"].isna().all()
    world = world_advice(cells)
    assert len(world) == 1 and world["advised"].iloc[0] == doc["advised"]
    assert np.isfinite(world["narrowing_realised"].iloc[0])


def test_a_ridge_arm_runs_seeded_by_the_cell(tmp_path):
    data = _smoke_dict()
    data["arms"][1].update(engine="ridge", options={"budget": 30, "n_bootstrap": 10})
    study = Study.from_dict(data)
    cell = study.cells()[1]
    first = run_cell(study, cell).drop(columns=list(RUN_COLUMNS))
    again = run_cell(study, cell).drop(columns=list(RUN_COLUMNS))
    pd.testing.assert_frame_equal(first, again)
    assert set(first["engine"]) == {"ridge"}
    assert first.loc[first["channel"] == "tv", "tested"].item()
    assert np.isfinite(first["share_mean"]).all() and (first["share_hi"] > first["share_lo"]).all()
    # the fit's budget decision, scored once per cell (the same on every channel's row)
    decision = first[["regret", "model_regret", "model_regret_lo", "model_regret_hi"]]
    assert (decision.nunique() == 1).all() and np.isfinite(decision.to_numpy()).all()
    assert (first["model_regret_lo"] <= first["model_regret_hi"]).all()


def _bad(change) -> dict:
    data = _smoke_dict()
    change(data)
    return data


BAD = {
    "arm typo": (
        lambda d: d["arms"][1].update(bais=0.5),
        "arms.1.bais: unknown field (check the spelling)",
    ),
    "unknown channel": (
        lambda d: d["arms"][1]["tests"][0].update(channel="radio"),
        "arms.1.tests.0.channel: 'radio' is not a channel of scenario 'reference-short'",
    ),
    "no uncalibrated arm": (
        lambda d: d["arms"][0].update(name="baseline"),
        "arms: an arm named `uncalibrated` (no tests) is required",
    ),
    "bad preset": (
        lambda d: d["scenarios"][0].update(preset="refrence"),
        "scenarios.0: The scenario preset 'refrence' must be one of",
    ),
    "bad override": (
        lambda d: d["scenarios"][0]["overrides"].update(n_periods=5),
        "scenarios.0: Invalid scenario:\n  - n_periods: Input should be greater than or equal to 20",
    ),
    "geolift on a national world": (
        lambda d: d["arms"][1].update(tests=[], geolift=[{"channel": "tv"}]),
        "arms.1.geolift: scenario 'reference-short' has no geos",
    ),
    "bad sampler": (
        lambda d: d["sampler"].update(sampler="stan"),
        "sampler.sampler: Input should be 'nutpie', 'pymc', 'numpyro' or 'blackjax'",
    ),
    "unknown engine": (
        lambda d: d["arms"][1].update(engine="robyn"),
        "arms.1.engine: The `engine` 'robyn' must be one of ['bayes', 'bounded', 'ridge']",
    ),
    "ridge option typo": (
        lambda d: d["arms"][1].update(engine="ridge", options={"budjet": 100}),
        "arms.1: `options` ['budjet'] are not settings of the ridge engine",
    ),
    "options on a bayes arm": (
        lambda d: d["arms"][1].update(options={"budget": 100}),
        "arms.1: `options` apply to ridge/bounded arms",
    ),
    "gamma with window tests": (
        lambda d: d["arms"][1].update(lift_dist="gamma"),
        "arms.1: `lift_dist: gamma` needs `likelihood: steady_state`",
    ),
    "only one arm": (
        lambda d: d.update(arms=[{"name": "uncalibrated"}]),
        "arms: a study compares `uncalibrated` with at least one other arm",
    ),
    "seed range typo": (
        lambda d: d.update(seeds={"start": 0, "cont": 3}),
        "seeds.SeedRange.cont: unknown field (check the spelling)",
    ),
    "bad model change": (
        lambda d: d["scenarios"][0].update(model={"adstock": {"family": "geometrc"}}),
        "scenarios.0.model: Invalid model spec",
    ),
    "bad arm model change": (
        lambda d: d["arms"][1].update(model={"spend_factor": "sometimes"}),
        "arms.1.model: Invalid model spec",
    ),
    "prior route without tests": (
        lambda d: d["arms"][1].update(tests=[], route="prior"),
        "arms.1: arm 'tv_one_test': `route: prior` turns tests into ROAS priors",
    ),
    "repeated seeds": (
        lambda d: d.update(seeds=[1, 1]),
        "seeds: give distinct non-negative seeds",
    ),
}


def test_arm_model_changes_apply_over_the_study_and_scenario():
    data = _smoke_dict()
    data["model"] = {"yearly_seasonality": 1}
    data["arms"][1]["model"] = {"spend_factor": True, "yearly_seasonality": 3}
    study = Study.from_dict(data)
    label = study.scenario_labels[0]
    scenario = study.scenario(label)
    plain = study.model_spec(scenario, label, "uncalibrated")
    changed = study.model_spec(scenario, label, study.arms[1].name)
    assert (plain.spend_factor, plain.yearly_seasonality) == (False, 1)
    assert (changed.spend_factor, changed.yearly_seasonality) == (True, 3)
    assert study.model_spec(scenario, label) == plain


@pytest.mark.parametrize("case", list(BAD))
def test_bad_study_fails_naming_the_field(case):
    change, message = BAD[case]
    with pytest.raises(StudyError) as err:
        Study.from_dict(_bad(change))
    assert message in str(err.value)


def test_bad_study_file_fails_before_any_fit(tmp_path, monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("a fit started")

    monkeypatch.setattr(study_runner, "run_cell", no_fit)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_bad(BAD["unknown channel"][0])))
    result = runner.invoke(app, ["study", "run", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "arms.1.tests.0.channel" in result.output
    assert not (tmp_path / "out").exists()
    # Valid fields, impossible in the world: a 30-week test in 20 weeks of data.
    data = _bad(lambda d: d["arms"][1]["tests"][0].update(n_periods=30))
    data["scenarios"][0]["overrides"]["n_periods"] = 20
    with pytest.raises(StudyError, match=r"arms.1 \('tv_one_test'\) cannot run in scenario"):
        run_study(Study.from_dict(data), tmp_path / "out2", progress=False)
    assert not (tmp_path / "out2").exists()


def test_resume_refuses_a_different_study(tmp_path, monkeypatch):
    monkeypatch.setattr(study_runner, "run_cell", _fake_cell)
    run_study(load_study(SMOKE), tmp_path, progress=False)
    other = Study.from_dict(_bad(lambda d: d.update(seeds=[0, 1, 2])))
    with pytest.raises(StudyError, match="holds results of a different study"):
        run_study(other, tmp_path, progress=False)
    for f in (tmp_path / "cells").iterdir():  # no finished cell yet: any study may start here
        f.unlink()
    assert run_study(other, tmp_path, progress=False).total == 6
    assert load_study(tmp_path / "study.yaml") == other


# --------------------------------------------------------------------------- runner


def _fake_cell(study, cell) -> pd.DataFrame:
    """A deterministic stand-in for a fit: the runner's logic without sampling."""
    rng = np.random.default_rng([cell.seed, len(cell.arm)])
    return pd.DataFrame(
        {
            "scenario": cell.scenario,
            "seed": cell.seed,
            "arm": cell.arm,
            "channel": ["tv", "social", "search"],
            "share_abs_error": rng.uniform(0, 0.1, 3),
        }
    )


def test_interrupted_run_resumes_without_lost_or_duplicated_cells(tmp_path, monkeypatch):
    study = load_study(SMOKE)
    calls = []

    def interrupted(study, cell):
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user presses Ctrl-C during the third cell
        calls.append(cell.id)
        return _fake_cell(study, cell)

    monkeypatch.setattr(study_runner, "run_cell", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_study(study, tmp_path, progress=False)
    first = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "cells").iterdir()}
    assert sorted(first) == sorted(f"{c}.parquet" for c in calls)

    resumed = []
    monkeypatch.setattr(
        study_runner,
        "run_cell",
        lambda study, cell: resumed.append(cell.id) or _fake_cell(study, cell),
    )
    run = run_study(study, tmp_path, progress=False)
    all_ids = [c.id for c in study.cells()]
    assert resumed == [c for c in all_ids if c not in calls]
    assert run.already_done == 2 and run.finished == resumed and run.total == 4
    for name, mtime in first.items():
        assert (tmp_path / "cells" / name).stat().st_mtime_ns == mtime
    cells = load_cells(tmp_path)
    assert len(cells) == 4 * 3
    assert cells.groupby(["scenario", "seed", "arm"]).size().tolist() == [3] * 4
    expected = pd.concat([_fake_cell(study, c) for c in study.cells()])
    pd.testing.assert_frame_equal(
        cells.sort_values(["seed", "arm", "channel"]).reset_index(drop=True),
        expected.sort_values(["seed", "arm", "channel"]).reset_index(drop=True),
    )
    assert run_study(study, tmp_path, progress=False).finished == []
    assert not (tmp_path / "tmp").exists()


def test_a_failing_cell_is_recorded_and_retried(tmp_path, monkeypatch):
    study = load_study(SMOKE)

    def one_fails(study, cell):
        if cell.seed == 1 and cell.arm == "tv_one_test":
            raise ValueError("sampler exploded")
        return _fake_cell(study, cell)

    monkeypatch.setattr(study_runner, "run_cell", one_fails)
    run = run_study(study, tmp_path, progress=False)
    bad = "reference-short__s00001__tv_one_test"
    assert run.failed == {bad: "ValueError: sampler exploded"} and len(run.finished) == 3
    assert "sampler exploded" in (tmp_path / "failed" / f"{bad}.txt").read_text()
    monkeypatch.setattr(study_runner, "run_cell", _fake_cell)
    run = run_study(study, tmp_path, progress=False)
    assert run.finished == [bad] and run.failed == {}
    assert not (tmp_path / "failed" / f"{bad}.txt").exists()


def test_cli_run_reports_finished_and_failed_cells(tmp_path, monkeypatch):
    def one_fails(study, cell):
        if cell.arm == "tv_one_test" and cell.seed == 0:
            raise RuntimeError("stuck chain")
        return _fake_cell(study, cell)

    monkeypatch.setattr(study_runner, "run_cell", one_fails)
    args = ["study", "run", str(SMOKE), "--out", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "3 cells finished, 0 already done, 1 failed, of 4" in result.output
    assert "reference-short__s00000__tv_one_test: RuntimeError: stuck chain" in result.output
    monkeypatch.setattr(study_runner, "run_cell", _fake_cell)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 cells finished, 3 already done, 0 failed, of 4" in result.output


def test_run_on_an_existing_dask_cluster(tmp_path, monkeypatch):
    from distributed import LocalCluster

    monkeypatch.setattr(study_runner, "run_cell", _fake_cell)
    study = load_study(SMOKE)
    with LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster:
        run = run_study(study, tmp_path, scheduler=cluster.scheduler_address, progress=False)
    assert sorted(run.finished) == sorted(c.id for c in study.cells()) and run.failed == {}
    expected = pd.concat([_fake_cell(study, c) for c in study.cells()], ignore_index=True)
    pd.testing.assert_frame_equal(load_cells(tmp_path), expected)
    with pytest.raises(StudyError, match="not both"):
        run_study(study, tmp_path, workers=2, scheduler=cluster.scheduler_address)
    with pytest.raises(StudyError, match="--workers must be at least 1"):
        run_study(study, tmp_path, workers=0)


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """The smoke study fitted for real, in this process and on a 2-worker Dask cluster."""
    study = load_study(SMOKE)
    local = tmp_path_factory.mktemp("local")
    dask = tmp_path_factory.mktemp("dask")
    run_study(study, local, progress=False)
    run = run_study(study, dask, workers=2, progress=False)
    return load_cells(local), load_cells(dask), run


@pytest.mark.slow
def test_local_and_dask_runs_give_identical_results(smoke_runs):
    local, dask, run = smoke_runs
    assert run.failed == {} and len(run.finished) == 4
    assert len(local) == len(dask) == 4 * 3
    pd.testing.assert_frame_equal(
        local.drop(columns=list(RUN_COLUMNS)), dask.drop(columns=list(RUN_COLUMNS))
    )
    assert set(dask["pid"]).isdisjoint(local["pid"])  # Dask cells ran in worker processes
    tv = local[(local.channel == "tv")].set_index(["seed", "arm"])
    assert tv["tested"].tolist() == [False, True, False, True]
    assert (local["n_lift_rows"] == np.where(local["arm"] == "tv_one_test", 1, 0)).all()
    assert ((local.share_lo <= local.share_mean) & (local.share_mean <= local.share_hi)).all()
    np.testing.assert_allclose(local.share_abs_error, (local.share_mean - local.true_share).abs())
    assert (local.fit_seconds > 0).all() and (local.cell_seconds >= local.fit_seconds).all()


@pytest.mark.slow
def test_summarize_cli_on_real_cells(smoke_runs, tmp_path):
    local = smoke_runs[0]
    (tmp_path / "study" / "cells").mkdir(parents=True)
    for key, part in local.groupby(["scenario", "seed", "arm"]):
        part.to_parquet(tmp_path / "study" / "cells" / f"{'_'.join(map(str, key))}.parquet")
    result = runner.invoke(
        app, ["study", "summarize", str(tmp_path / "study"), "--out", str(tmp_path / "summary")]
    )
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(tmp_path / "summary" / "summary.csv")
    assert list(summary.columns) == SUMMARY_COLUMNS
    row = summary[(summary.arm == "tv_one_test") & (summary.metric == "share_abs_error_diff")]
    assert set(row.role) == {"tested", "untested", "all"} and (row.n == 2).all()
    for name in ("index.html", "paired_differences.png", "coverage.png", "errors.png"):
        assert (tmp_path / "summary" / name).stat().st_size > 1000


# --------------------------------------------------------------------------- summary math


def _synthetic_cells(n_seeds=40, diff_noise=0.0, seed=0) -> pd.DataFrame:
    """Two arms on the same worlds: a TV test cuts TV's error by 0.05 and adds 0.02 elsewhere."""
    rng = np.random.default_rng(seed)
    rows = []
    for scenario in ("a", "b"):
        for s in range(n_seeds // 2):
            for channel in ("tv", "social", "search"):
                base = rng.uniform(0.06, 0.2)
                tested = channel == "tv"
                change = (-0.05 if tested else 0.02) + rng.normal(0, diff_noise)
                for arm, err, covered in (
                    ("uncalibrated", base, s % 2 == 0),  # coverage 0.5
                    ("tv_test", base + change, s % 10 != 0),  # coverage 0.9
                ):
                    rows.append(
                        {
                            "scenario": scenario,
                            "seed": s,
                            "arm": arm,
                            "channel": channel,
                            "tested": tested and arm == "tv_test",
                            "share_abs_error": err,
                            "roas_abs_error": 10 * err,
                            "roas_rel_error": err / 0.5,
                            "share_covered": covered,
                            "roas_covered": covered,
                            "divergences": 0,
                            "max_rhat": 1.0,
                        }
                    )
    return pd.DataFrame(rows)


def _get(summary, arm, role, metric):
    row = summary[(summary.arm == arm) & (summary.role == role) & (summary.metric == metric)]
    assert len(row) == 1, (arm, role, metric)
    return row.iloc[0]


def test_summary_recovers_known_paired_differences():
    summary = summarize_cells(_synthetic_cells(), n_boot=500)
    assert list(summary.columns) == SUMMARY_COLUMNS
    tested = _get(summary, "tv_test", "tested", "share_abs_error_diff")
    assert tested.estimate == pytest.approx(-0.05) and tested.n == 40
    assert tested.lo == pytest.approx(-0.05) and tested.hi == pytest.approx(-0.05)
    untested = _get(summary, "tv_test", "untested", "roas_abs_error_diff")
    assert untested.estimate == pytest.approx(0.2)
    assert _get(summary, "tv_test", "all", "share_coverage").estimate == pytest.approx(0.9)
    assert _get(summary, "uncalibrated", "all", "share_coverage").estimate == pytest.approx(0.5)
    assert _get(summary, "uncalibrated", "all", "fits_ok").estimate == 1.0
    assert set(summary[summary.arm == "uncalibrated"].role) == {"all"}


def test_summary_scores_the_decision_once_per_world():
    cells = _synthetic_cells()
    world = cells["scenario"] + cells["seed"].astype(str)
    seed_of = cells["seed"].to_numpy()
    # per world: regret 0.1 x seed (the same on the world's three rows); covered in 3 of 4
    cells["regret"] = 0.1 * seed_of
    cells["regret_covered"] = seed_of % 4 != 0
    cells.loc[(cells["arm"] == "tv_test") & (world == "a0"), "regret"] = np.nan  # not scored
    summary = summarize_cells(cells, n_boot=200)
    regret = _get(summary, "uncalibrated", "all", "regret")
    assert regret.estimate == pytest.approx(np.median(0.1 * np.arange(20))) and regret.n == 40
    assert _get(summary, "uncalibrated", "all", "regret_covered").estimate == pytest.approx(0.75)
    assert _get(summary, "tv_test", "all", "regret").n == 39
    assert summary[summary.metric == "regret"].role.unique().tolist() == ["all"]
    legacy = summarize_cells(_synthetic_cells(), n_boot=200)  # cells without a decision
    assert "regret" not in set(legacy.metric)


def test_summary_bootstrap_interval_covers_a_noisy_difference():
    summary = summarize_cells(_synthetic_cells(diff_noise=0.02, seed=3), n_boot=1000)
    row = _get(summary, "tv_test", "tested", "share_abs_error_diff")
    assert row.lo < -0.05 < row.hi and row.hi - row.lo < 0.03
    assert row.lo < row.estimate < row.hi
    base = _get(summary, "tv_test", "tested", "share_abs_error_uncalibrated")
    assert 0.1 < base.estimate < 0.16  # median of Uniform(0.06, 0.2)
    again = summarize_cells(_synthetic_cells(diff_noise=0.02, seed=3), n_boot=1000)
    pd.testing.assert_frame_equal(summary, again)  # the bootstrap is seeded


def test_summary_median_bootstrap_matches_resampling_by_hand():
    values = np.array([3.0, 1.0, 2.0, 5.0, 4.0, 8.0])
    worlds = np.array(["w1", "w1", "w2", "w2", "w3", "w3"])
    est, lo, hi = cluster_bootstrap(
        values, worlds, np.zeros(6), "median", np.random.default_rng(0), 200
    )
    rng = np.random.default_rng(0)
    by_hand = []
    for draw in rng.integers(0, 3, (200, 3)):
        by_hand.append(np.median(np.concatenate([values[2 * w : 2 * w + 2] for w in draw])))
    assert est == 3.5
    assert (lo, hi) == tuple(np.quantile(by_hand, [0.05, 0.95]))


def test_write_summary_files(tmp_path):
    cells = _synthetic_cells(n_seeds=8)
    stuck = (cells.scenario == "a") & (cells.seed == 1) & (cells.arm == "tv_test")
    cells.loc[stuck, "max_rhat"] = 1.2
    (tmp_path / "cells").mkdir()
    for key, part in cells.groupby(["scenario", "seed", "arm"]):
        part.to_parquet(tmp_path / "cells" / f"{'_'.join(map(str, key))}.parquet")
    summary = write_summary(tmp_path, tmp_path / "out", n_boot=200)
    on_disk = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert list(on_disk.columns) == SUMMARY_COLUMNS and len(on_disk) == len(summary)
    by_scenario = pd.read_csv(tmp_path / "out" / "summary_by_scenario.csv")
    assert set(by_scenario.scenario) == {"a", "b"}
    page = (tmp_path / "out" / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "share_abs_error_diff" in page
    unhealthy = pd.read_csv(tmp_path / "out" / "unhealthy_fits.csv")
    assert unhealthy[["scenario", "seed", "arm"]].values.tolist() == [["a", 1, "tv_test"]]
    assert unhealthy.why.tolist() == ["max R-hat 1.200 > 1.01"]
    assert "1 of them failing their sampler checks" in page
    with pytest.raises(StudyError, match="has no finished cells"):
        write_summary(tmp_path / "out", tmp_path / "nothing")


def test_a_pilot_runs_the_first_seeds_and_resumes_to_all(tmp_path, monkeypatch):
    study = load_study(SMOKE)
    monkeypatch.setattr(study_runner, "run_cell", _fake_cell)
    pilot = run_study(study, tmp_path, progress=False, first_seeds=1)
    first = study.seed_list[0]
    assert pilot.total == 2 and sorted(pilot.finished) == sorted(
        c.id for c in study.cells() if c.seed == first
    )
    rest = run_study(study, tmp_path, progress=False)
    assert rest.already_done == 2 and len(rest.finished) == 2 and rest.total == 4
    with pytest.raises(StudyError, match="--seeds must be at least 1"):
        run_study(study, tmp_path, progress=False, first_seeds=0)


def test_a_run_of_some_scenarios_resumes_to_all(tmp_path, monkeypatch):
    data = _smoke_dict()
    data["scenarios"].append(
        {"preset": "reference", "name": "other", "overrides": {"n_periods": 60}}
    )
    study = Study.from_dict(data)
    monkeypatch.setattr(study_runner, "run_cell", _fake_cell)
    some = run_study(study, tmp_path, progress=False, only_scenarios=["other"])
    assert some.total == 4 and all(cell_id.startswith("other") for cell_id in some.finished)
    rest = run_study(study, tmp_path, progress=False)
    assert rest.already_done == 4 and len(rest.finished) == 4 and rest.total == 8
    with pytest.raises(StudyError, match=r"--scenario names \['typo'\]"):
        run_study(study, tmp_path, progress=False, only_scenarios=["typo"])


def test_a_run_of_some_arms_resumes_to_all(tmp_path, monkeypatch):
    study = load_study(SMOKE)
    monkeypatch.setattr(study_runner, "run_cell", _fake_cell)
    arm = study.arms[0].name
    some = run_study(study, tmp_path, progress=False, only_arms=[arm])
    assert some.total == 2 and all(cell_id.endswith(arm) for cell_id in some.finished)
    rest = run_study(study, tmp_path, progress=False)
    assert rest.already_done == 2 and len(rest.finished) == 2 and rest.total == 4
    with pytest.raises(StudyError, match=r"--arm names \['typo'\]"):
        run_study(study, tmp_path, progress=False, only_arms=["typo"])


def test_prior_route_turns_an_arms_tests_into_roas_priors():
    """The arm's measured TV ROAS becomes `roas_prior.tests`; the rest of the spec stays."""
    data = _smoke_dict()
    data["arms"][1]["route"] = "prior"
    study = Study.from_dict(data)
    label = study.scenario_labels[0]
    arm = study.arms[1]
    world = simulate(study.scenario(label), 0)
    lift = arm_lift_table(arm, world, 0)
    spec = study.model_spec(world.scenario, label, arm.name)
    routed = prior_route(spec, lift)
    measured = lift["delta_y"].sum() / lift["delta_x"].sum()
    assert list(routed.roas_prior.tests) == ["tv"]
    assert routed.roas_prior.tests["tv"].roas == pytest.approx(measured)
    assert routed.model_copy(update={"roas_prior": None}) == spec
