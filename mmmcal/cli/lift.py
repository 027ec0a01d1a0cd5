"""Commands of the lift-table contract: ``ingest`` results from elsewhere, ``check-lift``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mmmcal.cli.choices import IngestFormat
from mmmcal.cli.views import print_row_report

__all__ = ["check_lift", "ingest"]


def _read_data(path: Path, date_column: str):
    import pandas as pd

    from mmmcal.files import read_csv_file

    frame = read_csv_file(path, "data file")
    if date_column not in frame:
        raise ValueError(
            f"{path} has no date column {date_column!r} (it has {list(frame.columns)}); "
            "name it with --date-column."
        )
    frame[date_column] = pd.to_datetime(frame[date_column])
    return frame


def ingest(
    file: Annotated[Path, typer.Argument(help="Results file (CSV).")],
    format: Annotated[
        IngestFormat,
        typer.Option("--format", help="The tool that wrote the file (pymc-marketing = mmmcal)."),
    ],
    out: Annotated[Path, typer.Option(help="Lift-table CSV to write (accepted rows).")] = Path(
        "lift.csv"
    ),
    data: Annotated[
        Path | None, typer.Option(help="Model data CSV: its dates and channels.")
    ] = None,
    channels: Annotated[str | None, typer.Option(help="Comma-separated model channels.")] = None,
    relative_se: Annotated[
        float | None, typer.Option(help="Robyn: standard error as a fraction of liftAbs.")
    ] = None,
    carryover_periods: Annotated[
        int | None, typer.Option(help="Robyn scope 'total': periods of carryover measured.")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Also write the row report CSV here.")] = None,
    date_column: Annotated[str, typer.Option(help="Date column of --data.")] = "date",
) -> None:
    """Convert experiment results from elsewhere into a validated lift table.

    Every input row is listed as accepted or rejected with its reason; any rejection exits 1
    (the accepted rows are still written).
    """
    from mmmcal.lift.ingest import ingest as run_ingest

    dates = None
    names = channels.split(",") if channels else None
    if data is not None:
        frame = _read_data(data, date_column)
        dates = frame[date_column]
    result = run_ingest(
        file,
        format.value,
        channels=names,
        dates=dates,
        relative_se=relative_se,
        carryover_periods=carryover_periods,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(out, index=False)
    if report is not None:
        result.report.to_csv(report, index=False)
    print_row_report(result.report, f"-> {out}")
    if not result.ok:
        raise typer.Exit(1)


def check_lift(
    lift: Annotated[Path, typer.Argument(help="Lift-table CSV.")],
    data: Annotated[
        Path | None, typer.Option(help="Data CSV whose dates/geos the tests must match.")
    ] = None,
    channels: Annotated[str | None, typer.Option(help="Comma-separated model channels.")] = None,
    date_column: Annotated[str, typer.Option(help="Date column of --data.")] = "date",
) -> None:
    """Check a lift table against the contract; list every row as accepted or rejected."""
    from mmmcal.lift.table import check_lift_table, read_lift_table

    dates = geos = None
    if data is not None:
        frame = _read_data(data, date_column)
        dates = frame[date_column]
        geos = frame["geo"].unique() if "geo" in frame else None
    check = check_lift_table(
        read_lift_table(lift), channels.split(",") if channels else None, dates=dates, geos=geos
    )
    print_row_report(check.report(), str(lift))
    if not check.ok:
        raise typer.Exit(1)
