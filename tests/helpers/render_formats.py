"""Render a :class:`SyntheticReport` as a complete annual report in HTML, DOCX, XLSX or PDF.

Why: the format readers must give back the printed national form — the same merged cells in the
same grid positions — whatever the container. These renderers write one report the way an
agency's office software would: title 「{agency}{year}年政府信息公开工作年度报告」, a preamble with
the statistics period, the six section headings, the narrative of 一/五/六 and tables 二/三/四
laid out exactly as the printed form of ``r.template`` (format.md §4–§6; labels from
``cells.json`` through :mod:`tests.helpers.render_text`):

* 二: a 4-column grid; each block opens with ``第二十条第（X）项`` across all columns, then
  ``信息内容`` + column labels (one data column spans 3, two span 1+2), then the rows;
* 三: 10 columns; the note cell rowspan 3 × colspan 3, ``申请人情况`` colspan 7, ``自然人``/``总计``
  rowspan 2, ``法人或其他组织`` colspan 5; ``三、本年度办理结果`` rowspan 20 (2019) / 22 (2021);
  group cells （三）（四）（五） and, in 2021, （六） with rowspan; label colspans 3 or 2;
* 四: 4 rows × 15 columns with its spans.

Values: counts as digits, amounts as given (``4068.208``), 本年增/减 with an explicit ``+``.
``blanks`` (cell ids) and ``blank_zeros`` leave cells empty instead of printing them.
"""

from __future__ import annotations

import html
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from tests.helpers.render_text import (
    S3_COL_LABELS,
    S3_NOTE,
    S3_OUTCOMES_LABEL,
    S4_GROUP_LABELS,
    S4_PART_LABELS,
    SECTION_HEADINGS,
    cell_kind,
    format_value,
    s2_blocks,
    s3_rows,
    s4_ids,
)
from tests.helpers.synthetic import SyntheticReport

PREAMBLE = "本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求编制。"


# --------------------------------------------------------------------------------------------
# The printed grid of each table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridCell:
    """A cell of the printed form at its grid position."""

    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1
    label: bool = True
    """False for value cells."""
    valign: str = "MIDDLE"
    """Vertical alignment in a PDF (a label cut by a page break hugs the break)."""


@dataclass(frozen=True)
class Grid:
    """One table of the printed form."""

    name: str
    ncols: int
    nrows: int
    cells: tuple[GridCell, ...]
    header_rows: int = 0

    def rows(self) -> list[list[GridCell]]:
        """Cells by the row they start in, left to right."""
        out: list[list[GridCell]] = [[] for _ in range(self.nrows)]
        for c in sorted(self.cells, key=lambda c: (c.row, c.col)):
            out[c.row].append(c)
        return out


class Values:
    """The printed text of each cell (empty for ``blanks``, and for zeros with ``blank_zeros``)."""

    def __init__(self, r: SyntheticReport, blanks: Collection[str] = (), blank_zeros: bool = False) -> None:
        self.r = r
        self.blanks = frozenset(blanks)
        self.blank_zeros = blank_zeros

    def __call__(self, cell_id: str) -> str:
        if cell_id in self.blanks or cell_id not in self.r.cells:
            return ""
        value = self.r.cells[cell_id]
        if self.blank_zeros and value == 0:
            return ""
        return format_value(cell_kind(self.r.template, cell_id), value)

    def blank_ids(self) -> set[str]:
        """Every cell id this rendering leaves empty."""
        return {cid for cid in self.r.cells if not self(cid)}


def table2(r: SyntheticReport, values: Values) -> Grid:
    """Table 二: blocks of 第二十条第（X）项 across 4 columns, 信息内容 + column labels, rows."""
    cells: list[GridCell] = []
    row = 0
    spans = {1: [3], 2: [1, 2], 3: [1, 1, 1]}
    for block in s2_blocks(r.template):
        widths = spans[len(block.cols)]
        cells.append(GridCell(row, 0, block.group, colspan=4))
        cells.append(GridCell(row + 1, 0, "信息内容"))
        col = 1
        for label, w in zip(block.cols, widths, strict=True):
            cells.append(GridCell(row + 1, col, label, colspan=w))
            col += w
        row += 2
        for label, ids in block.rows:
            cells.append(GridCell(row, 0, label))
            col = 1
            for cid, w in zip(ids, widths, strict=True):
                cells.append(GridCell(row, col, values(cid), colspan=w, label=False))
                col += w
            row += 1
    return Grid("二", 4, row, tuple(cells))


def table3(r: SyntheticReport, values: Values) -> Grid:
    """Table 三: the 3-row header, then the body rows with their row-spanning group labels."""
    cells = [
        GridCell(0, 0, S3_NOTE, rowspan=3, colspan=3),
        GridCell(0, 3, "申请人情况", colspan=7),
        GridCell(1, 3, S3_COL_LABELS[0], rowspan=2),
        GridCell(1, 4, "法人或其他组织", colspan=5),
        GridCell(1, 9, S3_COL_LABELS[6], rowspan=2),
        *(GridCell(2, 4 + k, label) for k, label in enumerate(S3_COL_LABELS[1:6])),
    ]
    body = s3_rows(r.template)
    outcome_rows = sum(1 for b in body if b.level != "top")
    group_rows: dict[str, int] = {}
    for b in body:
        if b.group:
            group_rows[b.group] = group_rows.get(b.group, 0) + 1
    seen: set[str] = set()
    first_outcome = True
    for i, b in enumerate(body):
        row = 3 + i
        if b.level == "top":
            cells.append(GridCell(row, 0, b.label, colspan=3))
        else:
            if first_outcome:
                cells.append(GridCell(row, 0, S3_OUTCOMES_LABEL, rowspan=outcome_rows))
                first_outcome = False
            if b.level == "outcome":
                cells.append(GridCell(row, 1, b.label, colspan=2))
            else:
                assert b.group is not None
                if b.group not in seen:
                    cells.append(GridCell(row, 1, b.group, rowspan=group_rows[b.group]))
                    seen.add(b.group)
                cells.append(GridCell(row, 2, b.label))
        for k, cid in enumerate(b.ids()):
            cells.append(GridCell(row, 3 + k, values(cid), label=False))
    return Grid("三", 10, 3 + len(body), tuple(cells), header_rows=3)


def table4(r: SyntheticReport, values: Values) -> Grid:
    """Table 四: 4 rows × 15 columns."""
    cells = [
        GridCell(0, 0, S4_GROUP_LABELS["review"], colspan=5),
        GridCell(0, 5, "行政诉讼", colspan=10),
        *(GridCell(1, k, label, rowspan=2) for k, label in enumerate(S4_PART_LABELS)),
        GridCell(1, 5, S4_GROUP_LABELS["suit_direct"], colspan=5),
        GridCell(1, 10, S4_GROUP_LABELS["suit_after_review"], colspan=5),
        *(GridCell(2, 5 + k, label) for k, label in enumerate(S4_PART_LABELS)),
        *(GridCell(2, 10 + k, label) for k, label in enumerate(S4_PART_LABELS)),
        *(GridCell(3, k, values(cid), label=False) for k, cid in enumerate(s4_ids())),
    ]
    return Grid("四", 15, 4, tuple(cells), header_rows=3)


def grid_cells(grid: Grid) -> set[tuple[int, int, int, int, str]]:
    """``(row, col, rowspan, colspan, text)`` of every cell: what a reader must give back."""
    return {(c.row, c.col, c.rowspan, c.colspan, c.text) for c in grid.cells}


def document_grids(doc: Any) -> list[set[tuple[int, int, int, int, str]]]:
    """The same tuples for each table of a :class:`~nianbao.parsing.document.Document`, in order."""
    by_table: dict[int, list[Any]] = {}
    for row in doc.rows:
        if row.table is not None:
            by_table.setdefault(row.table, []).append(row)
    return [
        {(i, c.col, c.rowspan, c.colspan, c.text) for i, row in enumerate(rows) for c in row.cells}
        for _, rows in sorted(by_table.items())
    ]


def report_tables(r: SyntheticReport, values: Values) -> dict[str, Grid]:
    """Tables 二, 三, 四 of the report."""
    return {"二": table2(r, values), "三": table3(r, values), "四": table4(r, values)}


def period_sentence(r: SyntheticReport) -> str:
    """The preamble sentence with the statistics period."""
    return r.period or f"本报告所列数据统计期限为{r.year}年1月1日至{r.year}年12月31日。"


def blocks(r: SyntheticReport, values: Values) -> Iterator[tuple[str, Any]]:
    """The report in order: ``("title"|"para"|"heading", text)`` and ``("table", Grid)``."""
    tables = report_tables(r, values)
    yield "title", r.title
    yield "para", PREAMBLE
    yield "para", period_sentence(r)
    for i, heading in enumerate(SECTION_HEADINGS, start=1):
        yield "heading", heading
        if i in (2, 3, 4):
            yield "table", tables["二三四"[i - 2]]
        else:
            for para in r.sections.get(f"sec{i}", "").split("\n"):
                if para.strip():
                    yield "para", para.strip()


def split_grid(grid: Grid, at: int, repeat_header: bool = False, split_labels: bool = False) -> tuple[Grid, Grid]:
    """Cut a grid before row ``at`` as a page break does: spans clipped, the rest continued.

    The continuation of a row-spanning cell is empty (the label stays above the break), or with
    ``split_labels`` holds the second half of the label while the first half sits at the bottom of
    the first part (Word does this when the label is centred over the whole span: 淮安 2024 prints
    ``（四）无`` / ``法提供``).
    """
    first: list[GridCell] = []
    second: list[GridCell] = []
    offset = grid.header_rows if repeat_header else 0
    if repeat_header:
        second.extend(c for c in grid.cells if c.row < grid.header_rows)
    for c in grid.cells:
        last = c.row + c.rowspan - 1
        if c.row >= at:
            second.append(GridCell(c.row - at + offset, c.col, c.text, c.rowspan, c.colspan, c.label, c.valign))
            continue
        if last < at:
            first.append(c)
            continue
        head, tail, top_align, bottom_align = c.text, "", c.valign, c.valign
        if split_labels and c.label and len(c.text) >= 2:
            half = (len(c.text) + 1) // 2
            head, tail, top_align, bottom_align = c.text[:half], c.text[half:], "BOTTOM", "TOP"
        first.append(GridCell(c.row, c.col, head, at - c.row, c.colspan, c.label, top_align))
        second.append(GridCell(offset, c.col, tail, last - at + 1, c.colspan, c.label, bottom_align))
    return (
        Grid(grid.name, grid.ncols, at, tuple(first), grid.header_rows),
        Grid(grid.name, grid.ncols, grid.nrows - at + offset, tuple(second), grid.header_rows),
    )


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def _html_cell_text(text: str, word: bool, label: bool) -> str:
    if not text:
        return "&nbsp;" if word else ""
    if not word:
        return html.escape(text)
    if not label:  # Word splits numbers over several runs
        return "".join(f'<span lang="EN-US">{html.escape(ch)}</span>' for ch in text)
    if len(text) == 4 and all("\u4e00" <= ch <= "\u9fff" for ch in text):  # short headers wrap
        return f"<span>{html.escape(text[:2])}</span><br><span>{html.escape(text[2:])}</span>"
    return f'<span style="font-family:仿宋_GB2312">{html.escape(text)}</span>'


def _html_table(grid: Grid, word: bool) -> str:
    out = ['<table border="1" cellspacing="0" cellpadding="0" class="MsoNormalTable">' if word else '<table border="1">']
    for row in grid.rows():
        out.append("<tr>")
        for c in row:
            attrs = (f' colspan="{c.colspan}"' if c.colspan > 1 else "") + (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "")
            inner = _html_cell_text(c.text, word, c.label)
            if word:
                inner = f'<p class="MsoNormal" align="center">{inner}<o:p></o:p></p>'
            out.append(f"<td{attrs}>{inner}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "\n".join(out)


def render_html(
    r: SyntheticReport,
    *,
    blanks: Collection[str] = (),
    blank_zeros: bool = False,
    encoding: str = "utf-8",
    declare_charset: bool = True,
    word: bool = False,
    cms: bool = False,
) -> bytes:
    """The report as an HTML page.

    ``word``: Word-export markup (``MsoNormal`` paragraphs in cells, ``<o:p>``, numbers split over
    one ``<span>`` per digit, ``<br>`` inside short header labels, ``&nbsp;`` for blank cells).
    ``cms``: wrapped in a CMS page — script/style, a nav menu, header/footer, a metadata table and a
    layout table around the article. ``encoding``/``declare_charset``: bytes and ``<meta charset>``.
    """
    values = Values(r, blanks, blank_zeros)
    body: list[str] = []
    for kind, item in blocks(r, values):
        if kind == "title":
            body.append(f'<h1 class="article-title">{html.escape(item)}</h1>')
        elif kind == "heading":
            body.append(f'<p class="MsoNormal"><b>{html.escape(item)}</b></p>' if word else f"<h2>{html.escape(item)}</h2>")
        elif kind == "para":
            body.append(f'<p class="MsoNormal">{html.escape(item)}<o:p></o:p></p>' if word else f"<p>{html.escape(item)}</p>")
        else:
            body.append(_html_table(item, word))
    article = "\n".join(body)
    if cms:
        article = _cms_page(r, article)
    meta = f'<meta charset="{encoding}">' if declare_charset else ""
    page = f"<!DOCTYPE html>\n<html><head>{meta}<title>{html.escape(r.title)}-门户网站</title></head>\n<body>\n{article}\n</body></html>\n"
    return page.encode(encoding)


def _cms_page(r: SyntheticReport, article: str) -> str:
    return f"""<script>var site = "<table><tr><td>not content</td></tr></table>";</script>
<style>.nav {{ color: red }}</style>
<header><h1>{html.escape(r.agency)}门户网站</h1></header>
<nav><ul><li>首页</li><li>政务公开</li><li>政府信息公开年报</li></ul></nav>
<table class="layout" width="100%"><tr><td class="side">
<div class="sidebar"><p>相关链接</p><p>无障碍浏览</p></div>
</td><td class="main">
<table class="table_content"><tr><td>索引号</td><td>000000/2024-00001</td></tr><tr><td>发布机构</td><td>{html.escape(r.agency)}</td></tr></table>
<div class="article-content" id="zoomcon">
{article}
</div>
</td></tr></table>
<footer><p>主办单位：{html.escape(r.agency)}</p><p>网站标识码 0000000000</p></footer>"""


# --------------------------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------------------------


def render_docx(r: SyntheticReport, *, blanks: Collection[str] = (), blank_zeros: bool = False) -> bytes:
    """The report as a Word document: centred title, paragraphs, ``Table Grid`` tables with merges."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    values = Values(r, blanks, blank_zeros)
    doc = docx.Document()
    for kind, item in blocks(r, values):
        if kind == "title":
            p = doc.add_paragraph()
            p.add_run(item).bold = True
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif kind == "heading":
            doc.add_paragraph().add_run(item).bold = True
        elif kind == "para":
            doc.add_paragraph(item)
        else:
            _docx_table(doc, item)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _docx_table(doc: Any, grid: Grid) -> None:
    table = doc.add_table(rows=grid.nrows, cols=grid.ncols)
    table.style = "Table Grid"
    for c in grid.cells:
        cell = table.cell(c.row, c.col)
        if c.rowspan > 1 or c.colspan > 1:
            cell = cell.merge(table.cell(c.row + c.rowspan - 1, c.col + c.colspan - 1))
        cell.text = c.text


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------


def _xlsx_value(text: str, label: bool) -> Any:
    """Numbers as numbers (ints, floats); 本年增/减 positives as the text ``+n``."""
    if label or not text:
        return text or None
    if text.startswith("+"):
        return text
    try:
        return int(text)
    except ValueError:
        return float(text)


def _xlsx_table(ws: Any, grid: Grid, top: int) -> int:
    """Write a grid with its top-left at row ``top``, column A; return the next free row."""
    from openpyxl.styles import Border, Side

    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for c in grid.cells:
        row, col = top + c.row, 1 + c.col
        ws.cell(row=row, column=col, value=_xlsx_value(c.text, c.label))
        for dr in range(c.rowspan):
            for dc in range(c.colspan):
                ws.cell(row=row + dr, column=col + dc).border = border
        if c.rowspan > 1 or c.colspan > 1:
            ws.merge_cells(start_row=row, start_column=col, end_row=row + c.rowspan - 1, end_column=col + c.colspan - 1)
    return top + grid.nrows


def render_xlsx(
    r: SyntheticReport,
    layout: str = "one_sheet",
    *,
    blanks: Collection[str] = (),
    blank_zeros: bool = False,
) -> bytes:
    """The report as a workbook.

    ``one_sheet``: everything in one sheet, narrative in column A, each section heading directly
    above its bordered table, blocks separated by an empty row. ``sheets``: 报告 (title, preamble,
    一), 表二/表三/表四 (heading + table) and 其他 (五, 六).
    """
    import openpyxl

    if layout not in ("one_sheet", "sheets"):
        raise ValueError(f"unknown layout {layout!r}")
    values = Values(r, blanks, blank_zeros)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "年度报告" if layout == "one_sheet" else "报告"
    row = 1
    for kind, item in blocks(r, values):
        if layout == "sheets" and kind == "heading":
            name = {"二": "表二", "三": "表三", "四": "表四", "五": "其他"}.get(item[0])
            if name:
                ws, row = wb.create_sheet(name), 1
        if kind == "table":
            row = _xlsx_table(ws, item, row) + 1
            continue
        if kind == "heading" and row > 1 and ws.cell(row=row - 1, column=1).value is not None:
            row += 1  # an empty row before each heading
        ws.cell(row=row, column=1, value=item)
        row += 1
    wb.properties.title = r.title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------

PDF_FONT = "STSong-Light"
_COL_WIDTHS = {
    "二": [130.0, 115.0, 115.0, 115.0],
    "三": [18.0, 56.0, 150.0] + [35.0] * 7,
    "四": [31.0] * 15,
}


def pdf_styles(font_size: float) -> dict[str, Any]:
    """Paragraph styles in the CJK font (registered on first use)."""
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    base = {"fontName": PDF_FONT, "wordWrap": "CJK"}
    return {
        "title": ParagraphStyle("title", fontSize=16, leading=24, alignment=TA_CENTER, **base),
        "heading": ParagraphStyle("heading", fontSize=12, leading=20, spaceBefore=6, **base),
        "para": ParagraphStyle("para", fontSize=10.5, leading=18, firstLineIndent=21, **base),
        "cell": ParagraphStyle("cell", fontSize=font_size, leading=font_size + 2, **base),
    }


def pdf_table(grid: Grid, styles: dict[str, Any], font_size: float) -> Any:
    """A reportlab ``Table`` flowable of a grid: ``GRID`` rules, ``SPAN`` merges, wrapped labels."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    data: list[list[Any]] = [["" for _ in range(grid.ncols)] for _ in range(grid.nrows)]
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("FONTNAME", (0, 0), (-1, -1), PDF_FONT),
        ("FONTSIZE", (0, 0), (-1, -1), font_size),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]
    for c in grid.cells:
        data[c.row][c.col] = Paragraph(html.escape(c.text), styles["cell"]) if c.label and c.text else c.text
        if c.rowspan > 1 or c.colspan > 1:
            commands.append(("SPAN", (c.col, c.row), (c.col + c.colspan - 1, c.row + c.rowspan - 1)))
        if c.valign != "MIDDLE":
            commands.append(("VALIGN", (c.col, c.row), (c.col, c.row), c.valign))
    table = Table(data, colWidths=_COL_WIDTHS[grid.name], repeatRows=0)
    table.setStyle(TableStyle(commands))
    return table


def render_pdf(
    r: SyntheticReport,
    *,
    blanks: Collection[str] = (),
    blank_zeros: bool = False,
    break_table3_at: int | None = None,
    repeat_header: bool = False,
    split_labels: bool = False,
    font_size: float = 8,
) -> bytes:
    """The report as a PDF with ruled tables (reportlab ``Table`` with ``GRID`` and ``SPAN``).

    Text uses the built-in CID font STSong-Light (no font file needed). Pages carry a ``- N -``
    footer. ``break_table3_at``: force a page break before that row of table 三 (a grid row index,
    header rows included), splitting row-spanning cells the way Word does (the label stays on the
    first page, an empty continuation cell opens the next); ``repeat_header`` repeats the 3 header
    rows on the continuation page; ``split_labels`` cuts the labels of the cells crossing the break
    in two (see :func:`split_grid`).
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    styles = pdf_styles(font_size)
    values = Values(r, blanks, blank_zeros)
    story: list[Any] = []
    for kind, item in blocks(r, values):
        if kind != "table":
            story.append(Paragraph(html.escape(item), styles[kind]))
            continue
        if item.name == "三" and break_table3_at is not None:
            first, second = split_grid(item, break_table3_at, repeat_header, split_labels)
            story += [pdf_table(first, styles, font_size), PageBreak(), pdf_table(second, styles, font_size)]
        else:
            story.append(pdf_table(item, styles, font_size))
        story.append(Spacer(1, 6))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(PDF_FONT, 10)
        canvas.drawCentredString(A4[0] / 2, 30, f"- {doc.page} -")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=60, rightMargin=60, topMargin=60, bottomMargin=60,
                            title=r.title, author=r.agency)  # fmt: skip
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


__all__ = [
    "Grid",
    "GridCell",
    "Values",
    "blocks",
    "document_grids",
    "grid_cells",
    "pdf_styles",
    "pdf_table",
    "render_docx",
    "render_html",
    "render_pdf",
    "render_xlsx",
    "report_tables",
    "split_grid",
]
