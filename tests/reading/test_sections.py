"""Section headings are found by their words; sub-headings stay inside their section."""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.parsing.text import read_str
from nianbao.reading.rows import split_row
from nianbao.reading.sections import find_sections, heading_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "sec"), [
    ("## 一、总体情况", "sec1"),
    ("**二、主动公开政府信息情况**", "sec2"),
    ("三、收到和处理政府信息公开申请情况", "sec3"),
    ("四、因政府信息公开工作被申请行政复议、提起行政诉讼情况", "sec4"),
    ("五、政府信息公开工作存在的主要问题及改进情况", "sec5"),
    ("六、其他需要报告的事项", "sec6"),
    ("六 、其他需要报告的事项", "sec6"),
    ("### （一）主动公开情况", None),
    ("四、结转下年度继续办理", None),
    ("一、本年新收政府信息公开申请数量", None),
    ("2023年，我局认真贯彻落实《条例》，主动公开政府信息情况良好，总体情况平稳。", None),
])
def test_heading_of(text: str, sec: str | None) -> None:
    row = read_str(text).rows[0]
    assert heading_of(split_row(0, row)) == sec


def test_the_seed_keeps_its_subsections_in_section_one() -> None:
    from nianbao.check import check_file

    report, _ = check_file(str(ROOT / "sample_inputs" / "cangtai-2023.txt"))
    assert report is not None
    assert "着力推进基层领域政府信息公开" in report.sections["sec1"]
    assert "全年未发生责任追究情况" in report.sections["sec1"]
    assert report.sections["sec2"] == ""  # table 二 only: its rows are not narrative
    assert report.sections["sec6"] == "无"


def test_misnumbered_headings_are_found_by_their_words() -> None:
    doc = read_str("一、总体情况\n正文\n一、主动公开政府信息情况\n二、收到和处理政府信息公开申请情况\n"
                   "三、政府信息公开行政复议、行政诉讼情况\n五、其他需要报告的事项\n无")
    lines = [split_row(i, r) for i, r in enumerate(doc.rows)]
    assert find_sections(lines) == {"sec1": 0, "sec2": 2, "sec3": 3, "sec4": 4, "sec6": 5}
