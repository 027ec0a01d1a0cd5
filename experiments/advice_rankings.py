"""Which ranking should advice use? The advice study's candidates re-ranked by each value.

Every uncalibrated cell of an advice study records each candidate's predicted values
(``value_share``, ``value_roas``, ``value_media_share``, ``value_regret``); this re-ranks them
by each in turn and scores the pick on the same fits (``mmmcal.study.advice``), per scenario
family and pooled. Prints one JSON line: ranking -> family -> metric -> [estimate, lo, hi, n].

    .venv/bin/python experiments/advice_rankings.py study_out/advice \
        --out experiments/advice/rankings.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

METRICS = (
    "advised_over_best",
    "beats_random",
    "beats_biggest_spender",
    "beats_channel_score",
    "rank_correlation",
    "advised_over_best_roas",
    "beats_random_regret",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study_dir")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    from mmmcal.options import ADVICE_RANKS
    from mmmcal.study.advice import advice_metrics
    from mmmcal.study.summary import load_cells

    cells = load_cells(args.study_dir)
    families = {"all": cells, **dict(tuple(cells.groupby("scenario", sort=False)))}
    result: dict = {}
    for rank_by in ADVICE_RANKS:
        result[rank_by] = {}
        for family, part in families.items():
            summary = advice_metrics(part, n_boot=1000, rank_by=rank_by).set_index("metric")
            result[rank_by][family] = {
                m: [round(float(v), 3) for v in summary.loc[m, ["estimate", "lo", "hi"]]]
                + [int(summary.loc[m, "n"])]
                for m in METRICS
                if m in summary.index
            }
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
