import os
import shutil
import tempfile

import pytest

from mmmcal.experiments.conversion_lift import LiftTestDesign, conversion_lift_test
from mmmcal.models.bayes import CalibratedMMM, SamplerConfig
from mmmcal.models.spec import ModelSpec
from mmmcal.world.presets import get_preset
from mmmcal.world.simulate import simulate


def pytest_configure(config):
    """Compiled models go to a store of this session (shared with the CLI and notebook
    subprocesses it starts), not to the user's cache."""
    if "MMMCAL_COMPILE_CACHE" not in os.environ:
        config._compiled_store = tempfile.mkdtemp(prefix="mmmcal-compiled-")
        os.environ["MMMCAL_COMPILE_CACHE"] = config._compiled_store


def pytest_unconfigure(config):
    store = getattr(config, "_compiled_store", None)
    if store:
        shutil.rmtree(store, ignore_errors=True)
        del os.environ["MMMCAL_COMPILE_CACHE"]


@pytest.fixture(scope="session")
def reference_world():
    return simulate(get_preset("reference"), seed=0)


@pytest.fixture(scope="session")
def geo_world():
    return simulate(get_preset("reference-geo"), seed=0)


TINY = SamplerConfig(draws=100, tune=300, chains=2, seed=1)


@pytest.fixture(scope="session")
def tiny_sampler():
    """The sampler settings of the session's tiny fits."""
    return TINY


@pytest.fixture(scope="session")
def small_world():
    return simulate(get_preset("reference").with_updates(n_periods=60), seed=2)


@pytest.fixture(scope="session")
def fits(small_world):
    spec = ModelSpec.for_world(small_world, yearly_seasonality=None)
    lift = conversion_lift_test(
        small_world, LiftTestDesign(channel="tv", n_periods=8, switch_on=True), 0
    )
    # A lift far below the truth: calibration must pull TV's contribution down toward it.
    lift = lift.assign(delta_y=lift["true_delta_y"] * 0.3, sigma=lift["true_delta_y"] * 0.01)
    uncal = CalibratedMMM(spec, None, sampler=TINY, name="uncalibrated").fit(small_world.data)
    cal = CalibratedMMM(spec, lift, sampler=TINY, name="calibrated").fit(small_world.data)
    return uncal, cal, lift
