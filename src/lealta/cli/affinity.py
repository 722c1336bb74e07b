"""``lealta affinity``: what is bought together, what is bought next, and for whom."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from lealta.cli import params as p
from lealta.cli.errors import friendly
from lealta.cli.params import DEFINITION, MAPPING, OUTPUT

DEFAULT_CANCEL_PATTERN = r"^[Cc][0-9]"
TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".json", ".jsonl")


class ByKind(StrEnum):
    category = "category"
    product = "product"


class ScoreKind(StrEnum):
    sum = "sum"
    max = "max"


@friendly
def affinity_command(
    file: Path | None = typer.Argument(
        None,
        help="Order-line file: .csv, .csv.gz, .parquet, .xlsx or .jsonl (omit with --from-store).",
        show_default=False,
    ),
    from_store: bool = typer.Option(
        False,
        "--from-store",
        help="Read the order lines in Lealta's database (LEALTA_DATABASE_URL) and save each "
        "contact's next-best items (contact_next_best).",
        rich_help_panel=DEFINITION,
    ),
    by: ByKind = typer.Option(
        ByKind.category, help="Pair categories or products.", rich_help_panel=DEFINITION
    ),
    item: str | None = typer.Option(
        None,
        "--item",
        help="The column holding the category (or product, with --by product). "
        "Default: detected (category, StockCode, product_id, sku …).",
        rich_help_panel=MAPPING,
    ),
    customer: p.Customer = None,
    date: p.Date = None,
    order: p.Order = None,
    amount: p.Amount = None,
    quantity: p.Quantity = None,
    price: p.Price = None,
    date_format: str | None = typer.Option(
        None, help="strftime format of the dates, e.g. %d/%m/%Y.", rich_help_panel=MAPPING
    ),
    encoding: p.Encoding = "utf-8",
    as_of: p.AsOf = None,
    window: str | None = typer.Option(
        None,
        help="Only the last N days before --as-of count (365d, 52w, 12m, 1y). Default: all.",
        rich_help_panel=DEFINITION,
    ),
    min_support: float = typer.Option(
        0.0,
        help="A pair needs at least this share of baskets (or, in sequence, of customers).",
        rich_help_panel=DEFINITION,
    ),
    min_count: int = typer.Option(
        2,
        help="A pair needs at least this many baskets (or, in sequence, customers).",
        rich_help_panel=DEFINITION,
    ),
    sequence: bool = typer.Option(
        False,
        "--sequence",
        help="Pairs bought in sequence (first A, later B) instead of together in --output "
        "and on screen (the report then shows both).",
        rich_help_panel=DEFINITION,
    ),
    gap: str | None = typer.Option(
        None,
        help="In sequence: B's first purchase at most this long after A's (90d, 12w). "
        "Default: any time in the window.",
        rich_help_panel=DEFINITION,
    ),
    top: int = typer.Option(
        3, help="Next-best items kept per customer.", rich_help_panel=DEFINITION
    ),
    score: ScoreKind = typer.Option(
        ScoreKind.sum,
        help="Next-best score: the sum or the max of the confidences pointing to an item.",
        rich_help_panel=DEFINITION,
    ),
    cancel_pattern: str = typer.Option(
        DEFAULT_CANCEL_PATTERN,
        help="Regex on the order id marking cancellations ('' to disable).",
        rich_help_panel=DEFINITION,
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="The pairs: .csv, .csv.gz, .parquet, .json or .jsonl.",
        rich_help_panel=OUTPUT,
    ),
    next_best_file: Path | None = typer.Option(
        None,
        "--next-best",
        help="Each customer's next-best items (customer_id, rank, item, score) to this file.",
        rich_help_panel=OUTPUT,
    ),
    report: p.Report = None,
    engine: p.Engine = p.EngineName.duckdb,
    quiet: p.Quiet = False,
) -> None:
    """Find the categories or products bought together and in sequence, and what each
    customer is likely to buy next.

    Reads order lines (one row per product in an order), cleans them as `lealta rfm` does,
    and prints the strongest pairs with support (share of baskets with both), confidence
    (share of baskets with A that also hold B) and lift (confidence over B's own share).
    """
    from lealta.affinity.options import AffinityOptions
    from lealta.cli.options import parse_date, parse_window
    from lealta.errors import InvalidInput

    options = AffinityOptions(
        by=by.value,
        as_of=parse_date(as_of, "--as-of"),
        window_days=parse_window(window),
        min_count=min_count,
        min_support=min_support,
        gap_days=_gap(gap),
        top=top,
        score=score.value,
    )
    columns = p.column_roles(
        customer=customer, date=date, order=order, amount=amount, quantity=quantity, price=price
    )
    for path, name in ((output, "output"), (next_best_file, "next_best")):
        if path is not None and not path.name.lower().endswith(TABLE_SUFFIXES):
            raise InvalidInput(f"{path}: use one of {', '.join(TABLE_SUFFIXES)}", field=name)
    if from_store and (file is not None or item or any(columns.values())):
        raise InvalidInput(
            "--from-store reads the store's orders: no FILE, --item or column options",
            field="file",
        )
    if not from_store and file is None:
        raise InvalidInput("missing the order FILE (or --from-store)", field="file")
    run = Run(options, engine.value, quiet, sequence)
    try:
        if from_store:
            run.from_store()
        else:
            assert file is not None
            run.from_file(file, columns, item, cancel_pattern, date_format, encoding)
        run.finish(output, next_best_file, report)
    finally:
        run.close()


def _gap(text: str | None) -> int | None:
    from lealta.cli.options import parse_window
    from lealta.errors import InvalidInput

    try:
        return parse_window(text)
    except InvalidInput:
        raise InvalidInput(
            f"--gap takes a positive number of days (or 12w, 3m), got {text!r}", field="gap"
        ) from None


class Run:
    """One command's work: read the lines, compute, write and print."""

    def __init__(self, options: Any, engine: str, quiet: bool, sequence: bool) -> None:
        from rich.console import Console

        self.options = options
        self.engine_name = engine
        self.quiet = quiet
        self.sequence = sequence
        self.console = Console(stderr=True, quiet=quiet)
        self.lines: Any = None
        self.source = ""
        self.saved: int | None = None

    def _working(self, words: str) -> Any:
        from lealta.cli.progress import working

        engine = self.lines.engine if self.lines is not None else None
        return working(self.console, engine, words)

    def from_file(
        self,
        file: Path,
        columns: dict[str, str | None],
        item: str | None,
        cancel_pattern: str,
        date_format: str | None,
        encoding: str,
    ) -> None:
        from lealta.affinity.lines import read_lines
        from lealta.engines import connect

        engine = connect(self.engine_name)
        with self._working(f"Reading {file.name}"):
            self.lines = read_lines(
                engine,
                file,
                self.options,
                columns=columns,
                item=item,
                cancel_pattern=cancel_pattern,
                date_format=date_format,
                encoding=encoding,
            )
        self.source = str(file)

    def from_store(self) -> None:
        import contextlib

        from lealta.affinity.store import lines_file, read_store_lines
        from lealta.bootstrap import build

        self.services = build()
        self._folder = contextlib.ExitStack()
        with self._working("Reading the store's orders"):
            path = self._folder.enter_context(lines_file(self.services))
            self.lines = read_store_lines(path, self.options, engine=self.engine_name)
        self.source = "the store's orders"

    def finish(self, output: Path | None, next_best_file: Path | None, report: Path | None) -> None:
        from lealta.affinity.next_best import next_best
        from lealta.affinity.pairs import in_sequence, together

        lines, engine = self.lines, self.lines.engine
        need_sequence = self.sequence or next_best_file is not None or self.services_wanted()
        with self._working(f"Pairing {self.options.by} bought together"):
            wanted = not self.sequence or report is not None
            pairs = engine.execute(together(lines.table, self.options)) if wanted else None
        rules = sequence = None
        if need_sequence:
            with self._working(f"Pairing {self.options.by} bought in sequence"):
                rules = engine.materialize(in_sequence(lines.table, self.options))
                sequence = engine.execute(rules)
        shown = sequence if self.sequence else pairs
        assert shown is not None
        if output is not None:
            _write(shown, output)
        suggestions = None
        if rules is not None and (next_best_file is not None or self.services_wanted()):
            with self._working("Ranking each customer's next-best items"):
                suggestions = engine.execute(next_best(lines.table, rules, self.options))
            if next_best_file is not None:
                _write(suggestions, next_best_file)
            if self.services_wanted():
                self._save(suggestions)
        if report is not None:
            self._report(report, pairs, sequence if rules is not None else None)
        self._print(shown, suggestions)

    def services_wanted(self) -> bool:
        return hasattr(self, "services")

    def _save(self, suggestions: Any) -> None:
        from lealta.affinity.store import save_next_best

        with self.services.uow.transaction() as session:
            self.saved = save_next_best(
                session,
                suggestions.to_dict("records"),
                kind=self.options.by,
                computed_at=self.services.clock.now(),
            )

    def close(self) -> None:
        """Remove the store's export and close the store's connections."""
        if hasattr(self, "_folder"):
            self._folder.close()
        if self.services_wanted():
            self.services.uow.engine.dispose()
            if self.services.inbox is not self.services.uow:
                self.services.inbox.engine.dispose()

    def _report(self, path: Path, pairs: Any, sequence: Any) -> None:
        from lealta.affinity.report import render_affinity_report

        html = render_affinity_report(
            f"Affinity of {self.options.by} in {Path(self.source).name}",
            self._facts(),
            None if pairs is None else pairs.to_dict("records"),
            None if sequence is None else sequence.to_dict("records"),
            self.names(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")

    def names(self) -> dict[str, str]:
        """Each product's name (its latest), when the lines carry one; computed once."""
        from lealta.affinity.lines import item_names

        if not hasattr(self, "_names"):
            self._names = item_names(self.lines)
        return self._names

    def _facts(self) -> dict[str, str]:
        lines, o = self.lines, self.options
        window = f"{o.window_days} days before" if o.window_days else "every order before"
        facts = {
            "Source": self.source,
            "Items": f"{o.by} (column {lines.item_column})",
            "Period": f"{window} {lines.as_of.isoformat()}",
            "Lines used": f"{lines.rows_kept:,} of {lines.rows_read:,}",
            "Thresholds": f"at least {o.min_count} and {o.min_support:.2%} (support)",
        }
        if lines.rejected:
            facts["Left out"] = ", ".join(f"{r}: {n:,}" for r, n in lines.rejected.items())
        if lines.label_column:
            facts["Names"] = f"column {lines.label_column} (each product's latest)"
        if o.gap_days:
            facts["Sequence gap"] = f"{o.gap_days} days"
        return facts

    def _print(self, shown: Any, suggestions: Any) -> None:
        if self.quiet:
            return
        from rich.table import Table

        lines = self.lines
        kind = "in sequence" if self.sequence else "together"
        self.console.print(
            f"{lines.rows_kept:,} of {lines.rows_read:,} lines used "
            f"(before {lines.as_of.isoformat()}); {len(shown):,} pairs bought {kind}"
        )
        for note in lines.notes:
            self.console.print(f"note: {note}")
        table = Table("A", "B", "both", "support", "confidence", "lift")
        from lealta.affinity.report import named

        names = self.names()
        for row in shown.head(15).to_dict("records"):
            table.add_row(
                named(str(row["item_a"]), names),
                named(str(row["item_b"]), names),
                f"{row['n_ab']:,}",
                f"{row['support']:.2%}",
                f"{row['confidence']:.1%}",
                f"{row['lift']:.2f}",
            )
        if len(shown):
            self.console.print(table)
        else:
            self.console.print(
                "no pair reaches the thresholds (--min-count, --min-support)"
                + ("" if self.sequence else "; --sequence finds what is bought next")
            )
        if suggestions is not None:
            people = suggestions["customer_id"].nunique()
            self.console.print(f"next-best {self.options.by}: {people:,} customers")
        if self.saved is not None:
            self.console.print(f"saved {self.saved:,} suggestions (contact_next_best)")


def _write(frame: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        frame.to_csv(path, index=False)
    elif name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    elif name.endswith(".jsonl"):
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_json(path, orient="records", indent=1)
