import json

import pandas as pd
from typer.testing import CliRunner

from mmmcal.cli import app

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
