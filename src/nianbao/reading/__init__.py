"""Document → canonical :class:`Report`: sections, metadata and the three tables, by their labels.

Every format reaches this module as the same :class:`~nianbao.parsing.document.Document`; this is
the only place that knows what the labels of the national format are.
"""

from __future__ import annotations

from collections.abc import Callable

from nianbao.errors import ParseFailed
from nianbao.model.cells import table_cells
from nianbao.model.report import Report
from nianbao.parsing.document import Document
from nianbao.reading.meta import read_meta
from nianbao.reading.rows import Line, split_row
from nianbao.reading.s2 import read_s2
from nianbao.reading.s3 import read_s3
from nianbao.reading.s4 import read_s4
from nianbao.reading.sections import find_sections, regions
from nianbao.reading.tables import TableRead

__all__ = ["build_report"]

HEAD_ROWS = 60
"""Rows at the top that hold the title and the preamble (statistics period, legal basis)."""


def _in_region(reader: Callable[[list[Line]], TableRead], region: list[Line] | None, everything: list[Line]) -> TableRead:
    """Read a table inside its section; if the section holds none, anywhere in the document."""
    if region is not None:
        got = reader(region)
        if got.found:
            return got
    return reader(everything)


def build_report(doc: Document, source: str) -> Report:
    """Read a document into a report. Raises ParseFailed when nothing of a report is in it."""
    lines = [split_row(i, r) for i, r in enumerate(doc.rows)]
    heads = find_sections(lines)
    spans = regions(heads, len(lines))

    def region(sec: str) -> list[Line] | None:
        return lines[spans[sec][0] : spans[sec][1]] if sec in spans else None

    texts = [" ".join(c.text for c in r.cells) for r in doc.rows[:HEAD_ROWS]]
    meta = read_meta(texts, doc.title_hint)
    by_year = None if meta.year is None else ("2019" if meta.year <= 2020 else "2021")

    s3 = _in_region(read_s3, region("sec3"), lines)
    s4 = _in_region(read_s4, region("sec4"), lines)
    s2 = _in_region(lambda ls: read_s2(ls, s3.layout or by_year), region("sec2"), lines)
    if not heads and not (s2.found or s3.found or s4.found):
        raise ParseFailed(
            "文件中找不到年度报告的任何部分或表格，无法作为政府信息公开工作年度报告读取；请上传年度报告全文",
            "no section heading and no table of the national format",
        )
    template = s2.layout or s3.layout or by_year or "2021"
    layouts = {"s2": s2.layout or template, "s3": s3.layout or template, "s4": template}

    report = Report(source=source, source_format=doc.source_format, meta=meta, template=template)  # type: ignore[arg-type]
    used: set[int] = set()
    for t in (s2, s3, s4):
        if not t.found:
            continue
        report.tables.append(t.table)
        report.layouts[t.table] = layouts[t.table]  # type: ignore[assignment]
        used |= t.used
        for spec in table_cells(layouts[t.table], t.table):
            cell = t.cells.get(spec.id)
            if cell is not None:
                report.cells[spec.id] = cell
            else:
                report.missing.append(spec.id)
    report.tables.sort()
    first = min(heads.values(), default=len(lines))
    report.preamble = "\n".join(_narrative(lines[:first], used))
    for sec in sorted(spans):
        a, b = spans[sec]
        report.sections[sec] = "\n".join(_narrative(lines[a + 1 : b], used))
    return report


def _narrative(lines: list[Line], used: set[int]) -> list[str]:
    """The running text among some rows: table rows and rows a table reader consumed left out."""
    out = []
    for line in lines:
        if line.row.table is not None or line.index in used:
            continue
        t = " ".join(c.text for c in line.row.cells).strip()
        if t:
            out.append(t)
    return out
