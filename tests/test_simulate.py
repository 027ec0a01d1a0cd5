import json

import numpy as np
import pandas as pd
import pytest

from mmmcal.world.presets import get_preset
from mmmcal.world.simulate import load_world, simulate

REFERENCE_SHARES = {"tv": 0.14, "social": 0.11, "search": 0.05}


def test_same_seed_gives_byte_identical_files(tmp_path):
    scenario = get_preset("reference")
    a = simulate(scenario, 3).save(tmp_path / "a")
    b = simulate(scenario, 3).save(tmp_path / "b")
    for name in ("data.csv", "truth.json", "scenario.yaml", "contributions.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    c = simulate(scenario, 4).save(tmp_path / "c")
    assert (a / "data.csv").read_bytes() != (c / "data.csv").read_bytes()


@pytest.mark.parametrize("preset", ["reference", "reference-geo", "hill-tv"])
def test_components_add_up_to_target(preset):
    world = simulate(get_preset(preset), 1)
    parts = world.truth.contributions[["baseline", "tv", "social", "search", "noise"]].sum(axis=1)
    np.testing.assert_allclose(parts.to_numpy(), world.data["sales"].to_numpy(), rtol=1e-12)
    truth = world.truth_dict()
    total_share = (
        truth["baseline"]["share"]
        + truth["noise"]["share"]
        + sum(c["share"] for c in truth["channels"].values())
    )
    assert total_share == pytest.approx(1.0, abs=1e-12)
    for name, c in truth["channels"].items():
        assert c["roas"] == pytest.approx(c["contribution_total"] / c["spend_total"])
        assert c["spend_total"] == pytest.approx(world.data[name].sum())


def test_reference_world_reproduces_published_facts(reference_world):
    truth = reference_world.truth_dict()
    assert truth["baseline"]["share"] == pytest.approx(0.70, abs=0.02)
    for channel, share in REFERENCE_SHARES.items():
        assert truth["channels"][channel]["share"] == pytest.approx(share, abs=0.02), channel
    data = reference_world.data
    assert data["sales"].mean() == pytest.approx(570, rel=0.05)
    assert data["tv"].mean() == pytest.approx(3988, rel=0.05)
    assert data["tv"].max() / data["tv"].mean() == pytest.approx(3.2, abs=0.3)
    scaled_mean = (data[["tv", "social", "search"]] / data[["tv", "social", "search"]].max()).mean()
    assert scaled_mean.between(0.25, 0.42).all()
    assert len(data) == 156 and list(data.columns) == [
        "date",
        "sales",
        "tv",
        "social",
        "search",
        "demand_proxy",
    ]


def test_spend_is_confounded_with_demand(reference_world):
    demand = reference_world.truth.demand.to_numpy()
    for channel in ("tv", "social", "search"):
        assert np.corrcoef(reference_world.data[channel], demand)[0, 1] > 0.7
    proxy = reference_world.data["demand_proxy"].to_numpy()
    assert 0.5 < np.corrcoef(proxy, demand)[0, 1] < 0.99  # informative but noisy
    weak = simulate(get_preset("weak-confounding"), 0)
    assert abs(np.corrcoef(weak.data["tv"], weak.truth.demand)[0, 1]) < 0.4


def test_geo_world_matches_reference_nationally(geo_world, reference_world):
    data = geo_world.data
    assert data["geo"].nunique() == 40
    sizes = data.groupby("geo")["sales"].sum()
    assert sizes.max() / sizes.min() > 5  # unequal geos
    national = geo_world.national_data()
    assert len(national) == 156
    ref = reference_world.data
    for col in ("sales", "tv", "social", "search"):
        assert national[col].mean() == pytest.approx(ref[col].mean(), rel=0.1), col
    g, r = geo_world.truth_dict(), reference_world.truth_dict()
    for channel in REFERENCE_SHARES:
        assert g["channels"][channel]["share"] == pytest.approx(
            r["channels"][channel]["share"], abs=0.02
        )
    assert set(g["channels"]["tv"]["params"]["spend_scale"]) == set(data["geo"].unique())


def test_truth_json_contract(tmp_path, reference_world):
    out = reference_world.save(tmp_path / "w")
    truth = json.loads((out / "truth.json").read_text())
    assert {"scenario", "seed", "target_total", "channels", "baseline"} <= set(truth)
    data = pd.read_csv(out / "data.csv")
    assert set(truth["channels"]) <= set(data.columns)
    for c in truth["channels"].values():
        assert {"spend_total", "contribution_total", "share", "roas", "params"} <= set(c)
        assert {"beta", "adstock", "saturation", "spend_scale"} <= set(c["params"])
    assert {"contribution_total", "share"} <= set(truth["baseline"])


def test_load_world_rebuilds_and_detects_edits(tmp_path, reference_world):
    out = reference_world.save(tmp_path / "w")
    loaded = load_world(out)
    pd.testing.assert_frame_equal(loaded.data, reference_world.data)
    data = pd.read_csv(out / "data.csv")
    data.loc[3, "sales"] += 1
    data.to_csv(out / "data.csv", index=False)
    with pytest.raises(ValueError, match="does not match"):
        load_world(out)
    with pytest.raises(FileNotFoundError, match="not a world directory"):
        load_world(tmp_path / "nowhere")


def test_seed_must_be_non_negative_int():
    with pytest.raises(ValueError, match="seed"):
        simulate(get_preset("reference"), -1)
