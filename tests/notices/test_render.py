"""Notices: each kind renders; a returned notice lists every finding with place, expected, actual
and a fix; the JSON carries the same findings; the sample report's notices say the key sentences.

The sample report is parsed through ``check_bytes``; the returned case changes one cell of it
(自然人/法律服务机构 of 本年新收) so that exactly two errors follow from the rules.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nianbao.check import check_bytes, failed_result
from nianbao.model.report import CheckResult, Finding
from nianbao.notices import NoticeInput, RenderedNotice, render_notice
from nianbao.notices.render import fix_hints, place_of, show_value

SAMPLE = Path(__file__).resolve().parents[2] / "sample_inputs" / "cangtai-2023.txt"
RULES_MD = Path(__file__).resolve().parents[2] / "src" / "nianbao" / "spec" / "rules.md"
KEY = "inbox/cangtai/2023/cangtai-2023.txt"
RECEIVED = datetime(2024, 1, 20, 2, 30, tzinfo=UTC)  # 10:30 in Beijing
NOW = datetime(2024, 1, 20, 2, 31, tzinfo=UTC)
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
NEW_ROW = "一、本年新收政府信息公开申请数量\t\t0\t0\t0\t0\t0\t0\t0"


def notice_input(data: bytes, key: str = KEY, agency_id: str | None = "cangtai", **kw: object) -> NoticeInput:
    report, result = check_bytes(data, key)
    return NoticeInput(
        submission_id="s-20240120-0001", key=key, agency_id=agency_id,
        agency_name="苍台镇人民政府" if agency_id else None, year=2023 if agency_id else None,
        received_at=RECEIVED, sha256=SHA, size=len(data), result=result, report=report, **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def sample() -> bytes:
    return SAMPLE.read_bytes()


@pytest.fixture(scope="module")
def returned(sample: bytes) -> NoticeInput:
    text = sample.decode("utf-8")
    assert NEW_ROW in text
    return notice_input(text.replace(NEW_ROW, NEW_ROW.replace("0\t0\t0\t0\t0", "0\t0\t0\t0\t1", 1)).encode())


# --- kinds -------------------------------------------------------------------------------------


def test_receipt_for_the_sample(sample: bytes) -> None:
    n = notice_input(sample)
    assert n.result.status == "accepted"
    r = render_notice(n, now=NOW)
    assert isinstance(r, RenderedNotice) and r.kind == "receipt"
    assert r.subject == "【接收回执】苍台镇人民政府2023年政府信息公开工作年度报告已接收（编号s-20240120-0001）"
    md = r.markdown
    for line in (
        "# 政府信息公开工作年度报告接收回执",
        "苍台镇人民政府：",
        "贵单位上传的《苍台镇人民政府 2023 年政府信息公开工作年度报告》已通过自动检查，予以接收。",
        "- 提交编号：s-20240120-0001",
        "- 文件名：cangtai-2023.txt",
        f"- 文件大小：7.5 KB（{len(sample):,} 字节）",
        "- 文件校验码（SHA-256 前 16 位）：9f86d081884c7d65",
        "- 收到时间：2024年1月20日 10:30（北京时间）",
        "- 报告年度：2023年度",
        "- 表格格式：2021年修订格式（国办公开办函〔2021〕30号）",
        "- 检查结果：予以接收",
        "本通知由系统于2024年1月20日 10:31（北京时间）自动生成，编号 s-20240120-0001。"
        "如对检查结果有疑问，请联系本级政府信息公开工作主管部门，并告知通知编号。",
    ):
        assert line in md.splitlines(), line
    # Warnings do not block acceptance but are listed with what to look at.
    for f in n.result.findings:
        assert f.severity == "warning"
        assert f.message in md and f"规则编号：{f.rule}" in md


def test_receipt_without_warnings_says_so(sample: bytes) -> None:
    n = notice_input(sample)
    n.result = n.result.model_copy(update={"findings": []})
    md = render_notice(n, now=NOW).markdown
    assert "未发现需要核对的问题。" in md and "规则编号" not in md


def test_return_lists_every_finding_with_place_expected_actual_and_fix(returned: NoticeInput) -> None:
    assert returned.result.status == "returned"
    errors = [f for f in returned.result.findings if f.severity == "error"]
    assert [(f.rule, f.at, f.expected, f.actual) for f in errors] == [
        ("S3-ROW-SUM", "s3.new.total", 1, 0),
        ("S3-BALANCE", "s3.new.legal", 1, 0),
    ]
    r = render_notice(returned, now=NOW)
    assert r.kind == "return"
    assert r.subject == ("【退回修改】苍台镇人民政府2023年政府信息公开工作年度报告有2处错误，请更正后重新上传"
                         "（编号s-20240120-0001）")
    md = r.markdown
    assert "经自动检查，发现 2 处错误，未予接收" in md
    assert "## 需要更正的错误（共 2 处）" in md
    assert "重新上传到原目录 inbox/cangtai/2023/" in md
    assert "- 上传位置：inbox/cangtai/2023/（与原文件相同的目录）" in md
    items = _items(md, "## 需要更正的错误")
    assert len(items) == len(errors)
    hints = fix_hints()
    for item, f in zip(items, errors, strict=True):
        assert f"位置：{f.location}" in item
        assert "表三（收到和处理政府信息公开申请情况）" in item and "“一、本年新收政府信息公开申请数量”行" in item
        assert f"- 问题：{f.message}" in item
        assert f"- 应为：{f.expected}" in item and f"- 实为：{f.actual}" in item
        assert f"- 如何修改：{hints[f.rule]}" in item
        assert f"- 规则编号：{f.rule}" in item
    assert "“法律服务机构”列" in items[1] and "“总计”列" in items[0]
    # The warning rides along, separately, and is not counted as a reason.
    warnings = [f for f in returned.result.findings if f.severity == "warning"]
    assert f"## 同时请核对的提示（共 {len(warnings)} 项）" in md


def test_failure_says_why_and_what_to_upload_instead() -> None:
    reason = "文件已加密，无法读取，请取消密码保护后重新上传"
    result = failed_result(KEY.replace(".txt", ".pdf"), reason)
    n = NoticeInput("s-1", KEY.replace(".txt", ".pdf"), "cangtai", "苍台镇人民政府", 2023, RECEIVED, SHA, 1234,
                    result, None)
    r = render_notice(n, now=NOW)
    assert r.kind == "failure"
    assert r.subject == "【无法读取】苍台镇人民政府上传的文件“cangtai-2023.pdf”无法读取，请重新上传（编号s-1）"
    md = r.markdown
    assert "上传的文件“cangtai-2023.pdf”无法读取为年度报告，未予接收" in md
    (finding,) = result.findings
    assert reason in finding.message
    assert f"## 原因\n\n{finding.message}\n" in md
    for fmt in ("Word 文档（.docx）", "带文字层的 PDF", "Excel 表格（.xlsx）", "网页文件（.html"):
        assert fmt in md
    assert "请上传到 inbox/cangtai/2023/。" in md
    assert "- 文件大小：1.2 KB（1,234 字节）" in md


def test_rejected_when_the_key_is_outside_the_layout() -> None:
    key = "inbox/report.docx"
    reason = "上传位置不符合要求：应为 inbox/<单位编号>/<年度>/<文件名>"
    n = NoticeInput("s-2", key, None, None, None, RECEIVED, SHA, 10, failed_result(key, reason), None)
    r = render_notice(n, now=NOW)
    assert r.kind == "rejected"
    assert r.subject == "【未予受理】文件“report.docx”的上传位置不符合要求（编号s-2）"
    assert reason in r.markdown
    assert "inbox/单位编号/报告年度/文件名" in r.markdown
    doc = json.loads(r.json)
    assert doc["kind"] == "rejected" and doc["agency_id"] is None and doc["resubmit_to"] is None


@pytest.mark.parametrize(("status", "kind"), [("accepted", "receipt"), ("returned", "return"), ("failed", "failure")])
def test_kind_follows_the_status(status: str, kind: str) -> None:
    f = Finding(rule="PARSE-FAILED", severity="error", at="file", message="坏文件")
    result = CheckResult(source=KEY, status=status, findings=[f] if status != "accepted" else [])  # type: ignore[arg-type]
    n = NoticeInput("s", KEY, "cangtai", None, 2023, RECEIVED, SHA, 1, result, None)
    assert render_notice(n).kind == kind
    n.agency_id = None
    assert render_notice(n).kind == "rejected"


# --- JSON --------------------------------------------------------------------------------------


def test_json_round_trips_with_the_same_findings(returned: NoticeInput) -> None:
    r = render_notice(returned, now=NOW)
    doc = json.loads(r.json)
    assert doc["findings"] == [{**f.model_dump(), "location": f.location} for f in returned.result.findings]
    assert [Finding(**f) for f in doc["findings"]] == returned.result.findings  # location included
    assert {k: doc[k] for k in ("kind", "status", "submission_id", "key", "sha256", "size", "year")} == {
        "kind": "return", "status": "returned", "submission_id": "s-20240120-0001", "key": KEY,
        "sha256": SHA, "size": returned.size, "year": 2023,
    }
    assert doc["generated_at"] == "2024-01-20T10:31:00+08:00"
    assert doc["received_at"] == "2024-01-20T10:30:00+08:00"
    assert doc["counts"] == {"error": 2, "warning": len(returned.result.findings) - 2}
    assert doc["resubmit_to"] == "inbox/cangtai/2023/"
    assert doc["report"]["template"] == "2021"
    assert json.loads(json.dumps(doc)) == doc


def test_generated_at_defaults_to_now(sample: bytes) -> None:
    before = datetime.now(UTC)
    doc = json.loads(render_notice(notice_input(sample)).json)
    assert datetime.fromisoformat(doc["generated_at"]) >= before.replace(microsecond=0)


# --- helpers and the hint table ----------------------------------------------------------------


def test_every_published_rule_has_a_fix_hint() -> None:
    ids = set(re.findall(r"^\| `([A-Z0-9-]+)` \|", RULES_MD.read_text(encoding="utf-8"), flags=re.M))
    assert len(ids) >= 19
    assert ids <= set(fix_hints()), ids - set(fix_hints())
    assert set(fix_hints()) <= ids, set(fix_hints()) - ids


def test_place_of_anchors_without_a_location() -> None:
    assert place_of("sec6") == "“六、其他需要报告的事项”部分"
    assert place_of("s3") == "表三（收到和处理政府信息公开申请情况）"
    assert place_of("meta.received_at") == "报送时间"
    assert place_of("s4.review.total") == "表四（政府信息公开行政复议、行政诉讼情况）“行政复议”行“总计”列"
    assert place_of("s3.new.legal").endswith("“法律服务机构”列")
    assert place_of("nonsense.anchor") == "nonsense.anchor"


def test_show_value() -> None:
    assert show_value(None) is None and show_value("") is None
    assert show_value(3.0) == "3" and show_value(0.25) == "0.25" and show_value(7) == "7"
    assert show_value(["a", None, 2]) == "a、2"


def test_markdown_reads_as_plain_text(returned: NoticeInput) -> None:
    md = render_notice(returned, now=NOW).markdown
    assert md.endswith("\n") and not md.endswith("\n\n")
    assert "\n\n\n" not in md
    assert "|" not in md and "<" not in md and "**" not in md  # no tables, HTML or emphasis


def _items(md: str, heading: str) -> list[str]:
    """The numbered items under a heading, up to the next heading."""
    block = md.split(heading, 1)[1].split("\n## ", 1)[0]
    return [m.strip() for m in re.split(r"\n(?=\d+\. )", block) if re.match(r"\d+\. ", m.strip())]
