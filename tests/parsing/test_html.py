"""HTML reader: printed grids, Word-export markup, CMS chrome, layout tables, encodings, the real 沭阳 page."""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.errors import ParseFailed
from nianbao.parsing.document import Document, Row
from nianbao.parsing.html import read
from tests.helpers.render_formats import (
    Values,
    document_grids,
    grid_cells,
    render_html,
    report_tables,
)
from tests.helpers.render_text import SECTION_HEADINGS
from tests.helpers.synthetic import SyntheticReport, make_report

SHUYANG = "KIROGOVCOMPARE_沭阳县发展和改革局2023年政府信息公开年度报告-沭阳县发改局_2025-12-30.html"


def _texts(doc: Document) -> list[str]:
    return [r.text for r in doc.rows if r.table is None]


def _table_rows(doc: Document, table: int) -> list[Row]:
    return [r for r in doc.rows if r.table == table]


def _assert_report(doc: Document, r: SyntheticReport, values: Values) -> None:
    grids = report_tables(r, values)
    assert document_grids(doc) == [grid_cells(grids[k]) for k in "二三四"]
    texts = _texts(doc)
    positions = [texts.index(h) for h in SECTION_HEADINGS]
    assert positions == sorted(positions)
    assert texts[0] == r.title
    assert f"本报告所列数据统计期限为{r.year}年1月1日至{r.year}年12月31日。" in texts


@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("word", [False, True])
@pytest.mark.parametrize("cms", [False, True])
def test_synthetic_report_grids(template: str, word: bool, cms: bool) -> None:
    r = make_report(template, seed=7)
    doc = read(render_html(r, word=word, cms=cms))
    assert doc.source_format == "html"
    assert doc.title_hint == r.title
    _assert_report(doc, r, Values(r))


def test_word_export_numbers_in_split_spans_and_nbsp_blanks() -> None:
    r = make_report("2021", seed=2)
    r.cells["s2.fees.amount"] = 4068.208
    r.cells["s3.new.natural"] = 3001
    blanks = {"s3.new.commercial", "s4.review.total"}
    values = Values(r, blanks)
    doc = read(render_html(r, word=True, blanks=blanks))
    _assert_report(doc, r, values)
    s2 = _table_rows(doc, 0)
    assert s2[-1].cells[1].text == "4068.208"
    new = _table_rows(doc, 1)[3]
    assert [c.text for c in new.cells[1:3]] == ["3001", ""]


def test_layout_tables_do_not_swallow_report_tables() -> None:
    intro = "本年度，本机关扎实推进政府信息公开工作。" * 8
    page = f"""<html><body><table class="layout"><tr>
      <td><p>一、总体情况</p><p>{intro}</p></td>
      <td><h2>三、收到和处理政府信息公开申请情况</h2>
        <table border="1"><tr><td rowspan="2">三、本年度办理结果</td><td>（一）予以公开</td><td>5</td></tr>
        <tr><td>（二）部分公开</td><td>0</td></tr></table>
        <p>五、存在的主要问题及改进情况</p></td></tr></table></body></html>"""
    doc = read(page.encode())
    assert _texts(doc) == ["一、总体情况", intro, "三、收到和处理政府信息公开申请情况", "五、存在的主要问题及改进情况"]
    rows = _table_rows(doc, 0)
    assert [(c.text, c.col, c.rowspan) for c in rows[0].cells] == [("三、本年度办理结果", 0, 2), ("（一）予以公开", 1, 1), ("5", 2, 1)]
    assert [(c.text, c.col) for c in rows[1].cells] == [("（二）部分公开", 1), ("0", 2)]
    assert rows[1].inherited[0].text == "三、本年度办理结果"


def test_the_element_that_clearly_holds_the_report_is_read_alone() -> None:
    page = """<html><body><div class="side"><p>网站导航</p><table><tr><td>索引号</td><td>001</td></tr></table></div>
      <div class="article"><p>一、总体情况</p><p>本年度，本机关扎实推进政府信息公开工作，主动公开信息一百条。</p>
        <table border="1"><tr><td>行政许可</td><td>5</td></tr><tr><td>行政处罚</td><td>6</td></tr>
        <tr><td>行政强制</td><td>7</td></tr><tr><td>规章</td><td>0</td></tr></table></div></body></html>"""
    doc = read(page.encode())  # the article holds 8 of the 10 cells and most of the text
    assert _texts(doc)[0] == "一、总体情况"
    assert not any("索引号" in r.text or "网站导航" in r.text for r in doc.rows)
    assert [r.text for r in doc.rows if r.table == 0] == ["行政许可\t5", "行政处罚\t6", "行政强制\t7", "规章\t0"]


def test_scripts_navigation_and_hidden_elements_are_dropped() -> None:
    page = """<html><head><title>页面标题</title><script>var x = "一、总体情况";</script></head><body>
    <header>头部</header><nav>导航</nav><div style="display:none">隐藏</div><p hidden>也隐藏</p>
    <p>一、总体情况</p><footer>版权所有</footer></body></html>"""
    doc = read(page.encode())
    assert _texts(doc) == ["一、总体情况"]
    assert doc.title_hint == "页面标题"


def test_xhtml_with_xml_declaration() -> None:
    page = '<?xml version="1.0" encoding="gbk"?><html xmlns="http://www.w3.org/1999/xhtml"><body><p>一、总体情况</p></body></html>'
    assert _texts(read(page.encode("gbk"))) == ["一、总体情况"]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "gb2312", "gb18030"])
@pytest.mark.parametrize("declare", [True, False])
def test_encodings_with_and_without_meta_charset(encoding: str, declare: bool) -> None:
    r = make_report("2021", seed=4)
    doc = read(render_html(r, encoding=encoding, declare_charset=declare))
    _assert_report(doc, r, Values(r))


def test_gbk_characters_in_a_page_declared_gb2312() -> None:
    r = make_report("2021", seed=4, agency="镕县人民政府")
    data = render_html(r, encoding="gbk").replace(b'charset="gbk"', b'charset="gb2312"')
    assert read(data).title_hint == "镕县人民政府2023年政府信息公开工作年度报告"


def test_empty_page_is_refused() -> None:
    with pytest.raises(ParseFailed):
        read(b"   ")


# --- the real 沭阳县发展和改革局 2023 page ------------------------------------------------------------


@pytest.fixture(scope="module")
def shuyang(real_corpus: Path) -> Document:
    return read((real_corpus / SHUYANG).read_bytes())


def test_shuyang_reads_three_report_tables_and_no_cms_metadata(shuyang: Document) -> None:
    assert shuyang.title_hint == "沭阳县发展和改革局2023年政府信息公开年度报告"
    assert {r.table for r in shuyang.rows if r.table is not None} == {0, 1, 2}
    assert not any("索引号" in r.text for r in shuyang.rows)
    texts = _texts(shuyang)
    assert "二、主动公开政府信息情况" in texts and "五、存在的主要问题及整改措施" in texts
    assert any("统计时限为2023年1月1日至2023年12月31日" in t for t in texts)


def test_shuyang_table_two(shuyang: Document) -> None:
    rows = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in _table_rows(shuyang, 0)}
    assert rows["规范性文件"] == ["8", "0", "18"]
    assert rows["行政许可"] == ["0"]
    assert rows["行政事业性收费"] == ["0"]


def test_shuyang_table_three(shuyang: Document) -> None:
    rows = _table_rows(shuyang, 1)
    assert len(rows) == 28
    new = rows[3]
    assert [(c.text, c.col) for c in new.cells] == [
        ("一、本年新收政府信息公开申请数量", 0),
        ("26", 3), ("", 4), ("", 5), ("", 6), ("", 7), ("", 8), ("26", 9),
    ]  # fmt: skip
    assert (rows[5].cells[0].text, rows[5].cells[0].rowspan) == ("三、本年度办理结果", 22)
    assert [c.text for c in rows[5].cells[1:]] == ["（一）予以公开", "26", "", "", "", "", "", "26"]
    assert rows[2].cells[0].text == "商业企业" and rows[1].cells[0].text == "自然人"
    assert rows[-1].cells[0].text == "四、结转下年度继续办理"


def test_shuyang_table_four(shuyang: Document) -> None:
    rows = _table_rows(shuyang, 2)
    assert [c.text for c in rows[3].cells] == ["0", "0", "0", "1", "1"] + ["0"] * 10
    assert [(c.text, c.colspan) for c in rows[0].cells] == [("行政复议", 5), ("行政诉讼", 10)]
