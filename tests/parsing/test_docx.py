"""DOCX reader: body order, merged cells (gridSpan/vMerge/gridBefore), numbering, hidden and deleted text."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from nianbao.errors import ParseFailed
from nianbao.parsing.document import Document
from nianbao.parsing.docx import format_number, read
from tests.helpers.render_formats import (
    Values,
    document_grids,
    grid_cells,
    render_docx,
    render_xlsx,
    report_tables,
)
from tests.helpers.render_text import SECTION_HEADINGS
from tests.helpers.synthetic import make_report


def _texts(doc: Document) -> list[str]:
    return [r.text for r in doc.rows if r.table is None]


def _save(d: Any) -> bytes:
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_synthetic_report(template: str) -> None:
    r = make_report(template, seed=11)
    blanks = {"s3.new.research", "s4.suit_direct.pending"}
    doc = read(render_docx(r, blanks=blanks))
    grids = report_tables(r, Values(r, blanks))
    assert document_grids(doc) == [grid_cells(grids[k]) for k in "二三四"]
    texts = _texts(doc)
    assert texts[0] == r.title == doc.title_hint
    positions = [texts.index(h) for h in SECTION_HEADINGS]
    assert positions == sorted(positions)
    assert doc.source_format == "docx"


def test_paragraphs_and_tables_keep_body_order() -> None:
    d = docx.Document()
    d.add_paragraph("二、主动公开政府信息情况")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "规章", "3"
    d.add_paragraph("三、收到和处理政府信息公开申请情况")
    rows = read(_save(d)).rows
    assert [(r.table, r.text) for r in rows] == [
        (None, "二、主动公开政府信息情况"),
        (0, "规章\t3"),
        (None, "三、收到和处理政府信息公开申请情况"),
    ]


def test_vertical_and_horizontal_merges() -> None:
    d = docx.Document()
    t = d.add_table(rows=4, cols=4)
    t.cell(0, 0).merge(t.cell(2, 0)).text = "三、本年度办理结果"
    t.cell(0, 1).merge(t.cell(0, 2)).text = "（一）予以公开"
    t.cell(1, 1).merge(t.cell(2, 1)).text = "（三）不予公开"
    t.cell(1, 2).text, t.cell(2, 2).text = "1.属于国家秘密", "2.其他法律行政法规禁止公开"
    for r in range(3):
        t.cell(r, 3).text = str(r + 10)
    t.cell(3, 0).merge(t.cell(3, 2)).text = "四、结转下年度继续办理"
    t.cell(3, 3).text = "7"
    rows = read(_save(d)).rows
    got = [[(c.text, c.col, c.colspan, c.rowspan) for c in r.cells] for r in rows]
    assert got == [
        [("三、本年度办理结果", 0, 1, 3), ("（一）予以公开", 1, 2, 1), ("10", 3, 1, 1)],
        [("（三）不予公开", 1, 1, 2), ("1.属于国家秘密", 2, 1, 1), ("11", 3, 1, 1)],
        [("2.其他法律行政法规禁止公开", 2, 1, 1), ("12", 3, 1, 1)],
        [("四、结转下年度继续办理", 0, 3, 1), ("7", 3, 1, 1)],
    ]
    assert [c.text for c in rows[2].inherited] == ["三、本年度办理结果", "（三）不予公开"]


def test_grid_before_shifts_the_first_cell() -> None:
    d = docx.Document()
    t = d.add_table(rows=2, cols=3)
    for c in range(3):
        t.cell(0, c).text = f"h{c}"
    tr = t.rows[1]._tr
    tr.remove(tr.tc_lst[0])
    tr.get_or_add_trPr().append(parse_xml(f'<w:gridBefore {nsdecls("w")} w:val="1"/>'))
    tr.tc_lst[0].xpath("./w:p")[0].append(parse_xml(f'<w:r {nsdecls("w")}><w:t>x</w:t></w:r>'))
    rows = read(_save(d)).rows
    assert [(c.text, c.col) for c in rows[1].cells] == [("x", 1), ("", 2)]


def test_breaks_hidden_deleted_and_content_controls() -> None:
    d = docx.Document()
    p = d.add_paragraph()
    p.add_run("第一行")
    p.add_run().add_break()
    p.add_run("第二行")
    hidden = d.add_paragraph("可见")
    run = hidden.add_run("隐藏")
    run.font.hidden = True
    deleted = d.add_paragraph("保留")
    deleted._p.append(parse_xml(f'<w:del {nsdecls("w")} w:id="1" w:author="a"><w:r><w:delText>删除</w:delText></w:r></w:del>'))
    sdt = parse_xml(
        f'<w:sdt {nsdecls("w")}><w:sdtContent><w:p><w:r><w:t>控件中的段落</w:t></w:r></w:p></w:sdtContent></w:sdt>'
    )
    d.element.body.insert(len(d.element.body) - 1, sdt)
    t = d.add_table(rows=1, cols=2)
    cell = t.cell(0, 0)
    cell.text = "结果"
    cell.paragraphs[0].add_run().add_break()
    cell.paragraphs[0].add_run("维持")
    t.cell(0, 1).text = "2023"
    t.cell(0, 1).add_paragraph("年")
    doc = read(_save(d))
    assert _texts(doc) == ["第一行", "第二行", "可见", "保留", "控件中的段落"]
    assert [c.text for c in doc.rows[-1].cells] == ["结果维持", "2023 年"]


def _add_numbering(d: Any, fmt: str, text: str, start: int = 1) -> str:
    numbering = d.part.numbering_part.element
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90"><w:lvl w:ilvl="0"><w:start w:val="{start}"/>'
        f'<w:numFmt w:val="{fmt}"/><w:lvlText w:val="{text}"/></w:lvl>'
        f'<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>'
        "</w:abstractNum>"
    )
    numbering.insert(0, abstract)
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    return "90"


def _numbered(d: Any, text: str, num_id: str, level: int = 0) -> None:
    p = d.add_paragraph(text)
    p._p.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>')
    )


def test_automatic_numbering_is_rendered() -> None:
    d = docx.Document()
    num = _add_numbering(d, "chineseCounting", "%1、")
    _numbered(d, "总体情况", num)
    _numbered(d, "主动公开", num, level=1)
    _numbered(d, "依申请公开", num, level=1)
    _numbered(d, "主动公开政府信息情况", num)
    _numbered(d, "主动公开", num, level=1)
    assert _texts(read(_save(d))) == ["一、总体情况", "（一）主动公开", "（二）依申请公开", "二、主动公开政府信息情况", "（一）主动公开"]


def test_numbering_through_a_paragraph_style() -> None:
    d = docx.Document()
    num = _add_numbering(d, "decimal", "%1.")
    style = d.styles.add_style("报告标题", 1)
    style.element.get_or_add_pPr().append(parse_xml(f'<w:numPr {nsdecls("w")}><w:numId w:val="{num}"/></w:numPr>'))
    d.add_paragraph("属于国家秘密", style="报告标题")
    d.add_paragraph("其他法律行政法规禁止公开", style="报告标题")
    assert _texts(read(_save(d))) == ["1.属于国家秘密", "2.其他法律行政法规禁止公开"]


@pytest.mark.parametrize(
    ("n", "fmt", "text"),
    [(1, "chineseCounting", "一"), (10, "chineseCounting", "十"), (12, "chineseCountingThousand", "十二"),
     (21, "chineseCounting", "二十一"), (3, "decimalFullWidth", "３"), (2, "ideographTraditional", "乙"),
     (4, "upperRoman", "IV"), (3, "decimalEnclosedCircle", "③"), (7, "japaneseCounting", "7")],
)  # fmt: skip
def test_format_number(n: int, fmt: str, text: str) -> None:
    assert format_number(n, fmt) == text


def test_nested_tables_and_text_boxes() -> None:
    d = docx.Document()
    outer = d.add_table(rows=1, cols=1)
    cell = outer.cell(0, 0)
    cell.text = "三、收到和处理政府信息公开申请情况"
    inner = cell.add_table(rows=2, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "自然人", "总计"
    inner.cell(1, 0).text, inner.cell(1, 1).text = "3", "3"
    cell.add_paragraph("五、存在的主要问题及改进情况")
    rows = read(_save(d)).rows
    assert [(r.table, r.text) for r in rows] == [
        (None, "三、收到和处理政府信息公开申请情况"),
        (0, "自然人\t总计"),
        (0, "3\t3"),
        (None, "五、存在的主要问题及改进情况"),
    ]


def test_one_column_table_is_running_text() -> None:
    d = docx.Document()
    t = d.add_table(rows=2, cols=1)
    t.cell(0, 0).text, t.cell(1, 0).text = "一、总体情况", "本年度公开信息。"
    assert [(r.table, r.text) for r in read(_save(d)).rows] == [(None, "一、总体情况"), (None, "本年度公开信息。")]


def test_title_hint_from_leading_centred_paragraphs_or_core_properties() -> None:
    d = docx.Document()
    for text in ("淮安市人民政府", "2024年政府信息公开工作年度报告"):
        d.add_paragraph(text).alignment = 1
    d.add_paragraph("本报告由……编制。")
    assert read(_save(d)).title_hint == "淮安市人民政府2024年政府信息公开工作年度报告"
    d2 = docx.Document()
    d2.core_properties.title = "某局2023年政府信息公开工作年度报告"
    d2.add_paragraph("x" * 150)
    assert read(_save(d2)).title_hint == "某局2023年政府信息公开工作年度报告"


def test_damaged_files_are_refused() -> None:
    good = render_docx(make_report("2021", seed=1))
    for bad in (good[: len(good) // 2], b"PK\x03\x04" + b"\x00" * 100, render_xlsx(make_report("2021", seed=1))):
        with pytest.raises(ParseFailed) as info:
            read(bad)
        assert "另存为" in info.value.reason


def test_word_table_with_repeated_header_row_property_is_read_once() -> None:
    d = docx.Document()
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "信息内容", "本年处理决定数量"
    t.cell(1, 0).text, t.cell(1, 1).text = "行政许可", "5"
    trpr = t.rows[0]._tr.get_or_add_trPr()
    trpr.append(parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))
    doc = read(_save(d))
    assert [r.text for r in doc.rows] == ["信息内容\t本年处理决定数量", "行政许可\t5"]


def _to_strict(data: bytes) -> bytes:
    """The package as Word's *Save as Strict Open XML* names it: purl.oclc.org namespaces and
    relationship types in every part."""
    pairs = [(b"http://schemas.openxmlformats.org/" + t, b"http://purl.oclc.org/ooxml/" + s) for s, t in (
        (b"wordprocessingml/main", b"wordprocessingml/2006/main"),
        (b"officeDocument/relationships", b"officeDocument/2006/relationships"),
        (b"drawingml/main", b"drawingml/2006/main"),
    )]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = src.read(info)
            for transitional, strict in pairs:
                part = part.replace(transitional, strict)
            dst.writestr(info, part)
    return out.getvalue()


def test_strict_open_xml_reads_like_the_transitional_file() -> None:
    good = render_docx(make_report("2021", seed=3))
    strict = _to_strict(good)
    with zipfile.ZipFile(io.BytesIO(strict)) as z:
        assert b"purl.oclc.org/ooxml/wordprocessingml/main" in z.read("word/document.xml")
    assert document_grids(read(strict)) == document_grids(read(good))
    assert _texts(read(strict)) == _texts(read(good))
