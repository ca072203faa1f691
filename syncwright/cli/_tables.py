"""Tables that never cut what an operator must copy.

Rich shortens a cell that does not fit (``exc_01m8…``). An id an operator copies into the next
command -- exception, correlation, workflow run, native ids -- and a step or workflow name must
stay whole at any terminal width. So: columns marked ``whole`` keep their full width; when the
terminal is too narrow, the least important other columns go first; when even the whole columns
do not fit side by side, each row is printed as a block of ``label: value`` lines instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

# What a table adds around its cells: one border at the left, then per column a padding of one
# on each side and a border (rich's default box).
_EDGE = 1
_PER_COLUMN = 3
# The narrowest a wrapping column gets before it is dropped instead.
_MIN_WRAPPING = 8


@dataclass(frozen=True)
class Column:
    header: str
    whole: bool = False
    """Never cut or wrapped: ids and names an operator copies."""
    keep: int = 0
    """Importance among the other columns: the lowest goes first when space runs out."""


def _fits(widths: Sequence[int], width: int) -> bool:
    return _EDGE + sum(w + _PER_COLUMN for w in widths) <= width


def print_table(console: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` under ``columns`` in ``console``'s width, keeping ``whole`` columns whole."""
    natural = [max([len(c.header), *(len(row[i]) for row in rows)]) for i, c in enumerate(columns)]
    minimum = [
        natural[i] if c.whole else min(natural[i], max(len(c.header), _MIN_WRAPPING))
        for i, c in enumerate(columns)
    ]
    shown = list(range(len(columns)))
    droppable = sorted(
        (i for i, c in enumerate(columns) if not c.whole), key=lambda i: (columns[i].keep, -i)
    )
    while not _fits([minimum[i] for i in shown], console.width) and droppable:
        shown.remove(droppable.pop(0))
    if not _fits([minimum[i] for i in shown], console.width):
        _print_blocks(console, columns, rows)
        return
    table = Table()
    for i in shown:
        column = columns[i]
        if column.whole:
            table.add_column(column.header, no_wrap=True, min_width=natural[i])
        else:
            table.add_column(column.header, overflow="fold")
    for row in rows:
        table.add_row(*(Text(row[i]) for i in shown))
    console.print(table)
    hidden = [columns[i].header for i in range(len(columns)) if i not in shown]
    if hidden:
        console.print(
            Text(f"({', '.join(hidden)} not shown at this width; --json has everything)"),
            style="dim",
        )


def _print_blocks(
    console: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]]
) -> None:
    label_width = max(len(c.header) for c in columns)
    for index, row in enumerate(rows):
        if index:
            console.print()
        for column, value in zip(columns, row, strict=True):
            if value:
                # soft_wrap: the terminal, not rich, wraps a long value; nothing is cut.
                console.print(Text(f"{column.header.rjust(label_width)}: {value}"), soft_wrap=True)
