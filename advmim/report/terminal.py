"""Show a :class:`advmim.report.model.Table` in the terminal as a rich table.

Every text is a :class:`rich.text.Text` (never parsed as markup), so a name or footnote such as
``[link=...]x[/link]`` or ``[/bold]`` prints as written.
"""

from __future__ import annotations

from advmim.report.model import Cell, Column, Format, Table


class RichFormat(Format):
    def start(self, table: Table) -> None:
        from rich.table import Table as RichTable
        from rich.text import Text

        self.table = RichTable(title=Text(table.title), caption=Text(table.footnote) if table.footnote else None,
                               caption_justify="left", show_lines=False)
        self.table.add_column("Method", no_wrap=True)
        for col in table.columns:
            title = col.title(table.mode)
            self.table.add_column(Text(f"{col.labeled} lab.\n{title}"), justify="right",
                                  no_wrap=col.kind != "published", min_width=min(len(title), 14),
                                  style="dim" if col.kind == "published" else None)

    def group(self, title: str, first: bool) -> None:
        from rich.text import Text

        if not first:
            self.table.add_section()
        self.table.add_row(Text(title, style="italic"))

    def row(self, name: str, cells: list) -> None:
        from rich.text import Text

        self.table.add_row(Text(name), *cells)

    def cell(self, cell: Cell | None, column: Column):
        from rich.text import Text

        if cell is None:
            return Text("–")
        text = Text(cell.text(), style="bold green" if cell.best else "")
        if cell.marks:
            text.append(" " + cell.marks)
        return text

    def finish(self, table: Table):
        return self.table


def rich_table(table: Table):
    """A :class:`rich.table.Table` of ``table``."""
    return table.render(RichFormat())


def print_table(table: Table, console=None) -> None:
    """Print :func:`rich_table` to ``console`` (default: stdout, as wide as the table needs when it
    is not a terminal, e.g. a Snakemake log, so that no column is cut)."""
    from rich.console import Console
    from rich.measure import Measurement

    drawn = rich_table(table)
    if console is None:
        console = Console()
        if not console.is_terminal:
            unbounded = console.options.update_width(10_000)
            console.width = max(console.width, Measurement.get(console, unbounded, drawn).maximum)
    console.print(drawn)
