"""What the three table readers share: the result type, cell building, header positions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from nianbao.model.cells import catalog
from nianbao.model.report import CellValue, Source
from nianbao.parsing.document import Cell
from nianbao.parsing.numbers import parse_number
from nianbao.reading.normalize import norm
from nianbao.reading.rows import Line, source, trim


@dataclass
class TableRead:
    """What one table reader found."""

    table: str
    cells: dict[str, CellValue] = field(default_factory=dict)
    layout: str | None = None
    """The template whose rows this table has, when the table itself shows it."""
    unreadable: list[str] = field(default_factory=list)
    """Cells of rows that were found but whose values could not be placed in columns."""
    used: set[int] = field(default_factory=set)
    """Indices of the document rows this table consumed."""

    @property
    def found(self) -> bool:
        return bool(self.cells) or bool(self.unreadable)

    def put(self, cell_id: str, cell: Cell, where: Source) -> None:
        """Record one cell (the first reading of a cell wins)."""
        if cell_id in self.cells:
            return
        spec = catalog()[cell_id]
        parsed = parse_number(cell.text, spec.kind)
        self.cells[cell_id] = CellValue(
            id=cell_id,
            raw=cell.text.strip(),
            value=parsed.value,
            blank=parsed.blank,
            source=where,
        )

    def put_row(self, row_key: str, columns: Sequence[str], cells: Sequence[Cell] | None, line: Line) -> None:
        """Record a row's cells in column order, or mark them unreadable."""
        self.used.add(line.index)
        if cells is None:
            for col in columns:
                cid = f"{self.table}.{row_key}.{col}"
                if cid not in self.cells and cid not in self.unreadable:
                    self.unreadable.append(cid)
            return
        where = source(self.table, line)
        for col, cell in zip(columns, cells, strict=True):
            self.put(f"{self.table}.{row_key}.{col}", cell, where)


def header_positions(line: Line, match: ColumnMatcher) -> dict[str, tuple[int, int]]:
    """Column key → (first, last) grid position of each column label in a header row."""
    out: dict[str, tuple[int, int]] = {}
    if len(line.row.cells) < 2:
        return out
    for i, cell in enumerate(line.row.cells):
        key = match(cell.text)
        if key and key not in out:
            start = cell.col if line.row.aligned else i
            out[key] = (start, start + max(cell.colspan, 1) - 1)
    return out


class ColumnMatcher:
    """Maps a header cell's text to a column key by exact labels and distinctive substrings."""

    def __init__(self, exact: dict[str, str], contains: Iterable[tuple[str, str]]) -> None:
        self.exact = exact
        self.contains = tuple(contains)
        self._seen: dict[str, str | None] = {}

    def __call__(self, text: str) -> str | None:
        if text in self._seen:
            return self._seen[text]
        if len(self._seen) > 8192:
            self._seen.clear()
        key = self._match(norm(text))
        self._seen[text] = key
        return key

    def _match(self, t: str) -> str | None:
        if not t:
            return None
        if t in self.exact:
            return self.exact[t]
        for needle, key in self.contains:
            if needle in t:
                return key
        return None


Placement = tuple[list[str], list[Cell]]


def place(
    line: Line,
    order: Sequence[str],
    positions: dict[str, tuple[int, int]],
    *,
    allow_subset: bool = True,
    header_width: int | None = None,
    holds: Callable[[Placement], bool] | None = None,
) -> Placement | None:
    """Put a row's values into columns; None when they cannot be placed honestly.

    By grid position when the header names every column and the row lies on the header's grid
    (a real grid, or a text row no wider than the header rows: a wider one is offset from them);
    else by count, in header order, after dropping the empty spacer cells merged cells leave at
    the ends. A text row can fit both ways and disagree — a blank first or last cell looks just
    like a spacer (「总计\t\t1\t0…」 is a shifted row with a blank 自然人, or an unshifted one with a
    blank 总计) — and then ``holds`` (the row's own arithmetic) decides, else the grid does.
    """
    fits_header = header_width is not None and len(line.row.cells) <= header_width
    by_grid = None
    if len(positions) == len(order) and (line.row.aligned or fits_header):
        by_grid = _by_position(line, order, positions)
        if by_grid is not None and line.row.aligned:
            return by_grid
    vals = trim(line.values, len(order))
    by_count = (list(order), vals) if vals is not None else None
    if by_grid is not None and by_count is not None and by_grid[1] != by_count[1] and holds is not None:
        if holds(by_count) and not holds(by_grid):
            return by_count
        return by_grid
    if by_grid is not None or by_count is not None:
        return by_grid or by_count
    if allow_subset and max(2, len(order) - 2) <= len(positions) < len(order):
        sub = sorted(positions, key=lambda k: positions[k][0])
        vals = trim(line.values, len(sub))
        if vals is not None:
            return sub, vals
    if line.row.aligned and positions:
        return _by_position(line, sorted(positions, key=lambda k: positions[k][0]), positions, partial=True)
    return None


def _by_position(
    line: Line, order: Sequence[str], positions: dict[str, tuple[int, int]], *, partial: bool = False
) -> tuple[list[str], list[Cell]] | None:
    label_end = max((c.col + max(c.colspan, 1) - 1 for c in line.labels), default=-1)
    if any(lo <= label_end for lo, _ in positions.values()):
        return None  # a label stands where a column's number should be: the row is shifted
    cols: list[str] = []
    cells: list[Cell] = []
    for key in order:
        lo, hi = positions[key]
        hits = [c for c in line.values if lo <= c.col <= hi]
        if len(hits) > 1 or (not hits and not partial):
            return None
        if hits:
            cols.append(key)
            cells.append(hits[0])
    placed = {id(c) for c in cells}
    if not cols or any(v.text.strip() and id(v) not in placed for v in line.values):
        return None
    return cols, cells
