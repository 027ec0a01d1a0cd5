"""What the command line prints: its two consoles; rich tables of lift rows, scores and trust."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = [
    "checks_view",
    "console",
    "err_console",
    "lift_table_view",
    "print_row_report",
    "scorecard_view",
    "trust_view",
]

# Piped output gets a fixed width, so logs and tests read the same on every terminal.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

_LIFT_COLUMNS = (
    "test_id",
    "geo",
    "channel",
    "x",
    "delta_x",
    "delta_y",
    "sigma",
    "n_periods",
    "date_start",
    "date_end",
    "true_delta_y",
)
_TEXT_COLUMNS = ("test_id", "channel", "date_start", "date_end")


def lift_table_view(table, title: str) -> Table:
    """A lift table's rows with the contract's columns it has; numbers to two decimals."""
    view = Table(title=title)
    cols = [c for c in _LIFT_COLUMNS if c in table]
    for c in cols:
        view.add_column(c, justify="left" if c in _TEXT_COLUMNS else "right")
    for _, row in table.iterrows():
        view.add_row(
            *(f"{row[c]:,.2f}" if isinstance(row[c], float) else escape(str(row[c])) for c in cols)
        )
    return view


def print_row_report(report, label: str) -> None:
    """Print one line per input row (accepted/rejected, reason) and the counts."""
    import pandas as pd

    view = Table()
    for c in report.columns:
        view.add_column(c)
    for _, r in report.iterrows():
        style = "green" if r.status == "accepted" else "red"
        cells = ["" if pd.isna(v) else escape(str(v)) for v in r]
        cells[list(report.columns).index("status")] = f"[{style}]{r.status}[/]"
        view.add_row(*cells)
    console.print(view)
    n_ok = int((report.status == "accepted").sum())
    console.print(f"{n_ok} accepted, {len(report) - n_ok} rejected {label}", markup=False)


def scorecard_view(card) -> Table:
    """Each model's contribution share per channel with its interval, against the truth."""
    table = card.table()
    models = list(card.models)
    has_truth = table["true_share"].notna().all()
    view = Table(title="Contribution share of the target: posterior mean [90% HDI]")
    view.add_column("channel")
    if has_truth:
        view.add_column("truth", justify="right")
    for m in models:
        flag = "" if card.models[m].healthy else " [bold red]FAIL[/]"
        view.add_column(escape(m) + flag, justify="right")
    for channel in dict.fromkeys(table["channel"]):
        cells = []
        for m in models:
            r = table[(table.model == m) & (table.channel == channel)].iloc[0]
            text = f"{r.share_mean:.3f} [{r.share_lo:.3f}, {r.share_hi:.3f}]"
            if has_truth:
                err = r.share_mean - r.true_share
                style = "green" if abs(err) <= 0.02 else "red"
                text = f"[{style}]{text}[/] {'covers' if r.share_covered else 'misses'}"
            if r.tested:
                text += " *"
            cells.append(text)
        first = [escape(channel)] + (
            [f"{table[table.channel == channel].true_share.iloc[0]:.3f}"] if has_truth else []
        )
        view.add_row(*first, *cells)
    caption = "* channel tested in that model's calibration" + (
        "; green = within 0.02 of the truth" if has_truth else ""
    )
    for m, problems in card.unhealthy.items():
        caption += (
            f"\n[bold red]FAIL[/] {escape(m)} failed its checks ({escape('; '.join(problems))}): "
            "its numbers are not results"
        )
    view.caption = caption
    return view


def _number(value, fmt: str) -> str:
    return "" if value is None or value != value else format(value, fmt)


def trust_view(trust) -> Table:
    """The "what to trust" table: per model and channel, shares of the total target."""
    view = Table(title="What to trust (no truth needed): contribution share of the target")
    for name in ("model", "channel", "tested", "share [90% HDI]"):
        view.add_column(name, justify="left" if name != "share [90% HDI]" else "right")
    for name in ("moved", "moved / width", "confounding", "lift z"):
        view.add_column(name, justify="right")
    for r in trust.rows:
        lo, hi = r.share_hdi_90
        view.add_row(
            escape(r.model),
            escape(r.channel),
            "yes" if r.tested else "",
            f"{r.share_mean:.3f} [{lo:.3f}, {hi:.3f}]",
            _number(r.shift, "+.3f"),
            _number(r.shift_widths, "+.1f"),
            _number(r.confounding, ".2f"),
            _number(r.lift_z, "+.1f"),
        )
    ref = trust.uncalibrated
    view.caption = (
        f"moved: share minus {escape(ref)}'s (the fit without a lift table); moved / width: "
        f"that over {escape(ref)}'s 90% interval width; confounding: {escape(ref)}'s implied "
        "lift over the test windows / the measured lift; lift z: (implied - measured) lift "
        "over the combined sigma"
        if ref
        else "No uncalibrated fit (one without a lift table): nothing to compare calibration "
        "against, so no confounding factor. lift z: (implied - measured) over the combined sigma"
    )
    return view


_STYLE = {"PASS": "green", "REVIEW": "yellow", "FAIL": "bold red"}


def checks_view(checks, title: str) -> Table:
    """Checks as a table: model, check, status (coloured), what happened, what to do."""
    view = Table(title=title)
    for name in ("model", "check", "status", "what happened", "what to do"):
        view.add_column(name)
    for c in checks:
        style = _STYLE.get(c.status, "")
        view.add_row(
            escape(c.model),
            escape(c.name),
            f"[{style}]{escape(c.status)}[/]",
            escape(c.message),
            escape(c.recommendation),
        )
    return view
