import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from mmmcal.cli import app
from mmmcal.models.spec import ModelSpec
from mmmcal.world.presets import get_preset

runner = CliRunner()


def test_simulate_and_lift_test(tmp_path):
    world = tmp_path / "world"
    result = runner.invoke(
        app, ["simulate", "--scenario", "reference", "--seed", "0", "--out", str(world)]
    )
    assert result.exit_code == 0, result.output
    truth = json.loads((world / "truth.json").read_text())
    assert truth["scenario"] == "reference" and truth["seed"] == 0
    lift = tmp_path / "lift.csv"
    result = runner.invoke(
        app,
        [
            "lift-test",
            "--world",
            str(world),
            "--channel",
            "tv",
            "--weeks",
            "8",
            "--switch-on",
            "--out",
            str(lift),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(lift)
    assert table.loc[0, "channel"] == "tv" and "true_delta_y" in table
    result = runner.invoke(app, ["check-lift", str(lift), "--data", str(world / "data.csv")])
    assert result.exit_code == 0 and "1 accepted, 0 rejected" in result.output


def test_malformed_table_exits_nonzero_with_message(tmp_path):
    world = tmp_path / "world"
    runner.invoke(app, ["simulate", "--out", str(world)])
    bad = tmp_path / "bad.csv"
    pd.DataFrame(
        {
            "channel": ["tv", "radio"],
            "x": [0, 1],
            "delta_x": [1, 1],
            "delta_y": [1, 1],
            "sigma": [1, 0],
        }
    ).to_csv(bad, index=False)
    result = runner.invoke(app, ["check-lift", str(bad), "--channels", "tv,social,search"])
    assert result.exit_code == 1
    assert "rejected" in result.output and "unknown channel 'radio'" in result.output


def test_errors_are_one_message_not_a_traceback(tmp_path):
    result = runner.invoke(app, ["simulate", "--scenario", "nope", "--out", str(tmp_path / "w")])
    assert result.exit_code == 1
    assert "must be one of" in result.output and "Traceback" not in result.output
    result = runner.invoke(
        app, ["lift-test", "--world", str(tmp_path / "missing"), "--channel", "tv", "--switch-on"]
    )
    assert result.exit_code == 1 and "not a world directory" in result.output
    result = runner.invoke(
        app, ["lift-test", "--world", str(tmp_path / "missing"), "--channel", "tv"]
    )
    assert result.exit_code == 1 and "--switch-on" in result.output


def test_scenarios_lists_and_shows_presets():
    result = runner.invoke(app, ["scenarios"])
    assert result.exit_code == 0 and "reference-geo" in result.output
    result = runner.invoke(app, ["scenarios", "--show", "slow-tv"])
    assert result.exit_code == 0 and "alpha: 0.85" in result.output


@pytest.mark.slow
def test_fit_and_score_on_csv_files(tmp_path):
    world = tmp_path / "world"
    scenario = tmp_path / "small.yaml"
    scenario.write_text(get_preset("reference").with_updates(n_periods=52).to_yaml())
    assert (
        runner.invoke(app, ["simulate", "--scenario", str(scenario), "--out", str(world)]).exit_code
        == 0
    )
    runner.invoke(
        app,
        [
            "lift-test",
            "--world",
            str(world),
            "--channel",
            "tv",
            "--switch-on",
            "--weeks",
            "4",
            "--out",
            str(tmp_path / "lift.csv"),
        ],
    )
    spec = tmp_path / "model.yaml"
    spec.write_text(
        ModelSpec.from_dict(
            {
                "channel_columns": ["tv", "social", "search"],
                "control_columns": ["demand_proxy"],
                "yearly_seasonality": None,
            }
        ).to_yaml()
    )
    result = runner.invoke(
        app,
        [
            "fit",
            "--data",
            str(world / "data.csv"),
            "--model",
            str(spec),
            "--lift",
            str(tmp_path / "lift.csv"),
            "--out",
            str(tmp_path / "fit"),
            "--draws",
            "50",
            "--tune",
            "300",
            "--chains",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "divergences" in result.output
    result = runner.invoke(
        app,
        [
            "score",
            "--fit",
            str(tmp_path / "fit"),
            "--truth",
            str(world / "truth.json"),
            "--out",
            str(tmp_path / "scorecard.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "scorecard.json").read_text())
    assert set(card["models"]["fit"]["channels"]) == {"tv", "social", "search"}


def test_fit_rejects_bad_inputs_before_sampling(tmp_path):
    spec = tmp_path / "model.yaml"
    spec.write_text("channel_columns: [tv]\nadstock: {family: geometrc}\n")
    result = runner.invoke(
        app, ["fit", "--data", "nowhere.csv", "--model", str(spec), "--out", str(tmp_path / "f")]
    )
    assert result.exit_code == 1 and "geometrc" in result.output
    spec.write_text("channel_columns: [tv]\n")
    result = runner.invoke(
        app,
        [
            "fit",
            "--data",
            str(tmp_path / "nowhere.csv"),
            "--model",
            str(spec),
            "--out",
            str(tmp_path / "f"),
        ],
    )
    assert result.exit_code == 1 and "does not exist" in result.output
    pd.DataFrame({"date": ["2024-01-01"], "tv": [1.0]}).to_csv(tmp_path / "d.csv", index=False)
    result = runner.invoke(
        app,
        [
            "fit",
            "--data",
            str(tmp_path / "d.csv"),
            "--model",
            str(spec),
            "--out",
            str(tmp_path / "f"),
        ],
    )
    assert result.exit_code == 1 and "lacks column(s) ['sales']" in result.output


@pytest.mark.slow
def test_demo_fast_runs_end_to_end(tmp_path):
    result = runner.invoke(app, ["demo", "--fast", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "demo" / "scorecard.json").read_text())
    assert set(card["models"]) == {"uncalibrated", "calibrated", "calibrated_all"}
    assert card["models"]["calibrated_all"]["tested_channels"] == ["tv", "social", "search"]
    # Even a smoke run shows the problem: the uncalibrated model over-credits TV.
    tv = card["models"]["uncalibrated"]["channels"]["tv"]
    assert tv["share_mean"] > tv["true_share"] + 0.05


def test_ingest_lists_every_row_and_exits_nonzero_on_rejections(tmp_path):
    src = tmp_path / "robyn.csv"
    pd.DataFrame(
        {
            "channel": ["tv", "radio"],
            "liftStartDate": ["2024-03-04", "2024-05-06"],
            "liftEndDate": ["2024-03-31", "2024-06-02"],
            "liftAbs": [12000, 5000],
            "spend": [40000, 20000],
            "confidence": [0.9, 0.8],
            "calibration_scope": ["immediate", "immediate"],
        }
    ).to_csv(src, index=False)
    out = tmp_path / "lift.csv"
    args = ["ingest", str(src), "--format", "robyn", "--channels", "tv,social", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "no standard error" in result.output
    result = runner.invoke(app, [*args, "--relative-se", "0.1"])
    assert result.exit_code == 1
    assert "1 accepted, 1 rejected" in result.output and "unknown channel 'radio'" in result.output
    table = pd.read_csv(out)
    assert table["channel"].tolist() == ["tv"] and table.loc[0, "sigma"] == 1200.0
    result = runner.invoke(app, ["ingest", str(src), "--format", "excel", "--out", str(out)])
    assert result.exit_code == 1 and "robyn" in result.output


def test_cache_shows_and_clears_the_store_of_compiled_models(tmp_path, monkeypatch):
    monkeypatch.setenv("MMMCAL_COMPILE_CACHE", str(tmp_path))
    entry = tmp_path / ("ab" * 32)  # stored models are folders named by their fingerprint
    entry.mkdir()
    (entry / "meta.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("not ours")
    shown = runner.invoke(app, ["cache"])
    assert shown.exit_code == 0 and "1 compiled model(s)" in shown.output
    cleared = runner.invoke(app, ["cache", "--clear"])
    assert (
        "Deleted 1 compiled model(s)" in cleared.output and "0 compiled model(s)" in cleared.output
    )
    assert not entry.exists() and (tmp_path / "notes.txt").exists()
    monkeypatch.setenv("MMMCAL_COMPILE_CACHE", "off")
    assert "off" in runner.invoke(app, ["cache"]).output
