import pytest

from mmmcal.scenario import get_preset
from mmmcal.simulate import simulate


@pytest.fixture(scope="session")
def reference_world():
    return simulate(get_preset("reference"), seed=0)


@pytest.fixture(scope="session")
def geo_world():
    return simulate(get_preset("reference-geo"), seed=0)
