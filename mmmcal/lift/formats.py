"""Converters of other tools' lift results into lift-table rows, one per format.

``mmmcal`` (alias ``pymc-marketing``) is a lift table already: checked, not converted.

``robyn``
    Robyn's ``calibration_input``: ``channel, liftStartDate, liftEndDate, liftAbs, spend,
    confidence, calibration_scope`` (optional ``liftSE``, ``metric``, ``test_id``).
    ``liftAbs`` is the total incremental response (target units) caused by the channel's
    spend over the window and ``spend`` its total spend there (currency); Robyn compares
    ``liftAbs`` with the channel's whole contribution, so a row is a holdout of all its
    spend, taken as constant per period: ``x = 0``, ``delta_x = spend / n`` (currency per
    period), ``delta_y = liftAbs`` with ``aggregation = "sum"`` (a window total),
    ``n_periods = n``, ``measured_from = 1``, and ``measured_to = n`` for scope
    ``immediate`` or ``n + carryover_periods`` for ``total`` (the window plus the carryover
    after it: ``carryover_periods`` must be given, e.g. the adstock ``l_max`` if the lift
    was measured until the carryover faded, 0 if only over the window). Robyn's own
    comparison differs in two ways: its ``immediate`` leaves out the carryover of earlier
    spend within the window, which mmmcal's window includes, and its ``total`` counts the
    carryover of pre-window spend on the window's dates and none after ``liftEndDate``.
    Robyn has no standard error (``confidence`` is only a weight, kept as a column):
    ``sigma`` is ``liftSE`` (the standard error of ``liftAbs``, total) where given, else
    ``relative_se * |liftAbs|``; rows with neither are rejected. Combined channels
    (``a+b``) are rejected: a lift row has one channel.
``geolift``
    A geo-lift summary: ``channel, date_start, date_end, lift, lift_lower, lift_upper,
    ci_level, lift_unit, spend_before, spend_change, spend_unit`` (optional ``geo``,
    ``test_id``). ``lift`` is the incremental target (target units, not %) with its
    ``ci_level`` interval (a probability, 0.9 for 90%); ``spend_before`` is the
    business-as-usual spend and ``spend_change`` the change during the test (currency), for
    the same geos as the lift. ``lift_unit`` (for ``lift``, ``lift_lower``, ``lift_upper``)
    and ``spend_unit`` (for ``spend_before``, ``spend_change``) are each ``total`` (over the
    window) or ``per_period``; totals are divided by ``n``. ``sigma = (lift_upper -
    lift_lower) / (2 z)`` with ``z = norm.ppf((1 + ci_level) / 2)`` (a normal approximation;
    an asymmetric interval gives its mean half-width). Output: ``x = spend_before``,
    ``delta_x = spend_change``, ``delta_y = lift``, ``sigma``, all per period, with
    ``aggregation = "mean"`` and ``n_periods = n``.
"""

from __future__ import annotations

from scipy.stats import norm

from mmmcal.lift.cells import blank
from mmmcal.lift.ingest_rows import InputRow, RowContext

__all__ = ["COLUMN_HINTS", "CONVERTERS", "INPUT_FIELDS", "REQUIRED"]

REQUIRED = {
    "robyn": (
        "channel",
        "liftStartDate",
        "liftEndDate",
        "liftAbs",
        "spend",
        "confidence",
        "calibration_scope",
    ),
    "geolift": (
        "channel",
        "date_start",
        "date_end",
        "lift",
        "lift_lower",
        "lift_upper",
        "ci_level",
        "lift_unit",
        "spend_before",
        "spend_change",
        "spend_unit",
    ),
}
_UNIT_HINT = "; add it: 'total' (over the window) or 'per_period' (units are never guessed)"
COLUMN_HINTS = {"lift_unit": _UNIT_HINT, "spend_unit": _UNIT_HINT}
_UNITS = ("total", "per_period")
_ROBYN_SCOPES = ("immediate", "total")
# Contract fields of converted rows -> the input fields they came from.
INPUT_FIELDS = {
    "robyn": {
        "x": "spend",
        "delta_x": "spend",
        "delta_y": "liftAbs",
        "sigma": "liftSE",
        "date_start": "liftStartDate",
        "date_end": "liftEndDate",
        "n_periods": "liftEndDate",
        "measured_from": "calibration_scope",
        "measured_to": "calibration_scope",
    },
    "geolift": {
        "x": "spend_before",
        "delta_x": "spend_change",
        "delta_y": "lift",
        "sigma": "lift_upper",
    },
}


def _from_robyn(r: InputRow, ctx: RowContext) -> dict | None:
    raw_channel = r.values["channel"]
    if isinstance(raw_channel, str) and "+" in raw_channel:
        r.bad(
            "channel",
            f"{raw_channel!r} is a combined-channel test; a lift row has one channel: "
            "give one row per channel with its own liftAbs and spend",
        )
        channel = None
    else:
        channel = r.channel(ctx.channels)
    window = r.window("liftStartDate", "liftEndDate", ctx)
    lift, spend = r.number("liftAbs"), r.number("spend")
    scope = r.choice("calibration_scope", _ROBYN_SCOPES)
    if scope == "total" and ctx.carryover_periods is None:
        r.bad(
            "calibration_scope",
            "is 'total' (the window plus the carryover after it): pass carryover_periods, "
            "the number of periods after liftEndDate that the carryover is counted over",
        )
    sigma = None
    if not blank(r.values.get("liftSE")):
        sigma = r.number("liftSE")
    elif ctx.relative_se is None:
        r.bad(
            "liftSE",
            "no standard error: Robyn's `confidence` is only a weight, not an uncertainty; "
            "add a `liftSE` column (standard error of liftAbs, total over the window) "
            "or pass relative_se (sigma = relative_se * |liftAbs|)",
        )
    elif lift == 0:
        r.bad("liftAbs", "is 0, so relative_se * |liftAbs| is no standard error: add liftSE")
    elif lift is not None:
        sigma = ctx.relative_se * abs(lift)
    if r.problems or window is None or spend is None:  # each missing value is a problem
        return None
    start, end, n = window
    carryover = (ctx.carryover_periods or 0) if scope == "total" else 0
    return {
        **r.passthrough("test_id"),
        "channel": channel,
        "x": 0.0,
        "delta_x": spend / n,
        "delta_y": lift,
        "sigma": sigma,
        "date_start": start.strftime("%Y-%m-%d"),
        "date_end": end.strftime("%Y-%m-%d"),
        "n_periods": n,
        "aggregation": "sum",
        "measured_from": 1,
        "measured_to": n + carryover,
        "source": "robyn",
        "calibration_scope": scope,
        **r.passthrough("confidence", "metric"),
    }


def _from_geolift(r: InputRow, ctx: RowContext) -> dict | None:
    channel = r.channel(ctx.channels)
    window = r.window("date_start", "date_end", ctx)
    lift, lower, upper = r.number("lift"), r.number("lift_lower"), r.number("lift_upper")
    level = r.number("ci_level")
    lift_unit, spend_unit = r.choice("lift_unit", _UNITS), r.choice("spend_unit", _UNITS)
    before, change = r.number("spend_before"), r.number("spend_change")
    if level is not None and not 0 < level < 1:
        r.bad("ci_level", f"must be a probability in (0, 1), e.g. 0.9 for 90%, got {level:g}")
    if lift is not None and lower is not None and upper is not None:
        if upper <= lower:
            r.bad(
                "lift_upper",
                f"{upper:g} must be above lift_lower {lower:g} (the interval gives sigma)",
            )
        elif not lower <= lift <= upper:
            r.bad("lift", f"{lift:g} is outside its interval [{lower:g}, {upper:g}]")
    if r.problems:
        return None
    # Reading a value without a problem sets it.
    assert window is not None and lift is not None and lower is not None and upper is not None
    assert level is not None and before is not None and change is not None
    start, end, n = window
    lift_n = n if lift_unit == "total" else 1
    spend_n = n if spend_unit == "total" else 1
    z = float(norm.ppf((1 + level) / 2))
    return {
        **r.passthrough("test_id"),
        "channel": channel,
        **r.passthrough("geo"),
        "x": before / spend_n,
        "delta_x": change / spend_n,
        "delta_y": lift / lift_n,
        "sigma": (upper - lower) / (2 * z) / lift_n,
        "date_start": start.strftime("%Y-%m-%d"),
        "date_end": end.strftime("%Y-%m-%d"),
        "n_periods": n,
        "aggregation": "mean",
        "source": "geolift",
    }


CONVERTERS = {"robyn": _from_robyn, "geolift": _from_geolift}
