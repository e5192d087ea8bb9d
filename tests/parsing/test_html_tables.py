"""HTML tables: which tables hold data, cell text across ``<br>``/blocks/spans, and span placement.

Read through :func:`nianbao.parsing.html.read`, as a page arrives; the grids themselves are built
by :mod:`nianbao.parsing.html_tables`.
"""

from __future__ import annotations

from nianbao.parsing.document import Document, Row
from nianbao.parsing.html import read
from tests.helpers.render_formats import render_html
from tests.helpers.synthetic import make_report


def _texts(doc: Document) -> list[str]:
    return [r.text for r in doc.rows if r.table is None]


def _table_rows(doc: Document, table: int) -> list[Row]:
    return [r for r in doc.rows if r.table == table]


def test_spans_of_table_three_follow_the_printed_form() -> None:
    r = make_report("2021", seed=1)
    rows = _table_rows(read(render_html(r)), 1)
    assert [(c.text, c.col, c.colspan, c.rowspan) for c in rows[0].cells] == [
        ("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 0, 3, 3),
        ("申请人情况", 3, 7, 1),
    ]
    outcomes = rows[5]
    assert (outcomes.cells[0].text, outcomes.cells[0].rowspan) == ("三、本年度办理结果", 22)
    assert [c.col for c in outcomes.cells] == [0, 1, 3, 4, 5, 6, 7, 8, 9]
    item = rows[8]  # 2.其他法律行政法规禁止公开: starts at grid column 2 below two rowspans
    assert item.cells[0].col == 2
    assert [c.text for c in item.inherited] == ["三、本年度办理结果", "（三）不予公开"]


def test_br_inside_cells_joins_by_script() -> None:
    page = """<table border=1><tr><td>结果<br>维持</td><td>2023<br/>年</td><td><p>（四）无</p><p>法提供</p></td></tr>
    <tr><td>&nbsp;</td><td><span>1</span><o:p></o:p><span>2</span></td><td> 3 </td></tr></table>"""
    rows = read(page.encode()).rows
    assert [c.text for c in rows[0].cells] == ["结果维持", "2023 年", "（四）无法提供"]
    assert [c.text for c in rows[1].cells] == ["", "12", "3"]


def test_one_column_and_long_text_tables_are_running_text() -> None:
    page = f"""<table><tr><td>一、总体情况</td></tr><tr><td>本年度公开信息。</td></tr></table>
    <table><tr><td>{"正文" * 200}</td><td>侧栏</td></tr></table>"""
    doc = read(page.encode())
    assert all(r.table is None for r in doc.rows)
    assert _texts(doc)[:2] == ["一、总体情况", "本年度公开信息。"]


def test_rowspan_zero_junk_spans_and_clamping() -> None:
    page = """<table><tr><td rowspan="0">甲</td><td colspan="x">乙</td></tr><tr><td>丙</td></tr>
    <tr><td rowspan="9">丁</td></tr></table>"""
    rows = read(page.encode()).rows
    assert [(c.text, c.col, c.colspan, c.rowspan) for c in rows[0].cells] == [("甲", 0, 1, 3), ("乙", 1, 1, 1)]
    assert [(c.text, c.col) for c in rows[1].cells] == [("丙", 1)]
    assert [(c.text, c.col, c.rowspan) for c in rows[2].cells] == [("丁", 1, 1)]
