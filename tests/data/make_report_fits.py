"""Write the small stored fits that ``tests/test_report.py`` loads instead of sampling.

Two Bayesian fits of the 60-week reference world (``get_preset("reference")`` with
``n_periods=60``, seed 2), the same world and lift test as the ``fits`` fixture in
``tests/conftest.py``, with just enough draws for the report (2 chains x 50 draws):

- ``fits/uncalibrated``: no lift test;
- ``fits/calibrated``: one 8-week switch-on TV test whose reported lift is 30% of the truth
  (sigma 1% of the truth), so calibration visibly pulls TV's contribution down.

Run again whenever the stored fits no longer load (pymc-marketing, PyMC or ArviZ changed)
or the simulator changed the world::

    .venv/bin/python tests/data/make_report_fits.py

Each directory is what ``CalibratedMMM.save`` writes (``model.nc``, ``spec.yaml``,
``fit.json``, ``lift.csv``), slimmed by :func:`slim` to about 300 KiB a fit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mmmcal.experiments.conversion_lift import LiftTestDesign, conversion_lift_test
from mmmcal.models.bayes import CalibratedMMM, SamplerConfig
from mmmcal.models.spec import ModelSpec
from mmmcal.world.presets import get_preset
from mmmcal.world.simulate import simulate

FITS = Path(__file__).resolve().parent / "fits"
SAMPLER = SamplerConfig(draws=50, tune=300, chains=2, seed=1, adaptation="diag")


def slim(model: CalibratedMMM) -> None:
    """Keep what the report reads, in fewer bytes.

    The posterior's per-date draws (contributions) become float32, and the sampler
    statistics are dropped (the report reads the diagnostics from ``fit.json``).
    """
    posterior = model.idata_.posterior
    for name in [v for v in posterior.data_vars if "date" in posterior[v].dims]:
        posterior[name] = posterior[name].astype("float32")
    del model.idata_.sample_stats


def main() -> None:
    world = simulate(get_preset("reference").with_updates(n_periods=60), seed=2)
    spec = ModelSpec.for_world(world, yearly_seasonality=None)
    lift = conversion_lift_test(world, LiftTestDesign(channel="tv", n_periods=8, switch_on=True), 0)
    lift = lift.assign(delta_y=lift["true_delta_y"] * 0.3, sigma=lift["true_delta_y"] * 0.01)
    for name, table in (("uncalibrated", None), ("calibrated", lift)):
        model = CalibratedMMM(spec, table, sampler=SAMPLER, name=name).fit(world.data)
        out = FITS / name
        shutil.rmtree(out, ignore_errors=True)
        slim(model)
        model.save(out)
        size = sum(p.stat().st_size for p in out.iterdir())
        print(f"{out}: {size / 1024:.0f} KiB, {model.diagnostics_}")


if __name__ == "__main__":
    main()
