import pytest
import yaml

from mmmcal.world.presets import get_preset, load_scenario, preset_names
from mmmcal.world.scenario import Scenario, ScenarioError


@pytest.mark.parametrize("name", preset_names())
def test_presets_round_trip_yaml(name):
    scenario = get_preset(name)
    again = Scenario.from_yaml(scenario.to_yaml())
    assert again == scenario
    assert again.to_yaml() == scenario.to_yaml()


def test_required_presets_exist_and_contrast():
    names = preset_names()
    assert {"reference", "reference-geo"} <= set(names)
    slow = get_preset("slow-tv").channel("tv").adstock
    assert slow.alpha >= 0.8
    weak = get_preset("weak-confounding").channel("tv").spend.demand_elasticity
    assert weak < get_preset("reference").channel("tv").spend.demand_elasticity
    assert get_preset("reference-geo").geo.n_geos >= 30


def test_scenario_file_loads(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(get_preset("slow-tv").to_yaml())
    assert load_scenario(path) == get_preset("slow-tv")


def _bad(mutate):
    data = get_preset("reference").to_dict()
    mutate(data)
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data)
    return str(info.value)


def test_unknown_adstock_family_names_field_and_allowed_values():
    msg = _bad(lambda d: d["channels"][0]["adstock"].update(family="geometrc"))
    assert "channels.0.adstock" in msg
    assert "'geometrc'" in msg and "geometric" in msg and "weibull" in msg


def test_out_of_range_parameter_names_field():
    msg = _bad(lambda d: d["channels"][1]["adstock"].update(alpha=1.5))
    assert "channels.1.adstock.geometric.alpha" in msg


def test_unknown_field_is_rejected():
    msg = _bad(lambda d: d["demand"].update(levle=3))
    assert "demand.levle" in msg and "unknown field" in msg


def test_duplicate_and_reserved_channel_names():
    msg = _bad(lambda d: d["channels"][1].update(name="tv"))
    assert "repeated: ['tv']" in msg
    msg = _bad(lambda d: d["channels"][1].update(name="sales"))
    assert "clash with reserved" in msg


def test_bad_date_and_unknown_preset():
    assert "ISO date" in _bad(lambda d: d.update(start_date="Jan 3rd"))
    with pytest.raises(ScenarioError, match="must be one of"):
        get_preset("referense")


def test_yaml_must_be_mapping():
    with pytest.raises(ScenarioError, match="mapping"):
        Scenario.from_yaml(yaml.safe_dump([1, 2]))


def _shares(world):
    return {k: v["share"] for k, v in world.truth_dict()["channels"].items()}


@pytest.mark.parametrize("name", ["hill-tv", "hill-all", "weibull-tv", "noisy-proxy"])
def test_misspecified_presets_keep_the_reference_shares(name):
    from mmmcal.world.simulate import simulate

    for seed in (0, 1):
        reference = _shares(simulate(get_preset("reference"), seed))
        assert _shares(simulate(get_preset(name), seed)) == pytest.approx(reference, abs=0.01)


def test_hill_all_has_convex_responses_that_no_logistic_curve_has():
    from mmmcal.world.simulate import simulate

    def marginal_over_average(name):
        channels = simulate(get_preset(name), 0).truth_dict()["channels"]
        return {c: v["mroas"] / v["roas"] for c, v in channels.items()}

    assert max(marginal_over_average("reference").values()) < 1  # concave: mROAS < ROAS
    hill = marginal_over_average("hill-all")
    assert sum(ratio > 1 for ratio in hill.values()) >= 2
    assert {c.saturation.family for c in get_preset("hill-all").channels} == {"hill"}


def test_weibull_tv_peaks_after_airing():
    from mmmcal.world.scenario import adstock_weights

    weights = adstock_weights(get_preset("weibull-tv").channel("tv").adstock)
    assert weights.argmax() >= 1 and weights[0] < weights.max() / 1.2


def test_proxy_quality_and_single_channel_confounding():
    import numpy as np

    from mmmcal.world.simulate import simulate

    def proxy_corr(name):
        world = simulate(get_preset(name), 0)
        return np.corrcoef(world.data["demand_proxy"], world.truth.demand)[0, 1]

    assert proxy_corr("noisy-proxy") < proxy_corr("reference") - 0.1
    world = simulate(get_preset("tv-only-confounded"), 0)
    demand = np.log(world.truth.demand.to_numpy())
    corr = {c: np.corrcoef(np.log(world.data[c]), demand)[0, 1] for c in ("tv", "social", "search")}
    assert corr["tv"] > 0.8 and max(corr["social"], corr["search"]) < 0.3
