"""Rows of text as an aligned table: the CLI's listings and console log lines share it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Columns named by the first row's keys (upper case); a list cell is joined with ", ",
    an empty one is "-"."""
    columns = list(rows[0])
    cells = [[column.upper() for column in columns]]
    cells += [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(line[index]) for line in cells) for index in range(len(columns))]
    widths[-1] = 0  # the last column is not padded
    return "\n".join(
        "  ".join(f"{cell:<{width}}" for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = ", ".join(str(item) for item in value)
    return str(value) if value not in (None, "") else "-"
