import json
import subprocess
import sys
from typing import get_args

import pandas as pd
import pytest
from typer.testing import CliRunner

from mmmcal.cli import app
from mmmcal.experiments.geolift import GeoLiftDesign
from mmmcal.lift.ingest import INGEST_FORMAT_ALIASES, INGEST_FORMATS
from mmmcal.lift.windows import LikelihoodChoice
from mmmcal.models.engines import ENGINES
from mmmcal.models.lift_likelihood import LIFT_DISTRIBUTIONS
from mmmcal.models.spec import ModelSpec
from mmmcal.world.presets import get_preset

runner = CliRunner()
# Help and usage errors are drawn by rich at the terminal's width: wide enough for one line.
wide = CliRunner(env={"COLUMNS": "200"})


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
            "--n-periods",
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
    result = runner.invoke(app, ["simulate", "--scenario", str(scenario), "--out", str(world)])
    assert result.exit_code == 0, result.output
    assert "52 rows" in result.output and (world / "data.csv").exists()
    result = runner.invoke(
        app,
        [
            "lift-test",
            "--world",
            str(world),
            "--channel",
            "tv",
            "--switch-on",
            "--n-periods",
            "4",
            "--out",
            str(tmp_path / "lift.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "lift.csv").loc[0, "n_periods"] == 4
    spec = tmp_path / "model.yaml"
    spec.write_text(
        ModelSpec.from_dict(
            {
                "channel_columns": ["tv", "social", "search"],
                "control_columns": ["demand_proxy"],
                "yearly_seasonality": None,
                "spend_factor": "auto",
            }
        ).to_yaml()
    )
    fit_args = [
        "fit",
        "--data",
        str(world / "data.csv"),
        "--model",
        str(spec),
        "--lift",
        str(tmp_path / "lift.csv"),
        "--out",
        str(tmp_path / "fit"),
    ]
    result = runner.invoke(app, [*fit_args, "--draws", "50", "--tune", "300", "--chains", "1"])
    assert result.exit_code == 0, result.output
    assert "divergences" in result.output
    assert "spend_factor auto: added (the channels' log spend correlates 0." in result.output
    assert ModelSpec.from_yaml(tmp_path / "fit" / "spec.yaml").spend_factor is True
    # One chain has no R-hat: the fit fails its checks, is saved with that status, and
    # score shows FAIL and refuses to write a scorecard unless told --allow-unhealthy.
    assert "FAIL (R-hat is undefined" in result.output
    saved = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert saved["status"] == "fail" and "R-hat is undefined" in saved["problems"][0]
    score_args = [
        "score",
        "--fit",
        str(tmp_path / "fit"),
        "--truth",
        str(world / "truth.json"),
        "--out",
        str(tmp_path / "scorecard.json"),
    ]
    result = runner.invoke(app, score_args)
    assert result.exit_code == 1
    assert "fit FAIL" in result.output and "failed the fit checks" in result.output
    assert "--allow-unhealthy" in result.output and not (tmp_path / "scorecard.json").exists()
    result = runner.invoke(app, [*score_args, "--allow-unhealthy"])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "scorecard.json").read_text())
    assert set(card["models"]["fit"]["channels"]) == {"tv", "social", "search"}
    assert card["models"]["fit"]["status"] == "fail"
    # Fitting onto the existing fit needs --overwrite; refused before the data are read.
    result = runner.invoke(app, fit_args)
    assert result.exit_code == 1 and "already holds a fit; pass --overwrite" in result.output


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
    # An --out folder that holds other files is refused before anything is fitted.
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("keep me")
    args = ["fit", "--data", str(tmp_path / "d.csv"), "--model", str(spec), "--out", str(other)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "is not empty and is not a fit directory" in result.output
    assert "lacks column" not in result.output  # refused before the data were even read
    assert sorted(p.name for p in other.iterdir()) == ["todo.txt"]


@pytest.mark.slow
def test_demo_fast_runs_end_to_end(tmp_path):
    result = runner.invoke(app, ["demo", "--fast", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "demo" / "scorecard.json").read_text())
    assert set(card["models"]) == {"uncalibrated", "calibrated", "calibrated_all"}
    assert card["models"]["calibrated_all"]["tested_channels"] == ["tv", "social", "search"]
    assert "What to trust" in result.output and card["trust"]["uncalibrated"] == "uncalibrated"
    # Even a smoke run shows the problem: the uncalibrated model over-credits TV.
    tv = card["models"]["uncalibrated"]["channels"]["tv"]
    assert tv["share_mean"] > tv["true_share"] + 0.05
    # Where the seconds went: every phase, each fit's parts, adding up to no more than the total.
    times = json.loads((tmp_path / "demo" / "timings.json").read_text())
    assert set(times["fits"]) == set(card["models"])
    for name, parts in times["fits"].items():
        assert parts["sample_s"] > 0 and parts["build_and_checks_s"] >= 0
        assert parts["compiled_model"] in {"compiled", "disk", "memory"}
        measured = parts["compile_s"] + parts["sample_s"] + parts["deterministics_s"]
        assert measured + parts["build_and_checks_s"] == pytest.approx(
            times[f"fit_{name}_s"], abs=0.05
        )
    phases = sum(v for k, v in times.items() if k.endswith("_s") and k != "total_s")
    assert 0 < phases <= times["total_s"]
    assert f"demo took {times['total_s']:.0f}s" in result.output.replace("\n", " ")


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
    result = wide.invoke(app, ["ingest", str(src), "--format", "excel", "--out", str(out)])
    assert result.exit_code == 2 and "'robyn'" in result.output


def test_cache_shows_and_clears_the_store_of_compiled_models(tmp_path, monkeypatch):
    monkeypatch.setenv("MMMCAL_COMPILE_CACHE", str(tmp_path))
    entry = tmp_path / ("ab" * 32)  # stored models are folders named by their fingerprint
    entry.mkdir()
    (entry / "meta.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("not ours")
    shown = runner.invoke(app, ["cache"])
    assert shown.exit_code == 0 and "1 compiled model(s)" in shown.output
    cleared = runner.invoke(app, ["cache", "--clear"])
    assert cleared.exit_code == 0
    assert (
        "Deleted 1 compiled model(s)" in cleared.output and "0 compiled model(s)" in cleared.output
    )
    assert not entry.exists() and (tmp_path / "notes.txt").exists()
    monkeypatch.setenv("MMMCAL_COMPILE_CACHE", "off")
    off = runner.invoke(app, ["cache"])
    assert off.exit_code == 0 and "off" in off.output


GEOLIFT_DESIGN = GeoLiftDesign.model_fields
# (command and its required options, option, the API's allowed values)
CHOICES = [
    (["fit", "--data", "d.csv", "--model", "m.yaml", "--out", "f"], "--engine", ENGINES),
    (
        ["fit", "--data", "d.csv", "--model", "m.yaml", "--out", "f"],
        "--likelihood",
        get_args(LikelihoodChoice),
    ),
    (
        ["fit", "--data", "d.csv", "--model", "m.yaml", "--out", "f"],
        "--lift-dist",
        LIFT_DISTRIBUTIONS,
    ),
    (["ingest", "results.csv"], "--format", (*INGEST_FORMATS, *INGEST_FORMAT_ALIASES)),
    (
        ["geolift", "--world", "w", "--channel", "tv"],
        "--design",
        get_args(GEOLIFT_DESIGN["design"].annotation),
    ),
    (
        ["geolift", "--world", "w", "--channel", "tv"],
        "--change",
        get_args(GEOLIFT_DESIGN["change"].annotation),
    ),
]


@pytest.mark.parametrize("args, option, allowed", CHOICES, ids=[c[1] for c in CHOICES])
def test_a_bad_choice_exits_2_listing_the_allowed_values(args, option, allowed):
    result = wide.invoke(app, [*args, option, "nope"])
    assert result.exit_code == 2
    listed = ", ".join(repr(v) for v in allowed)
    assert f"Invalid value for '{option}': 'nope' is not one of {listed}." in result.output


@pytest.mark.parametrize("args, option, allowed", CHOICES, ids=[c[1] for c in CHOICES])
def test_help_lists_the_choices(args, option, allowed):
    result = wide.invoke(app, [args[0], "--help"])
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if f" {option} " in line)
    assert f"<{'|'.join(allowed)}>" in line


COMMANDS = [
    ["scenarios"],
    ["simulate"],
    ["lift-test"],
    ["geolift"],
    ["ingest"],
    ["check-lift"],
    ["fit"],
    ["score"],
    ["report"],
    ["demo"],
    ["cache"],
    ["study"],
    ["study", "run"],
    ["study", "summarize"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command):
    result = wide.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert f"Usage: mmmcal {' '.join(command)} " in result.output


def test_options_fill_the_api_fields_of_their_name(tmp_path, monkeypatch):
    import mmmcal.experiments.geolift as geolift

    designs = []

    def fake_run_geolift(world, design, seed=0):
        designs.append(design)
        return pd.DataFrame({"channel": ["tv"], "delta_y": [1.0]})

    monkeypatch.setattr(geolift, "run_geolift", fake_run_geolift)
    monkeypatch.setattr("mmmcal.world.simulate.load_world", lambda path: None)
    args = ["--world", "w", "--channel", "tv", "--n-treated", "3", "--n-periods", "5"]
    result = runner.invoke(
        app,
        [
            "geolift",
            *args,
            "--design",
            "matched",
            "--change",
            "go_dark",
            "--out",
            str(tmp_path / "g.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Geo-lift rows" in result.output and (tmp_path / "g.csv").exists()
    assert designs == [
        GeoLiftDesign(channel="tv", n_treated=3, n_periods=5, design="matched", change="go_dark")
    ]
    assert type(designs[0].change) is str  # the plain value, not the command line's Enum


def test_pymc_marketing_is_a_format_name_for_mmmcal_tables(tmp_path):
    table = tmp_path / "lift.csv"
    pd.DataFrame(
        {"channel": ["tv"], "x": [100.0], "delta_x": [50.0], "delta_y": [20.0], "sigma": [2.0]}
    ).to_csv(table, index=False)
    out = tmp_path / "out.csv"
    args = [
        "ingest",
        str(table),
        "--format",
        "pymc-marketing",
        "--channels",
        "tv",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 accepted, 0 rejected" in result.output
    assert pd.read_csv(out)["delta_y"].tolist() == [20.0]


def test_help_loads_neither_the_modelling_stack_nor_pandas():
    heavy = (
        "pymc", "pymc_marketing", "pytensor", "causalpy", "nevergrad", "arviz", "pandas",
        "scipy", "xarray", "matplotlib",
    )  # fmt: skip
    code = (
        "import sys\n"
        "from mmmcal.cli import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage:" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


# --------------------------------------------- check-lift and ingest run fit's lift contract
@pytest.fixture(scope="module")
def lift_world(tmp_path_factory):
    """A small simulated world's data.csv, a model spec, and one good tv lift row."""
    from mmmcal.world.simulate import simulate

    out = tmp_path_factory.mktemp("lift_world")
    world = simulate(get_preset("reference").with_updates(n_periods=52), seed=0)
    world.save(out)
    (out / "model.yaml").write_text(ModelSpec.for_world(world, yearly_seasonality=None).to_yaml())
    dates = world.data["date"].dt.strftime("%Y-%m-%d")
    good = {
        "channel": "tv",
        "x": 0.0,
        "delta_x": float(world.data["tv"].mean()),
        "delta_y": float(world.data["sales"].max() / 20),
        "sigma": float(world.data["sales"].max() / 100),
        "date_start": dates.iloc[10],
        "date_end": dates.iloc[13],
        "n_periods": 4,
    }
    return {"dir": out, "world": world, "good": good}


def write_lift(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def check(lift_world, lift, *options):
    data, model = str(lift_world["dir"] / "data.csv"), str(lift_world["dir"] / "model.yaml")
    given = {"data": ["--data", data], "model": ["--model", model], "target": ["--target", "sales"]}
    return runner.invoke(app, ["check-lift", lift, *(a for o in options for a in given[o])])


def test_check_lift_and_fit_refuse_a_table_without_rows(lift_world, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("channel,x,delta_x,delta_y,sigma\n")
    for options in ((), ("data",), ("data", "model")):
        result = check(lift_world, str(empty), *options)
        assert result.exit_code == 1, result.output
        assert "The lift table has no rows; add tests, or drop --lift" in result.output
        assert "0 accepted" not in result.output
    w = lift_world["dir"]
    for engine in ("bayes", "ridge"):
        result = runner.invoke(
            app,
            [
                "fit",
                *("--data", str(w / "data.csv"), "--model", str(w / "model.yaml")),
                *("--lift", str(empty), "--out", str(tmp_path / engine), "--engine", engine),
            ],
        )
        assert result.exit_code == 1 and "The lift table has no rows" in result.output
        assert not (tmp_path / engine / "fit.json").exists()  # nothing saved, uncalibrated or not


def test_check_lift_with_data_checks_channels_against_its_numeric_columns(lift_world, tmp_path):
    good = lift_world["good"]
    rows = [good, {**good, "channel": "radio"}, {**good, "channel": "TV", "date_start": "x"}]
    rows.append({**good, "channel": "[red]tv"})  # printed as it is, never as markup
    lift = write_lift(tmp_path / "lift.csv", rows)
    result = check(lift_world, lift, "data")
    assert result.exit_code == 1
    assert "1 accepted, 3 rejected" in result.output
    assert "unknown channel '[red]tv'" in result.output
    assert "unknown channel 'radio'" in result.output
    assert "unknown channel 'TV'" in result.output and "did you mean 'tv'?" in result.output
    date_row = write_lift(tmp_path / "date.csv", [{**good, "channel": "date"}])
    result = check(lift_world, date_row, "data")
    assert result.exit_code == 1 and "unknown channel 'date'" in result.output
    assert check(lift_world, write_lift(tmp_path / "ok.csv", [good]), "data").exit_code == 0


def test_check_lift_with_the_model_runs_fits_checks(lift_world, tmp_path):
    good = lift_world["good"]
    # demand_proxy is a numeric column of the data but no channel of the model.
    lift = write_lift(tmp_path / "lift.csv", [good, {**good, "channel": "demand_proxy"}])
    assert check(lift_world, lift, "data").exit_code == 0
    result = check(lift_world, lift, "data", "model")
    assert result.exit_code == 1 and "unknown channel 'demand_proxy'" in result.output
    wrong = write_lift(tmp_path / "n.csv", [{**good, "n_periods": 6}])
    result = check(lift_world, wrong, "data", "model")
    assert result.exit_code == 1
    assert "n_periods: is 6 but" in result.output and "spans 4 model periods" in result.output
    # fit refuses the same table before sampling, with the same words.
    from mmmcal.lift.problems import LiftTableError
    from mmmcal.models.bayes import CalibratedMMM

    spec = ModelSpec.from_yaml(lift_world["dir"] / "model.yaml")
    with pytest.raises(LiftTableError, match="is 6 but .* spans 4 model periods"):
        CalibratedMMM(spec, pd.read_csv(wrong)).build(lift_world["world"].data)
    both = runner.invoke(app, ["check-lift", lift, "--model", "m.yaml", "--channels", "tv"])
    assert both.exit_code == 1 and "--channels and --model both name the channels" in both.output


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"delta_y": 1e308}, "delta_y", "is beyond 1e+15"),
        ({"delta_y": 1e7}, "delta_y", "larger than the whole target"),
        ({"aggregation": "sum", "delta_y": 1e7}, "delta_y", "over the 4 measured periods"),
        ({"sigma": 1e8}, "sigma", "more than 10x the target's largest value"),
        ({"x": 1e9}, "x", "more than 10x the largest spend per period of channel 'tv'"),
        ({"delta_x": 1e9}, "delta_x", "currency, not cents"),
    ],
)
def test_check_lift_refuses_values_off_the_data_scale(lift_world, tmp_path, change, field, words):
    lift = write_lift(tmp_path / "lift.csv", [{**lift_world["good"], **change}])
    for options in (("data", "target"), ("data", "model")):
        result = check(lift_world, lift, *options)
        assert result.exit_code == 1, result.output
        assert f"{field}: " in result.output and words in result.output
    if field == "delta_y" and "aggregation" not in change and change["delta_y"] < 1e15:
        assert check(lift_world, lift).exit_code == 0  # without data: magnitude only
        assert check(lift_world, lift, "data").exit_code == 0  # no target: its scale unknown


def test_ingest_with_the_model_refuses_case_changed_channels(lift_world, tmp_path):
    dates = lift_world["good"]
    src = tmp_path / "robyn.csv"
    pd.DataFrame(
        {
            "channel": ["TV", "search"],
            "liftStartDate": [dates["date_start"], dates["date_start"]],
            "liftEndDate": [dates["date_end"], dates["date_end"]],
            "liftAbs": [2000.0, 500.0],
            "spend": [40000.0, 8000.0],
            "confidence": [0.9, 0.9],
            "calibration_scope": ["immediate", "immediate"],
            "liftSE": [200.0, 50.0],
        }
    ).to_csv(src, index=False)
    w = lift_world["dir"]
    out = tmp_path / "lift.csv"
    args = ["ingest", str(src), "--format", "robyn", "--out", str(out)]
    result = runner.invoke(
        app, [*args, "--data", str(w / "data.csv"), "--model", str(w / "model.yaml")]
    )
    assert result.exit_code == 1, result.output
    assert "1 accepted, 1 rejected" in result.output
    assert "unknown channel 'TV'" in result.output and "did you mean 'tv'?" in result.output
    assert pd.read_csv(out)["channel"].tolist() == ["search"]
    empty = tmp_path / "empty.csv"
    pd.read_csv(src).iloc[:0].to_csv(empty, index=False)
    result = runner.invoke(app, ["ingest", str(empty), "--format", "robyn", "--out", str(out)])
    assert result.exit_code == 1 and "The lift table has no rows" in result.output


def test_score_shows_what_to_trust_on_the_stored_fits(tmp_path):
    from pathlib import Path

    fits = Path(__file__).parent / "data" / "fits"
    out = tmp_path / "scorecard.json"
    args = ["score", "--fit", str(fits / "uncalibrated"), "--fit", str(fits / "calibrated")]
    result = runner.invoke(app, [*args, "--out", str(out), "--allow-unhealthy"])
    assert result.exit_code == 0, result.output
    assert "What to trust" in result.output and "confounding" in result.output
    assert "lift test: tv" in result.output and "REVIEW" in result.output
    doc = json.loads(out.read_text())
    assert "decision" not in doc  # only with --decide
    trust = doc["trust"]
    assert trust["uncalibrated"] == "uncalibrated"
    tv = next(r for r in trust["rows"] if r["model"] == "calibrated" and r["channel"] == "tv")
    assert tv["tested"] and tv["confounding"] > 1
    assert {c["name"] for c in trust["checks"]} >= {"baseline share", "lift test: tv"}
    seen = next(c for c in trust["checks"] if c["model"] == "uncalibrated" and "tv" in c["name"])
    assert seen["status"] == "REVIEW" and "over-credits tv" in seen["message"]
