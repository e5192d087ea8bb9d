"""XLSX reports (Excel, WPS 表格) → :class:`Document`.

Why it looks like this: agencies send the three tables as a workbook — one sheet per table
(often named 表二/表三/表四) or the whole report in one sheet with headings, narrative in column A
and the tables below. Merged ranges are what make the printed form (``三、本年度办理结果`` over
20/22 rows). openpyxl's normal mode has them but spends most of its time styling every merged
cell (about 70 ms a report, measured by ``benchmarks/bench_formats_read.py``); read-only mode
is 3–5× faster but has no merged cells and no hidden rows/columns. So the workbook is opened
read-only and those three things are read from each worksheet's XML (``<mergeCell>``, hidden
``<row>``/``<col>``) in one extra streaming pass.

Per visible sheet:

* the sheet name is emitted first as a text row;
* rows are grouped into blocks separated by fully empty rows; a block whose rows each hold at most
  one non-empty cell is narrative (one text row per cell line); any other block is one table;
* in a table block that has cell borders, leading and trailing rows with a single non-empty cell
  and no border (a heading or note typed above/below the drawn table) are text rows;
* table cells: every grid position in the block's used column range that is not covered by a
  merged range, empty ones included (``""``: a blank cell is data); merged ranges give
  ``rowspan``/``colspan``; hidden rows and columns are skipped and do not count as grid columns;
* values: ints as ``12`` (``3.0`` → ``3``), other floats as the shortest text that round-trips at
  Excel's 15 significant digits (``4068.208``), never scientific notation; dates ISO; formulas
  give their cached value (a formula never calculated by a spreadsheet program reads ``""``);
* ``Row.line`` is the Excel row number.

Hostile workbooks: the package passes the zip guard and every XML part is streamed once (none may
inflate past its declared size, their tags are counted) before openpyxl sees it; openpyxl parses
with defusedxml (no entities, no DTD fetching) when it is installed, which it is (a dependency).
The sheet's declared ``<dimension>`` is ignored (``A1:XFD1048576`` would pad every row to 16,384
cells); rows, cells and merged ranges beyond Excel's grid are ignored, huge merged ranges too, and a
table block's area is capped (:mod:`nianbao.parsing.limits`).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nianbao.errors import ParseFailed
from nianbao.parsing.document import Cell, Document, Row, grid_rows, text_row
from nianbao.parsing.encoding import join_pieces, normalize_space
from nianbao.parsing.limits import (
    MAX_MERGE_AREA,
    MAX_MERGED_CELLS,
    MAX_SHEET_COLUMNS,
    MAX_SHEET_ROWS,
    MAX_TABLE_AREA,
    MAX_XLSX_TAGS,
    SAFE_XML_OPTIONS,
    open_zip,
    read_member,
    too_big,
    verify_members,
    xml_budget,
)

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
BAD_FILE_ERRORS = (
    ValueError, KeyError, IndexError, TypeError, AttributeError, OSError, SyntaxError, EOFError, RuntimeError,
    NotImplementedError, OverflowError, zipfile.BadZipFile, zlib.error,
)  # fmt: skip
"""What openpyxl and lxml raise for a damaged workbook (programming errors are not among them).
``OverflowError``: openpyxl keeps style indexes in a C ``array('i')``, so an index past 2³¹ overflows."""

MSG_CORRUPT = (
    "XLSX 文件已损坏或不是有效的 Excel 工作簿，无法打开；请在 Excel/WPS 中重新另存为 .xlsx 或导出 PDF 后上传"
)
MSG_EMPTY = "工作簿中没有可见的工作表内容，请上传填写完整的年度报告"


def read(data: bytes) -> Document:
    """Read an XLSX workbook into the intermediate form."""
    wb = _open(data)
    rows: list[Row] = []
    tables = 0
    try:
        for ws in wb.worksheets:
            if getattr(ws, "sheet_state", "visible") != "visible":
                continue
            rows.append(text_row(normalize_space(ws.title)))
            sheet_rows, tables = _read_sheet(ws, tables)
            rows.extend(sheet_rows)
        title = _title_hint(wb)
    except BAD_FILE_ERRORS as exc:  # a damaged sheet part: XML errors, bad references…
        raise ParseFailed(MSG_CORRUPT, f"{type(exc).__name__}: {exc}") from None
    finally:
        wb.close()
    if not any(r.table is not None or r.line is not None for r in rows):
        raise ParseFailed(MSG_EMPTY, "no non-empty cells in visible sheets")
    return Document(rows=rows, title_hint=title, source_format="xlsx")


def _open(data: bytes) -> Any:
    import openpyxl

    try:
        with open_zip(data) as zf:  # a zip bomb is a ParseFailed here, before openpyxl opens it
            verify_members(zf, xml_budget(MAX_XLSX_TAGS))
        return openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=True)
    except BAD_FILE_ERRORS as exc:  # BadZipFile, KeyError, InvalidFileException (a ValueError)…
        raise ParseFailed(MSG_CORRUPT, f"{type(exc).__name__}: {exc}") from None



def _title_hint(wb: Any) -> str | None:
    try:
        title = normalize_space(wb.properties.title or "")
    except BAD_FILE_ERRORS:
        title = ""
    return title or None


def value_text(value: Any) -> str:
    """A cell value as report text (see the module docstring); lines of a string are kept apart by ``\\n``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    lines = (normalize_space(line) for line in str(value).replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def float_text(value: float) -> str:
    """``3.0`` → ``3``; ``4068.208`` → ``4068.208``; never scientific notation."""
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = repr(float(f"{value:.15g}"))
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


@dataclass(slots=True)
class _Grid:
    """One sheet as positioned values: visible rows and columns only."""

    values: dict[tuple[int, int], str]  # (excel row, excel col) → text, origin cells only
    spans: dict[tuple[int, int], tuple[int, int]]  # origin → (rowspan, colspan) in visible units
    covered: set[tuple[int, int]]  # non-origin positions of merged ranges
    bordered: set[tuple[int, int]]
    rows: list[int]  # visible excel row numbers
    cols: list[int]  # visible excel column numbers
    filled: dict[int, int]  # row → values in visible columns (computed once: every rule asks)
    merged_rows: set[int]  # rows with a covered position in a visible column
    bordered_rows: set[int]  # rows with a bordered position in a visible column
    row_cols: dict[int, list[int]]  # row → its columns with a value or a border (visible, ascending)


@dataclass(slots=True)
class _SheetExtras:
    """What read-only mode does not give: merged ranges and hidden rows/columns."""

    merges: list[tuple[int, int, int, int]]  # min_row, min_col, max_row, max_col
    hidden_rows: set[int]
    hidden_cols: set[int]


def _sheet_extras(ws: Any) -> _SheetExtras:
    """Read ``<mergeCell>``, hidden ``<row>`` and hidden ``<col>`` from the worksheet's XML part."""
    from lxml import etree
    from openpyxl.utils.cell import range_boundaries

    extras = _SheetExtras([], set(), set())
    xml = read_member(ws.parent._archive, ws._worksheet_path)
    if _plain_xml(xml) and b"mergeCell" not in xml and b"hidden" not in xml:
        return extras  # nothing to find: skip the second parse (openpyxl parses the sheet anyway)
    tags = (f"{_NS}row", f"{_NS}col", f"{_NS}mergeCell")
    merged = 0
    with io.BytesIO(xml) as src:
        for _, el in etree.iterparse(src, events=("end",), tag=tags, **SAFE_XML_OPTIONS):
            hidden = el.get("hidden") in ("1", "true")
            if el.tag == tags[0] and hidden and el.get("r"):
                extras.hidden_rows.add(int(el.get("r")))
            elif el.tag == tags[1] and hidden:
                first = max(1, int(el.get("min", "1")))
                last = min(int(el.get("max", el.get("min", "1"))), MAX_SHEET_COLUMNS)
                extras.hidden_cols.update(range(first, last + 1))
            elif el.tag == tags[2] and el.get("ref") and ":" in el.get("ref"):
                min_col, min_row, max_col, max_row = range_boundaries(el.get("ref"))
                area = (max_row - min_row + 1) * (max_col - min_col + 1)
                outside = max_row > MAX_SHEET_ROWS or max_col > MAX_SHEET_COLUMNS
                if area <= MAX_MERGE_AREA and not outside:  # a larger range is decoration: not enumerated
                    merged += area
                    if merged > MAX_MERGED_CELLS:
                        raise too_big(f"merged ranges of sheet {ws.title!r} cover more than {MAX_MERGED_CELLS} cells")
                    extras.merges.append((min_row, min_col, max_row, max_col))
            el.clear()
            while el.getprevious() is not None:  # cleared rows would still pile up under the root
                del el.getparent()[0]
    return extras



def _plain_xml(xml: bytes) -> bool:
    """True when element and attribute names appear literally in the bytes: an ASCII-compatible
    encoding and no DTD (whose entities could spell markup out of character references)."""
    return xml.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and b"<!DOCTYPE" not in xml and b"<!ENTITY" not in xml


def _has_border(cell: Any, known: dict[int, bool]) -> bool:
    """Whether the cell's border has a drawn side (cached per border object: cells share a few)."""
    b = cell.border
    drawn = known.get(id(b))
    if drawn is None:
        drawn = known[id(b)] = any(getattr(side, "style", None) for side in (b.left, b.right, b.top, b.bottom))
    return drawn


def _load_grid(ws: Any) -> _Grid:
    extras = _sheet_extras(ws)
    values: dict[tuple[int, int], str] = {}
    bordered: set[tuple[int, int]] = set()
    borders: dict[int, bool] = {}
    max_row = max_col = 0
    ws.reset_dimensions()  # a declared A1:XFD1048576 would pad every row to 16,384 cells
    for row in ws.iter_rows(max_row=MAX_SHEET_ROWS):
        for cell in row:
            r, c = getattr(cell, "row", None), getattr(cell, "column", None)
            if r is None or c is None:  # padding of a sparse row
                continue
            if r > MAX_SHEET_ROWS or c > MAX_SHEET_COLUMNS:
                continue
            text = value_text(cell.value)
            border = cell.has_style and _has_border(cell, borders)
            if text:
                values[(r, c)] = text
            if border:
                bordered.add((r, c))
            if text or border:
                max_row, max_col = max(max_row, r), max(max_col, c)
    for _, _, r1, c1 in extras.merges:
        max_row, max_col = max(max_row, r1), max(max_col, c1)
    rows = [r for r in range(1, max_row + 1) if r not in extras.hidden_rows]
    cols = [c for c in range(1, max_col + 1) if c not in extras.hidden_cols]
    row_set, col_set = set(rows), set(cols)
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    covered: set[tuple[int, int]] = set()
    for r0, c0, r1, c1 in extras.merges:
        rs = sum(1 for r in range(r0, r1 + 1) if r in row_set)
        cs = sum(1 for c in range(c0, c1 + 1) if c in col_set)
        spans[(r0, c0)] = (max(rs, 1), max(cs, 1))
        covered.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1) if (r, c) != (r0, c0))
    keep = {pos: text for pos, text in values.items() if pos not in covered and pos[0] in row_set and pos[1] in col_set}
    visible_bordered = {p for p in bordered if p[0] in row_set}
    filled: dict[int, int] = {}
    for r, _ in keep:
        filled[r] = filled.get(r, 0) + 1
    # by row, so text rows and column ranges look at the cells there are, not at all 16,384 columns
    row_cols: dict[int, set[int]] = {}
    for r, c in keep.keys() | {p for p in visible_bordered if p[1] in col_set}:
        row_cols.setdefault(r, set()).add(c)
    return _Grid(
        keep,
        spans,
        covered,
        visible_bordered,
        rows,
        cols,
        filled,
        merged_rows={r for r, c in covered if c in col_set},
        bordered_rows={r for r, c in visible_bordered if c in col_set},
        row_cols={r: sorted(cs) for r, cs in row_cols.items()},
    )


def _read_sheet(ws: Any, tables: int) -> tuple[list[Row], int]:
    grid = _load_grid(ws)
    out: list[Row] = []
    for block in _blocks(grid):
        if all(_filled(grid, r) <= 1 for r in block):
            out.extend(_text_rows(grid, block))
            continue
        head, body, tail = _split_titles(grid, block)
        out.extend(_text_rows(grid, head))
        out.extend(_table_rows(grid, body, tables))
        tables += 1
        out.extend(_text_rows(grid, tail))
    return out, tables


def _filled(grid: _Grid, r: int) -> int:
    return grid.filled.get(r, 0)


def _blocks(grid: _Grid) -> list[list[int]]:
    """Runs of visible rows separated by rows with no value (rows covered by a merge stay inside)."""
    blocks: list[list[int]] = []
    current: list[int] = []
    for r in grid.rows:
        in_merge = r in grid.merged_rows
        if _filled(grid, r) or (in_merge and current):
            current.append(r)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _split_titles(grid: _Grid, block: list[int]) -> tuple[list[int], list[int], list[int]]:
    """Leading/trailing single-value rows without borders, when the block has borders at all."""
    if not any(r in grid.bordered_rows for r in block):
        return [], block, []

    def is_title(r: int) -> bool:
        return _filled(grid, r) <= 1 and r not in grid.bordered_rows

    start, end = 0, len(block)
    while start < end and is_title(block[start]):
        start += 1
    while end > start and is_title(block[end - 1]):
        end -= 1
    return block[:start], block[start:end], block[end:]


def _text_rows(grid: _Grid, block: list[int]) -> list[Row]:
    out: list[Row] = []
    for r in block:
        for c in grid.row_cols.get(r, ()):
            text = grid.values.get((r, c), "")
            out.extend(text_row(line, line=r) for line in text.split("\n") if line)
    return out


def _table_rows(grid: _Grid, block: list[int], table: int) -> list[Row]:
    used = sorted({c for r in block for c in grid.row_cols.get(r, ())})
    if not used:
        return []
    first, last = grid.cols.index(used[0]), grid.cols.index(used[-1])
    span_cols = grid.cols[first : last + 1]
    if len(block) * len(span_cols) > MAX_TABLE_AREA:  # every empty position becomes a cell
        raise too_big(f"a table of {len(block)} rows × {len(span_cols)} columns")
    cells_by_row: list[list[Cell]] = []
    for i, r in enumerate(block):
        cells: list[Cell] = []
        for j, c in enumerate(span_cols):
            if (r, c) in grid.covered:
                continue
            rowspan, colspan = grid.spans.get((r, c), (1, 1))
            rowspan = min(rowspan, len(block) - i)
            colspan = min(colspan, len(span_cols) - j)
            text = join_pieces(grid.values.get((r, c), "").split("\n"))
            cells.append(Cell(text, col=j, colspan=colspan, rowspan=rowspan))
        cells_by_row.append(cells)
    rows = grid_rows(cells_by_row, table)
    for row, r in zip(rows, block, strict=True):
        row.line = r
    return rows
