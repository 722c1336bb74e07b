"""``lealta segments``: look at segment maps and export a segment's customers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from lealta.cli.errors import friendly

segments_app = typer.Typer(
    help="Segment maps and segment lists for mailing tools.", no_args_is_help=True
)

EXPORT_COLUMNS = ("customer_id", "email", "name", "segment", "rfm_code", "score_sum")


@segments_app.command("export")
@friendly
def export_command(
    source: Path = typer.Argument(
        ..., help="A per-customer table from 'lealta rfm --output', or an order file."
    ),
    segment: list[str] = typer.Option(
        ..., "--segment", "-s", help="Segment to export (repeatable), e.g. 'At Risk'."
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="List to write: .csv (for mailing tools), .json or .parquet."
    ),
    as_of: str | None = typer.Option(None, help="Analysis date, when SOURCE is an order file."),
    segments: Path | None = typer.Option(
        None, help="Segment map YAML, when SOURCE is an order file."
    ),
    preset: str = typer.Option("lealta", help="Preset, when SOURCE is an order file."),
) -> None:
    """Write the customers of one or more segments: id, e-mail and name where known."""
    from lealta.errors import InvalidInput

    table = _customers(source, as_of=as_of, segments=segments, preset=preset)
    known = sorted(set(table["segment"].dropna()))
    unknown = [s for s in segment if s not in known]
    if unknown:
        raise InvalidInput(
            f"no segment named {', '.join(map(repr, unknown))}; segments here: {', '.join(known)}",
            field="segment",
        )
    chosen = table[table["segment"].isin(segment)]
    chosen = chosen[[c for c in EXPORT_COLUMNS if c in chosen.columns]]
    output.parent.mkdir(parents=True, exist_ok=True)
    suffix = output.suffix.lower()
    if suffix == ".parquet":
        chosen.to_parquet(output, index=False)
    elif suffix == ".json":
        chosen.to_json(output, orient="records", indent=1, force_ascii=False)
    elif suffix == ".csv":
        chosen.to_csv(output, index=False)
    else:
        raise InvalidInput(f"{output}: write .csv, .json or .parquet", field="output")
    missing = int(chosen["email"].isna().sum()) if "email" in chosen.columns else len(chosen)
    typer.echo(f"wrote {len(chosen):,} customers of {', '.join(segment)} to {output}")
    if missing:
        typer.echo(f"note: {missing:,} of them have no e-mail address in the data", err=True)


def _customers(source: Path, *, as_of: str | None, segments: Path | None, preset: str) -> Any:
    import pandas as pd

    from lealta.api import rfm

    suffix = source.suffix.lower()
    if suffix in (".csv", ".parquet", ".json") and source.exists():
        table = _read_table(source)
        if "segment" in table.columns and "customer_id" in table.columns:
            return table
    frame: pd.DataFrame = rfm(source, as_of=as_of, segments=segments, preset=preset)
    return frame


def _read_table(source: Path) -> Any:
    import pandas as pd

    if source.suffix.lower() == ".parquet":
        return pd.read_parquet(source)
    if source.suffix.lower() == ".json":
        return pd.read_json(source, dtype={"customer_id": str})
    return pd.read_csv(source, dtype={"customer_id": str})


@segments_app.command("show")
@friendly
def show_command(
    segments: Path | None = typer.Argument(None, help="Segment map YAML (default: Lealta's map)."),
    preset: str = typer.Option("lealta", help="Show a preset's map: lealta, r-rfm or pymc."),
) -> None:
    """Print a segment map's rules and check that it covers every score combination."""
    from rich.console import Console
    from rich.table import Table

    from lealta.segmentation.presets import preset_map
    from lealta.segmentation.segments import load_segment_map

    segment_map = load_segment_map(segments) if segments else preset_map(preset)
    table = Table(title=f"{segment_map.name} (scores 1-{segment_map.bins}, first match wins)")
    for column in ("Segment", "R", "F", "M", "Codes", "Description"):
        table.add_column(column)
    for rule in segment_map.rules:
        cells = ["-".join(map(str, rule.ranges[d])) if d in rule.ranges else "any" for d in "rfm"]
        table.add_row(rule.name, *cells, " ".join(rule.codes), rule.description)
    console = Console()
    console.print(table)
    uncovered, unreachable = segment_map.coverage()
    total = segment_map.bins**3
    console.print(
        f"{total - len(uncovered)} of {total} R-F-M combinations matched by a rule; "
        f"the other {len(uncovered)} fall to {segment_map.default!r}"
    )
    for name in unreachable:
        console.print(f"[yellow]warning:[/] no score combination reaches {name!r}")
