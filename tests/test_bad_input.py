"""Bad files and names through the command line: one message naming the file, the place and the
fix, exit 1, no traceback; user strings are printed as they are, never read as markup."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mmmcal.cli import app
from mmmcal.models.spec import ModelSpec, ModelSpecError

runner = CliRunner()
FITS = Path(__file__).resolve().parent / "data" / "fits"
LIFT_ROW = "channel,x,delta_x,delta_y,sigma\ntv,100,50,20,5\n"


def _error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "Error: " in result.output
    return result.output


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text(ModelSpec.from_dict({"channel_columns": ["tv"]}).to_yaml())
    return path


def test_an_empty_lift_file_is_named_with_the_fix(tmp_path):
    (tmp_path / "lift.csv").write_text("")
    out = _error(runner.invoke(app, ["check-lift", str(tmp_path / "lift.csv")]))
    assert "lift table" in out and "lift.csv" in out and "is empty" in out
    assert "header row" in out


def test_an_unclosed_quote_is_named_with_the_fix(tmp_path):
    (tmp_path / "lift.csv").write_text(LIFT_ROW + '"tv,1,2,3,4\nsocial,1,2,3,4\n')
    out = _error(runner.invoke(app, ["check-lift", str(tmp_path / "lift.csv")]))
    assert "is not valid CSV" in out and "unclosed quote" in out


def test_a_folder_given_as_a_file_is_named(tmp_path):
    out = _error(runner.invoke(app, ["check-lift", str(tmp_path)]))
    assert "is a folder" in out


@pytest.mark.parametrize("name", ["[red]tv", "[bold]", "[italic]x"])
def test_markup_in_a_name_is_printed_as_it_is(tmp_path, spec_file, name):
    spec_file.write_text(ModelSpec.from_dict({"channel_columns": [name]}).to_yaml())
    pd.DataFrame({"date": ["2024-01-01"], "sales": [1.0]}).to_csv(tmp_path / "d.csv", index=False)
    args = ["fit", "--data", str(tmp_path / "d.csv"), "--model", str(spec_file)]
    out = _error(runner.invoke(app, [*args, "--out", str(tmp_path / "f")]))
    assert f"'{name}'" in out and "lacks column" in out


def test_markup_in_a_lift_row_is_printed_as_it_is(tmp_path):
    (tmp_path / "lift.csv").write_text(LIFT_ROW.replace("tv,", "[red]tv,", 1))
    result = runner.invoke(app, ["check-lift", str(tmp_path / "lift.csv"), "--channels", "tv"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "[red]tv" in result.output


def test_malformed_yaml_names_the_line(tmp_path, spec_file):
    spec_file.write_text("channel_columns: [tv\nadstock: {family: geometric}\n")
    args = ["fit", "--data", "d.csv", "--model", str(spec_file), "--out", str(tmp_path / "f")]
    out = _error(runner.invoke(app, args))
    assert "model spec" in out and "is not valid YAML at line" in out


def test_an_empty_model_spec_is_named(tmp_path, spec_file):
    spec_file.write_text("")
    args = ["fit", "--data", "d.csv", "--model", str(spec_file), "--out", str(tmp_path / "f")]
    out = _error(runner.invoke(app, args))
    assert "model spec" in out and "is empty" in out and "IsADirectoryError" not in out


def test_a_model_spec_that_is_not_a_mapping_is_named():
    with pytest.raises(ModelSpecError, match="must be a YAML mapping"):
        ModelSpec.from_yaml("- tv\n- social\n")


def test_a_malformed_study_file_names_the_line(tmp_path):
    (tmp_path / "study.yaml").write_text("name: s\nscenarios:\n  - reference\n bad: [\n")
    out = _error(
        runner.invoke(app, ["study", "run", str(tmp_path / "study.yaml"), "--out", str(tmp_path)])
    )
    assert "study file" in out and "not valid YAML at line" in out


def test_an_unexpected_exception_is_one_sentence_asking_for_a_report(tmp_path, monkeypatch):
    import mmmcal.world.presets as presets

    def broken(name):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(presets, "load_scenario", broken)
    out = _error(runner.invoke(app, ["simulate", "--scenario", "x", "--out", str(tmp_path)]))
    assert "unexpected ZeroDivisionError: boom" in out and "--debug" in out


def _fit_copy(tmp_path, name="calibrated") -> Path:
    out = tmp_path / name
    shutil.copytree(FITS / name, out)
    return out


def test_score_refuses_a_truncated_model_file(tmp_path):
    fit = _fit_copy(tmp_path)
    model = fit / "model.nc"
    model.write_bytes(model.read_bytes()[:5000])
    out = _error(runner.invoke(app, ["score", "--fit", str(fit), "--allow-unhealthy"]))
    assert "model.nc cannot be read" in out and "fit again" in out
    assert "AttributeError" not in out


def test_score_refuses_an_incomplete_or_foreign_directory(tmp_path):
    fit = _fit_copy(tmp_path)
    (fit / "spec.yaml").unlink()
    out = _error(runner.invoke(app, ["score", "--fit", str(fit)]))
    assert "incomplete fit directory (no spec.yaml)" in out
    (fit / "fit.json").write_text("{not json")
    out = _error(runner.invoke(app, ["report", "--fit", str(fit)]))
    assert "fit.json is damaged" in out
    out = _error(runner.invoke(app, ["score", "--fit", str(tmp_path)]))
    assert "is not a fit directory" in out


def test_a_fit_saved_without_its_fit_data_is_refused(tmp_path):
    import arviz as az

    fit = _fit_copy(tmp_path)
    idata = az.from_netcdf(fit / "model.nc")
    idata.load()
    del idata.fit_data
    (fit / "model.nc").unlink()
    idata.to_netcdf(fit / "model.nc")
    out = _error(runner.invoke(app, ["score", "--fit", str(fit)]))
    assert "fit directory" in out and "AttributeError" not in out


def test_an_unhealthy_fit_is_flagged_in_the_report(tmp_path):
    fit = _fit_copy(tmp_path)
    result = runner.invoke(app, ["report", "--fit", str(fit), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    assert "FAIL</span> <b>calibrated</b> failed its checks" in page
    assert "max R-hat 1.124 &gt; 1.01" in page and "calibrated (FAIL): share" in page


def test_a_truth_file_that_is_not_a_truth_is_named(tmp_path):
    fit = _fit_copy(tmp_path)
    (tmp_path / "truth.json").write_text(json.dumps({"shares": []}))
    args = ["score", "--fit", str(fit), "--truth", str(tmp_path / "truth.json")]
    out = _error(runner.invoke(app, args))
    assert "not a world's truth.json" in out
