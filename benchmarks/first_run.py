"""Time to first result: the README's commands on a machine whose caches are empty.

The environment is installed (``make env``); every cache a first run fills is new and empty:
``XDG_CACHE_HOME`` (mmmcal's store of compiled models), PyTensor's ``base_compiledir`` (its
C and numba code) and ``NUMBA_CACHE_DIR``. In that setting, each in a fresh process and in
this order: ``mmmcal --help``, ``mmmcal check-lift`` on a table with a bad row (it must exit
1), ``mmmcal demo`` (first), ``mmmcal demo`` again (later: caches now full). Each demo's
phases come from the ``timings.json`` it writes (simulate, lift tests, each fit's compile /
sampling / deterministics / build and checks, saving, scoring, report); ``startup_s`` is the
process wall time outside the demo's own clock (interpreter and imports).

Prints a table of phases, then one JSON line with ``first_demo_s``, ``later_demo_s``,
``help_s`` and ``check_lift_reject_s`` (process wall seconds) and the phases; ``--save``
writes it to ``benchmarks/results/first_run.json``.

    .venv/bin/python benchmarks/first_run.py --save
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MMMCAL = Path(sys.executable).with_name("mmmcal")
RESULT = ROOT / "benchmarks" / "results" / "first_run.json"
BAD_LIFT = "channel,x,delta_x,delta_y,sigma\ntv,10000,2000,3000,-5\n"


def _empty_caches(root: Path) -> dict[str, str]:
    """The environment of a machine that has never run mmmcal: every cache under ``root``."""
    env = dict(os.environ)
    env.pop("MMMCAL_COMPILE_CACHE", None)
    flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",") if f and "compiledir" not in f]
    env["PYTENSOR_FLAGS"] = ",".join([*flags, f"base_compiledir={root / 'pytensor'}"])
    env["XDG_CACHE_HOME"] = str(root / "cache")
    env["NUMBA_CACHE_DIR"] = str(root / "numba")
    return env


def _timed(args: list[str], env: dict[str, str], expect: int = 0) -> tuple[float, str]:
    """(process wall seconds, output) of one command; its exit status must be ``expect``."""
    start = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != expect:
        raise SystemExit(
            f"{' '.join(args)} exited {done.returncode}, expected {expect}:\n"
            f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return wall, done.stdout


def _demo(out: Path, seed: int, env: dict[str, str]) -> dict:
    """One ``mmmcal demo``: its process wall time and the phases it recorded."""
    wall, _ = _timed([str(MMMCAL), "demo", "--out", str(out), "--seed", str(seed)], env)
    phases = json.loads((out / "timings.json").read_text())
    return {"wall_s": round(wall, 1), "startup_s": round(wall - phases["total_s"], 1), **phases}


def _bytecode_compiled() -> bool:
    """Whether the environment's packages were installed with their bytecode compiled."""
    from importlib.util import find_spec

    spec = find_spec("pandas")
    origin = Path(spec.origin) if spec is not None and spec.origin else None
    return origin is not None and any((origin.parent / "__pycache__").glob("*.pyc"))


def _print(first: dict, later: dict) -> None:
    rows = [k for k in first if k.endswith("_s")]
    print(f"{'phase':34s} {'first s':>9s} {'later s':>9s}")
    for k in rows:
        print(f"{k:34s} {first[k]:9.1f} {later.get(k, float('nan')):9.1f}")
    for name, parts in first["fits"].items():
        for part, value in parts.items():
            if part.endswith("_s"):
                label = f"  {name}.{part}"
                print(f"{label:34s} {value:9.1f} {later['fits'][name][part]:9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", action="store_true", help=f"Write the result to {RESULT}.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mmmcal_first_run_") as tmp:
        root = Path(tmp)
        env = _empty_caches(root)
        help_s, _ = _timed([str(MMMCAL), "--help"], env)
        bad = root / "bad_lift.csv"
        bad.write_text(BAD_LIFT)
        reject_s, _ = _timed([str(MMMCAL), "check-lift", str(bad), "--channels", "tv"], env, 1)
        first = _demo(root / "first", args.seed, env)
        later = _demo(root / "later", args.seed, env)
    _print(first, later)
    result = {
        "first_demo_s": first["wall_s"],
        "later_demo_s": later["wall_s"],
        "help_s": round(help_s, 2),
        "check_lift_reject_s": round(reject_s, 2),
        "bytecode_compiled": _bytecode_compiled(),
        "cpus": os.cpu_count(),
        "first": first,
        "later": later,
    }
    line = json.dumps(result)
    if args.save:
        RESULT.write_text(line + "\n")
    print(line)


if __name__ == "__main__":
    main()
