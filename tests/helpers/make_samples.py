"""Write the synthetic files of sample_inputs/ (the seed and the format samples are kept as they are).

    python -m tests.helpers.make_samples

Each sample is a realistic report built from a consistent synthetic report, then given the
faults its name says. Regenerating gives the same bytes; the golden `.expected.json` files beside
them are refreshed with `NIANBAO_UPDATE_GOLDEN=1 pytest tests/test_sample_inputs.py` and reviewed.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers.render_text import render_pipe, render_tab
from tests.helpers.strategies import realistic_sections
from tests.helpers.synthetic import SyntheticReport, make_report

OUT = Path(__file__).resolve().parents[2] / "sample_inputs"


def _report(template: str, seed: int, agency: str, year: int) -> SyntheticReport:
    r = make_report(template, seed=seed, agency=agency, year=year)
    r.sections = realistic_sections(agency, year, template, r.cells, variant=seed)
    return r


def samples() -> dict[str, str]:
    """File name → text."""
    out: dict[str, str] = {}

    r = _report("2021", 11, "青山区生态环境局", 2023)
    out["qingshan-eco-2023-clean.txt"] = render_tab(r, style="clean")

    r = _report("2019", 12, "柳河镇人民政府", 2020)
    out["liuhe-town-2020-trial.txt"] = render_tab(r, style="seed")

    r = _report("2021", 13, "东湖县人民政府办公室", 2024)
    out["donghu-office-2024-blocks.md"] = render_pipe(r, style="blocks")

    # returned: a wrong row total and a broken 勾稽关系 in a web-page (pipe) rendering
    r = _report("2021", 14, "南岭市住房和城乡建设局", 2023)
    good = render_pipe(r, style="table")
    r.cells["s3.granted.total"] = int(r.cells["s3.granted.total"]) + 2
    r.cells["s3.carried_forward.natural"] = int(r.cells["s3.carried_forward.natural"]) + 1
    r.cells["s3.carried_forward.total"] = int(r.cells["s3.carried_forward.total"]) + 1
    out["nanling-housing-2023-faulty.md"] = render_pipe(r, style="table")
    out["nanling-housing-2023-corrected.md"] = good

    # returned: trial format with a malformed sign, a zero 复议 total, blank cells
    r = _report("2019", 15, "西河县市场监督管理局", 2019)
    r.cells["s4.review.upheld"] = 3
    r.cells["s4.review.corrected"] = 1
    r.cells["s4.review.total"] = 0
    out["xihe-market-2019-faulty.txt"] = render_tab(
        r, style="wrapped", raw={"s2.licensing.change": "--253"},
        blanks={"s3.partial.commercial", "s3.partial.research"},
    )

    # warnings only: the trial format used for 2022, text that contradicts table 三
    r = _report("2019", 16, "北坡街道办事处", 2022)
    r.cells.update({"s3.new.natural": int(r.cells["s3.new.natural"])})
    r.sections["sec1"] = (
        f"2022年，北坡街道办事处认真落实政府信息公开各项要求。本年度共收到政府信息公开申请"
        f"{int(r.cells['s3.new.total']) + 5}件，均在法定期限内答复。"
    )
    r.sections["sec6"] = "无。"
    out["beipo-street-2022-outdated.txt"] = render_tab(r, style="spaced")

    # the mixed layout of real reports: 2021 table 二 with the trial single （六） row
    r = _report("2021", 17, "清河区人民政府", 2023)
    out["qinghe-district-2023-mixed.txt"] = _single_other_row(r, render_tab(r, style="clean"))

    out["meeting-notice.txt"] = "关于召开2024年度政务公开工作会议的通知\n\n各单位：定于下周一上午九点在三楼会议室召开会议，请准时参加。\n"
    return out


def binary_samples() -> dict[str, bytes]:
    """File name → bytes: the same kinds of reports as HTML, DOCX, XLSX and PDF files."""
    from tests.helpers import render_formats as rf

    out: dict[str, bytes] = {}
    r = _report("2021", 21, "湖西县人民政府", 2023)
    out["huxi-county-2023-cms.html"] = rf.render_html(r, word=True, cms=True, encoding="gbk", declare_charset=False)
    out["huxi-county-2023-mislabelled.pdf"] = rf.render_html(r)  # a web page saved with a .pdf name

    r = _report("2021", 22, "石门市教育局", 2024)
    r.cells["s3.total.natural"] = int(r.cells["s3.total.natural"]) + 3
    r.cells["s3.total.total"] = int(r.cells["s3.total.total"]) + 3
    out["shimen-education-2024-faulty.html"] = rf.render_html(r)

    r = _report("2019", 23, "白沙乡人民政府", 2020)
    out["baisha-township-2020-trial.docx"] = rf.render_docx(r)

    r = _report("2021", 24, "松江区卫生健康委员会", 2023)
    r.cells["s4.suit_direct.upheld"] = int(r.cells["s4.suit_direct.upheld"]) + 2
    out["songjiang-health-2023-faulty.docx"] = rf.render_docx(r, blanks={"s3.new.research", "s3.new.nonprofit"})

    r = _report("2021", 25, "金山县交通运输局", 2022)
    out["jinshan-transport-2022-sheets.xlsx"] = rf.render_xlsx(r, "sheets")

    r = _report("2021", 26, "临江市自然资源和规划局", 2023)
    r.cells["s3.carried_over.legal"] = int(r.cells["s3.carried_over.legal"]) + 1
    r.cells["s3.carried_over.total"] = int(r.cells["s3.carried_over.total"]) + 1
    out["linjiang-resources-2023-faulty.xlsx"] = rf.render_xlsx(r, "one_sheet")

    r = _report("2021", 27, "江北区人民政府", 2024)
    out["jiangbei-district-2024.pdf"] = rf.render_pdf(r, break_table3_at=12, repeat_header=True, split_labels=True)

    r = _report("2019", 28, "凤凰镇人民政府", 2019)
    r.cells["s3.granted.total"] = int(r.cells["s3.granted.total"]) - 1
    out["fenghuang-town-2019-faulty.pdf"] = rf.render_pdf(r)
    return out


def _single_other_row(r: SyntheticReport, text: str) -> str:
    """Replace the three （六） sub-rows of a clean tab rendering by one trial-format row."""
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if "逾期不补正" in line)
    cols = ("natural", "commercial", "research", "nonprofit", "legal", "other_org", "total")
    merged = [sum(int(r.cells[f"s3.other.{k}.{c}"]) for k in ("no_correction", "no_fee", "other")) for c in cols]
    lines[first] = "\t".join(["", "（六）其他处理", *(str(v) for v in merged)])
    assert "缴纳费用" in lines[first + 1] and "3.其他" in lines[first + 2], lines[first : first + 3]
    del lines[first + 1 : first + 3]
    return "\n".join(lines)


def main() -> None:
    for name, text in samples().items():
        (OUT / name).write_text(text, encoding="utf-8")
        print("wrote", OUT / name)
    for name, data in binary_samples().items():
        (OUT / name).write_bytes(data)
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()
