"""Fit directories: one fit's files only, swapped in whole, never over other folders."""

import json

import pytest

from mmmcal.evaluate.scorecard import Scorecard
from mmmcal.experiments.conversion_lift import LiftTestDesign, conversion_lift_test
from mmmcal.models.engines import load_fit, make_engine
from mmmcal.models.fit_dir import read_fit_dir, write_fit_dir
from mmmcal.models.spec import ModelSpec
from mmmcal.world.presets import get_preset
from mmmcal.world.simulate import simulate

FAST = {"budget": 30, "n_bootstrap": 20}


@pytest.fixture(scope="module")
def world():
    return simulate(get_preset("reference").with_updates(n_periods=60), seed=1)


@pytest.fixture(scope="module")
def spec(world):
    return ModelSpec.for_world(world, yearly_seasonality=None)


def _write(out, spec, lift=None, write_model=None, **meta):
    return write_fit_dir(
        out,
        engine="ridge",
        name="m",
        spec=spec,
        lift=lift,
        meta=meta,
        problems=[],
        write_model=write_model or (lambda path: path.write_text("model")),
    )


def test_an_uncalibrated_fit_saved_over_a_calibrated_one_is_uncalibrated(world, spec, tmp_path):
    lift = conversion_lift_test(world, LiftTestDesign(channel="tv", n_periods=8, switch_on=True), 0)
    out = tmp_path / "fit"
    make_engine("ridge", spec, lift, name="ridge", **FAST).fit(world.data).save(out)
    assert (out / "lift.csv").exists()
    make_engine("ridge", spec, name="ridge", **FAST).fit(world.data).save(out)
    assert sorted(p.name for p in out.iterdir()) == ["fit.json", "model.nc", "spec.yaml"]
    loaded = load_fit(out)
    assert loaded.lift is None
    assert Scorecard.from_models([loaded]).models["ridge"].tested_channels == ()
    assert [p.name for p in tmp_path.iterdir()] == ["fit"]


def test_a_save_keeps_only_the_files_of_the_new_fit(spec, tmp_path):
    out = tmp_path / "fit"
    _write(out, spec, old=True)
    (out / "bootstrap.npz").write_text("left over")
    _write(out, spec)
    assert sorted(p.name for p in out.iterdir()) == ["fit.json", "model.nc", "spec.yaml"]
    saved = json.loads((out / "fit.json").read_text())
    assert saved == {"engine": "ridge", "name": "m", "status": "ok", "problems": []}


def test_an_interrupted_save_leaves_the_previous_fit(spec, tmp_path):
    out = tmp_path / "fit"
    _write(out, spec, first=True)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(path):
        path.write_text("half a model")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        _write(out, spec, write_model=broken)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["fit"]  # no staging folder left behind
    assert read_fit_dir(out, "ridge").meta == {"first": True}


def test_a_folder_that_is_not_a_fit_directory_is_not_replaced(spec, tmp_path):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("keep me")
    with pytest.raises(ValueError, match="is not empty and is not a fit directory"):
        _write(other, spec)
    assert [p.name for p in other.iterdir()] == ["todo.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file, not a fit directory"):
        _write(tmp_path / "file", spec)
    empty = tmp_path / "empty"
    empty.mkdir()
    _write(empty, spec)
    assert (empty / "fit.json").exists()


def test_reading_checks_the_engine(spec, tmp_path):
    _write(tmp_path / "fit", spec)
    with pytest.raises(ValueError, match="holds a 'ridge' fit, not 'bounded'"):
        read_fit_dir(tmp_path / "fit", "bounded")
    with pytest.raises(FileNotFoundError, match="no fit.json"):
        read_fit_dir(tmp_path, "ridge")
