"""What to trust in a set of fits, without ground truth: a table per model and channel, and checks.

Read from the fits alone (any engine :func:`mmmcal.models.engines.load_fit` returns): per
model and channel, whether the channel was tested (in that model's lift table), its
contribution share of the total target (mean and 90% HDI), how far calibration moved that
share from the uncalibrated model's (the fit without a lift table), and the measured
confounding factor: the uncalibrated model's implied lift over a test's window divided by
the measured lift (lifts per period, target units, as the lift-table contract). Checks
(:class:`~mmmcal.evaluate.checks.Check`) say in words what not to trust and what to do.

Thresholds (shares of the total target):

- baseline share = 1 - total media share (posterior mean): below :data:`BASELINE_REVIEW`
  (0.2) REVIEW, below :data:`BASELINE_FAIL` (0.05) FAIL. Published MMMs of established
  brands put the baseline (organic demand, brand, seasonality) at roughly half to nine
  tenths of sales; a model that leaves under a fifth to it has most likely given media the
  credit of a confounder (demand that drives both spend and sales), and under a twentieth
  means "nothing would sell without ads".
- the largest channel's share (posterior mean): above :data:`CHANNEL_REVIEW` (0.5) REVIEW,
  above :data:`CHANNEL_FAIL` (0.8) FAIL: the mirror of the baseline check for one channel;
  one channel earning most of all sales is rare outside single-channel businesses.
- a test and the model disagree when the model-implied lift is more than :data:`Z_LIMIT`
  (3) combined sigmas (the test's sigma and the posterior sd of the implied lift) from the
  measured lift: FAIL for a model calibrated on it (it cannot reproduce its own test),
  REVIEW for a model that did not see it (for the uncalibrated model: confounding).
- an untested channel of a calibrated model whose share moved the other way from the
  tested channels' (it took up the credit they gave up, or gave up what they took) by more
  than :data:`MOVE_LIMIT` (1) of its own posterior sd (from the calibrated 90% HDI, width /
  3.29): REVIEW (the credit taken from the tested channel went there; the uncalibrated
  interval is too wide a yardstick: on the reference demo one TV test moves social and
  search by 0.6 and 0.5 of it, yet by about 1.8 and 1.6 calibrated sds, most of TV's credit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from mmmcal.evaluate.checks import Check
from mmmcal.evaluate.intervals import hdi
from mmmcal.lift.checks import SAME_TEST_COLUMNS
from mmmcal.lift.table import national_rows, union_lift
from mmmcal.report.posterior import implied_lift_draws

__all__ = [
    "BASELINE_FAIL",
    "BASELINE_REVIEW",
    "CHANNEL_FAIL",
    "CHANNEL_REVIEW",
    "MOVE_LIMIT",
    "Z_LIMIT",
    "ChannelTrust",
    "Lifts",
    "Reference",
    "TrustTable",
    "trust_table",
]

BASELINE_REVIEW = 0.2
BASELINE_FAIL = 0.05
CHANNEL_REVIEW = 0.5
CHANNEL_FAIL = 0.8
Z_LIMIT = 3.0
MOVE_LIMIT = 1.0
HDI_PROB = 0.9
_LIFT_KEYS = ("test_id", *SAME_TEST_COLUMNS)  # a test's identity, as union_lift's


@dataclass(frozen=True)
class ChannelTrust:
    """One model's channel: its share (of the total target) and what the tests say of it.

    ``confounding``: the uncalibrated model's implied lift over the channel's test windows
    divided by the measured lift (None without an uncalibrated fit or a test).
    ``shift``: share minus the uncalibrated model's share; ``shift_widths``: that over the
    uncalibrated 90% interval width. ``lift_z``: (implied - measured) lift over the combined
    sigma, for the tests of the channel (the model's own when tested, else any model's).
    """

    model: str
    channel: str
    tested: bool
    share_mean: float
    share_hdi_90: tuple[float, float]
    confounding: float | None = None
    shift: float | None = None
    shift_widths: float | None = None
    lift_z: float | None = None
    implied_lift: float | None = None
    measured_lift: float | None = None


@dataclass(frozen=True)
class TrustTable:
    """The "what to trust" table of several fits, its checks, and each model's baseline share."""

    rows: list[ChannelTrust]
    checks: list[Check]
    baseline: dict[str, dict[str, Any]] = field(default_factory=dict)
    uncalibrated: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: rows, checks, baseline share per model, the uncalibrated model's name."""
        rows = [{**asdict(r), "share_hdi_90": list(r.share_hdi_90)} for r in self.rows]
        return {
            "uncalibrated": self.uncalibrated,
            "baseline": self.baseline,
            "rows": rows,
            "checks": [asdict(c) for c in self.checks],
        }

    def table(self) -> pd.DataFrame:
        """One row per model x channel (the fields of :class:`ChannelTrust`)."""
        return pd.DataFrame([asdict(r) for r in self.rows])


def _national(model: Any, lift: pd.DataFrame | None) -> pd.DataFrame | None:
    """National rows of ``lift`` for a national model (None: nothing the model can answer)."""
    if lift is None or not len(lift) or len(model.spec.dims):
        return None
    lift = national_rows(lift)
    return lift.reset_index(drop=True) if len(lift) else None


def _row_keys(lift: pd.DataFrame) -> pd.Index:
    keys = [c for c in _LIFT_KEYS if c in lift]
    return pd.MultiIndex.from_frame(lift[keys].astype(str))


def _lift_summary(draws: np.ndarray, rows: pd.DataFrame) -> tuple[float, float, float]:
    """(implied, measured, z) of ``rows`` together: lifts per period averaged over the rows.

    z = (implied - measured) / sqrt(measured sigma^2 + posterior variance of the implied),
    the rows' measurement errors taken as independent.
    """
    implied = draws.mean(axis=1)
    measured = float(rows["delta_y"].mean())
    sigma = np.sqrt(float((rows["sigma"] ** 2).sum()) / len(rows) ** 2 + float(implied.var()))
    z = (float(implied.mean()) - measured) / sigma if sigma > 0 else np.inf
    return float(implied.mean()), measured, float(z)


def _shares(model: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Share draws of the total target per channel, and of all media together."""
    totals = model.channel_contributions().sum("date").stack(sample=("chain", "draw"))
    target = model.target_total()
    per = {c: totals.sel(channel=c).to_numpy() / target for c in model.spec.channel_columns}
    return per, np.sum(list(per.values()), axis=0)


def _baseline_checks(
    name: str, media: np.ndarray, per: dict[str, np.ndarray], tested: Sequence[str]
) -> list[Check]:
    """Checks (a) baseline share too small and (b) one channel's share too large."""
    base = 1 - float(media.mean())
    status = "FAIL" if base < BASELINE_FAIL else "REVIEW" if base < BASELINE_REVIEW else "PASS"
    checks = [
        Check(
            name,
            "baseline share",
            status,
            f"Media earn {1 - base:.2f} of the target, leaving {base:.2f} to the baseline"
            + (
                f" (below {BASELINE_REVIEW}): the model has probably given media the credit of "
                "demand that drives both spend and sales."
                if status != "PASS"
                else "."
            ),
            (
                f"Test the untested channels ({', '.join(c for c in per if c not in tested)}), "
                if tested
                else "Calibrate with lift tests (the channels with most spend first), "
            )
            + "or add the controls that drive demand; until then read the media shares as "
            "upper bounds."
            if status != "PASS"
            else "",
        )
    ]
    top = max(per, key=lambda c: float(per[c].mean()))
    share = float(per[top].mean())
    status = "FAIL" if share > CHANNEL_FAIL else "REVIEW" if share > CHANNEL_REVIEW else "PASS"
    checks.append(
        Check(
            name,
            "largest channel",
            status,
            f"{top} earns {share:.2f} of the target"
            + (
                f" (above {CHANNEL_REVIEW}): implausible for one channel."
                if status != "PASS"
                else "."
            ),
            f"Test {top} with a lift test before acting on its share." if status != "PASS" else "",
        )
    )
    return checks


def _lift_check(r: ChannelTrust, calibrated_on_it: bool) -> Check | None:
    """Check (c): the model and the test of ``r.channel`` disagree by more than Z_LIMIT sigma."""
    if r.lift_z is None or r.implied_lift is None or r.measured_lift is None:
        return None
    said = (
        f"The model implies a lift of {r.implied_lift:,.4g} per period for {r.channel}'s "
        f"test, which measured {r.measured_lift:,.4g} ({r.lift_z:+.1f} sigma)"
    )
    if abs(r.lift_z) <= Z_LIMIT:
        return Check(r.model, f"lift test: {r.channel}", "PASS", said + ".")
    if calibrated_on_it:
        return Check(
            r.model,
            f"lift test: {r.channel}",
            "FAIL",
            said + ": the model cannot reproduce the test it was calibrated on.",
            "Check the test's units and window against the data, and the priors of "
            f"{r.channel}; do not use this model's {r.channel} numbers until it fits the test.",
        )
    ratio = r.implied_lift / r.measured_lift if r.measured_lift else float("inf")
    return Check(
        r.model,
        f"lift test: {r.channel}",
        "REVIEW",
        said + f": it over-credits {r.channel} by a factor of {ratio:.2g} (confounding)."
        if ratio > 1
        else said + f": it credits {r.channel} with {ratio:.2g} of the measured lift.",
        "Calibrate on the test; treat the channels without a test as unknown.",
    )


def _moved_check(r: ChannelTrust, tested: Sequence[str], tested_shift: float) -> Check | None:
    """Check (d): an untested channel moved against the tested ones by > MOVE_LIMIT sds.

    ``tested_shift``: the tested channels' summed share shift.
    """
    if r.tested or not tested or r.shift is None or r.shift * tested_shift >= 0:
        return None
    lo, hi = r.share_hdi_90
    sd = (hi - lo) / 3.29  # a 90% interval of a normal spans 3.29 sd
    if not sd > 0 or abs(r.shift) <= MOVE_LIMIT * sd:
        return None
    return Check(
        r.model,
        f"moved: {r.channel}",
        "REVIEW",
        f"{r.channel} was not tested, yet calibrating {', '.join(tested)} moved its share by "
        f"{r.shift:+.3f} ({r.shift / sd:+.1f} of its posterior sd) against the tested "
        f"channels' {tested_shift:+.3f}: credit moved here from the tested channel.",
        f"Test {r.channel}, or treat its share as unknown.",
    )


@dataclass(frozen=True)
class Reference:
    """The uncalibrated model's shares: name, 90% HDI and mean per channel."""

    name: str
    interval: dict[str, tuple[float, float]]
    mean: dict[str, float]


@dataclass(frozen=True)
class Lifts:
    """Every model's lift rows once (``union``), by channel, and each model's implied draws.

    ``implied`` maps a model name to its implied lift draws of ``union``'s rows,
    (sample, row), target units per period.
    """

    union: pd.DataFrame
    implied: dict[str, np.ndarray]

    def by_channel(self, channel: str) -> pd.DataFrame:
        return self.union[self.union["channel"].astype(str) == channel]

    def draws(self, model: str, rows: pd.DataFrame) -> np.ndarray:
        """``model``'s draws of ``rows`` (rows of ``union``, matched on their keys)."""
        idx = _row_keys(self.union).get_indexer(_row_keys(rows))
        return self.implied[model][:, idx]


def _channel_rows(
    model: Any, per: dict[str, np.ndarray], lifts: Lifts | None, ref: Reference | None
) -> list[ChannelTrust]:
    """The table's rows of one model (``ref``: the uncalibrated model's shares, or None)."""
    own = _national(model, model.lift)
    tested = set() if own is None else set(own["channel"].astype(str))
    rows = []
    for c in model.spec.channel_columns:
        s = per[c]
        fields: dict[str, Any] = {}
        if lifts is not None and model.name in lifts.implied:
            tests = own[own["channel"] == c] if own is not None and c in tested else None
            tests = lifts.by_channel(c) if tests is None else tests
            if len(tests):
                imp, meas, z = _lift_summary(lifts.draws(model.name, tests), tests)
                fields.update(implied_lift=imp, measured_lift=meas, lift_z=z)
                if ref is not None and ref.name in lifts.implied and meas:
                    uncal = lifts.draws(ref.name, tests).mean()
                    fields["confounding"] = float(uncal / meas)
        if ref is not None and c in ref.interval:
            lo, hi = ref.interval[c]
            fields["shift"] = float(s.mean()) - ref.mean[c]
            fields["shift_widths"] = fields["shift"] / (hi - lo) if hi > lo else None
        share = (float(s.mean()), hdi(s, HDI_PROB))
        rows.append(ChannelTrust(model.name, c, c in tested, *share, **fields))
    return rows


def trust_table(models: Sequence[Any]) -> TrustTable:
    """The "what to trust" table of fitted ``models`` (no truth needed); see the module."""
    uncal = next((m for m in models if m.lift is None or not len(m.lift)), None)
    union = _national(models[0], union_lift(m.lift for m in models)) if models else None
    lifts = None
    if union is not None:
        answer = [m for m in models if _national(m, union) is not None]
        lifts = Lifts(union, {m.name: implied_lift_draws(m, union) for m in answer})
    shares = {m.name: _shares(m) for m in models}
    ref = None
    if uncal is not None:
        per = shares[uncal.name][0]
        ref = Reference(
            uncal.name,
            {c: hdi(d, HDI_PROB) for c, d in per.items()},
            {c: float(d.mean()) for c, d in per.items()},
        )
    rows: list[ChannelTrust] = []
    checks: list[Check] = []
    baseline = {}
    for m in models:
        per, media = shares[m.name]
        base = 1 - media
        baseline[m.name] = {
            "share_mean": float(base.mean()),
            "share_hdi_90": list(hdi(base, HDI_PROB)),
        }
        mine = _channel_rows(m, per, lifts, None if m is uncal else ref)
        tested = [r.channel for r in mine if r.tested]
        checks.extend(_baseline_checks(m.name, media, per, tested))
        if m is uncal and ref is not None:
            mine = [_with_confounding(r) for r in mine]
        tested_shift = sum(r.shift or 0.0 for r in mine if r.tested)
        for r in mine:
            found = (_lift_check(r, r.tested), _moved_check(r, tested, tested_shift))
            checks.extend(c for c in found if c)
        rows.extend(mine)
    return TrustTable(rows, checks, baseline, None if uncal is None else uncal.name)


def _with_confounding(r: ChannelTrust) -> ChannelTrust:
    """The uncalibrated model's own row: its implied over measured lift is the factor."""
    if r.implied_lift is None or not r.measured_lift:
        return r
    return replace(r, confounding=r.implied_lift / r.measured_lift)
