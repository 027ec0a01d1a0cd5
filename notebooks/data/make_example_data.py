"""Make the example data set of ``03_bring_your_own_data.ipynb`` (run once; outputs committed).

Simulates the ``reference`` world with seed 7 and writes it as if it were a user's own data:

* ``weekly_sales.csv``: ``week, revenue, tv, social, search, demand_index`` (the simulator's
  ``date, sales, ..., demand_proxy`` renamed), one row per week.
* ``lift_results.csv``: a geo-lift-summary style file (mmmcal's ``geolift`` ingest format)
  with one TV test: an 8-week switch-on conversion-lift test of that world, reported as
  lift per period with a 90% interval (``lift +- 1.645 sigma``).

    .venv/bin/python notebooks/data/make_example_data.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import mmmcal

SEED = 7
HERE = Path(__file__).resolve().parent
Z_90 = 1.645


def main() -> None:
    """Write weekly_sales.csv and lift_results.csv next to this script."""
    world = mmmcal.simulate(mmmcal.get_preset("reference"), seed=SEED)
    data = world.data.rename(
        columns={"date": "week", "sales": "revenue", "demand_proxy": "demand_index"}
    )
    data = data[["week", "revenue", "tv", "social", "search", "demand_index"]].copy()
    data["week"] = data["week"].dt.strftime("%Y-%m-%d")
    data.round(2).to_csv(HERE / "weekly_sales.csv", index=False)

    design = mmmcal.LiftTestDesign(channel="tv", n_periods=8, switch_on=True)
    row = mmmcal.conversion_lift_test(world, design, seed=SEED).iloc[0]
    lift = pd.DataFrame(
        [
            {
                "channel": row["channel"],
                "date_start": row["date_start"],
                "date_end": row["date_end"],
                "lift": row["delta_y"],
                "lift_lower": row["delta_y"] - Z_90 * row["sigma"],
                "lift_upper": row["delta_y"] + Z_90 * row["sigma"],
                "ci_level": 0.9,
                "lift_unit": "per_period",
                "spend_before": row["x"],
                "spend_change": row["delta_x"],
                "spend_unit": "per_period",
            }
        ]
    )
    lift.round(2).to_csv(HERE / "lift_results.csv", index=False)
    print(f"wrote {HERE / 'weekly_sales.csv'} ({len(data)} weeks) and {HERE / 'lift_results.csv'}")


if __name__ == "__main__":
    main()
