"""Hypothesis strategies for synthetic reports, number texts and single-cell faults.

- :func:`consistent_reports`: a whole :class:`SyntheticReport` whose cells satisfy every
  arithmetic rule (and the table-二 plausibility warnings), drawn cell by cell so that shrinking
  works, with realistic narrative that agrees with the tables (:func:`realistic_sections`).
- :func:`number_texts`: ``(text, value)`` pairs for number-parsing round trips.
- :func:`single_cell_changes` / :func:`blank_sets`: one changed cell of table 三 or 四, or a set
  of cells to print blank.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from hypothesis import strategies as st

from tests.helpers.faults import C6, OUTCOME_ROWS, S4_GROUPS, S4_PARTS
from tests.helpers.render_text import cell_ids
from tests.helpers.synthetic import SyntheticReport

AGENCIES = (
    "清河县人民政府",
    "白石镇人民政府",
    "苍台镇人民政府",
    "桃源乡人民政府",
    "东湖区人民政府",
    "临江市人民政府",
    "南山街道办事处",
    "临江市生态环境局",
    "平阳县自然资源局",
    "云溪市人力资源和社会保障局",
    "北塘区教育局",
    "永宁县卫生健康委员会",
)
"""Realistic (fictional) agency names: governments of each level, a street office, departments."""

YEARS = {"2019": (2019, 2020), "2021": (2021, 2022, 2023, 2024, 2025)}
"""Report years that use each template."""

_FULLWIDTH_DIGITS = "０１２３４５６７８９"
_PADDING = ("", " ", "  ", "\u00a0", "\u3000", " \u00a0")


def _count(hi: int) -> st.SearchStrategy[int]:
    """A count that is 0 about half the time (shrinks to 0)."""
    return st.one_of(st.just(0), st.integers(1, hi))


def has_rulemaking_power(agency: str) -> bool:
    """Only 国务院部门 and 省级 / 设区的市 governments make 规章 (《立法法》); towns, counties and
    departments report 0 in consistent reports (no S2-NO-RULEMAKING-POWER warning)."""
    return agency.endswith(("市人民政府", "省人民政府"))


@st.composite
def consistent_cell_values(draw: st.DrawFn, template: str, agency: str = "") -> dict[str, int | float]:
    """Every cell of ``template`` with values for which all arithmetic rules hold.

    Table 二 also avoids the plausibility warnings: 现行有效 ≥ 制发 − 废止 (2021), 上一年项目数量 +
    本年增/减 ≥ 0 and 对外公开总数量 ≥ 本年新公开数量 (2019), 采购 items = 0 ⇔ amount = 0, and 规章
    only for an agency with rule-making power. Amounts have at most 4 decimals.
    """
    cells: dict[str, int | float] = {}
    rulemaking = has_rulemaking_power(agency)

    if template == "2021":
        for row in ("regulations", "normative_documents"):
            if row == "regulations" and not rulemaking:
                issued = repealed = in_force = 0
            else:
                issued, repealed = draw(_count(30)), draw(_count(30))
                in_force = max(0, issued - repealed) + draw(_count(300))
            cells |= {f"s2.{row}.issued": issued, f"s2.{row}.repealed": repealed, f"s2.{row}.in_force": in_force}
        for row in ("licensing", "punishment", "coercion"):
            cells[f"s2.{row}.decisions"] = draw(st.one_of(_count(500), st.integers(0, 800_000)))
        cells["s2.fees.amount"] = draw(st.one_of(st.just(0), st.integers(1, 200_000_000))) / 10_000
    elif template == "2019":
        for row in ("regulations", "normative_documents"):
            if row == "regulations" and not rulemaking:
                made = published = total = 0
            else:
                made, published = draw(_count(30)), draw(_count(30))
                total = published + draw(_count(300))
            cells |= {f"s2.{row}.made": made, f"s2.{row}.published": published,
                      f"s2.{row}.total_published": total}
        for row in ("licensing", "other_services", "punishment", "coercion", "fees"):
            prev = draw(_count(300))
            cells[f"s2.{row}.prev_items"] = prev
            cells[f"s2.{row}.change"] = draw(st.integers(-prev, 60))
            if row != "fees":
                cells[f"s2.{row}.decisions"] = draw(st.one_of(_count(500), st.integers(0, 800_000)))
        items = draw(_count(80))
        cells["s2.procurement.items"] = items
        cells["s2.procurement.amount"] = 0.0 if items == 0 else draw(st.integers(1, 50_000_000)) / 10_000
    else:
        raise ValueError(f"unknown template {template!r}")

    outcomes = OUTCOME_ROWS[template]
    for col in C6:
        hi = 60 if col == "natural" else 8
        total = 0
        for row in outcomes:
            value = draw(_count(hi))
            cells[f"s3.{row}.{col}"] = value
            total += value
        forward = draw(_count(max(1, hi // 3)))
        carried = draw(st.integers(0, total + forward))
        cells[f"s3.total.{col}"] = total
        cells[f"s3.carried_forward.{col}"] = forward
        cells[f"s3.carried_over.{col}"] = carried
        cells[f"s3.new.{col}"] = total + forward - carried
    for row in ("new", "carried_over", *outcomes, "total", "carried_forward"):
        cells[f"s3.{row}.total"] = sum(int(cells[f"s3.{row}.{c}"]) for c in C6)
    for g in S4_GROUPS:
        parts = [draw(_count(12)) for _ in S4_PARTS]
        cells |= {f"s4.{g}.{p}": v for p, v in zip(S4_PARTS, parts, strict=True)}
        cells[f"s4.{g}.total"] = sum(parts)

    missing = set(cell_ids(template)) ^ set(cells)
    assert not missing, f"strategy out of step with cells.json: {sorted(missing)}"
    return {cid: cells[cid] for cid in cell_ids(template)}


@st.composite
def consistent_reports(draw: st.DrawFn, template: str | None = None) -> SyntheticReport:
    """A consistent :class:`SyntheticReport`: template, a matching year, an agency, cells, narrative."""
    template = template or draw(st.sampled_from(("2021", "2019")))
    year = draw(st.sampled_from(YEARS[template]))
    agency = draw(st.sampled_from(AGENCIES))
    cells = draw(consistent_cell_values(template, agency))
    variant = draw(st.integers(0, 999))
    sections = realistic_sections(agency, year, template, cells, variant)
    return SyntheticReport(agency=agency, year=year, template=template, cells=cells, sections=sections)


@st.composite
def number_texts(
    draw: st.DrawFn, *, signed: bool = False, max_value: int = 10**9
) -> tuple[str, int]:
    """``(text, value)``: an int as a report may print it.

    Optional full-width digits (all or some), optional thousands separators (``,`` or ``，``, the
    same in one number, at every third digit from the right), optional surrounding spaces, NBSP or
    ideographic spaces. ``signed=True`` (本年增/减) allows negatives written ``-3`` and positives
    written ``+3`` or ``3``.
    """
    value = draw(st.integers(-max_value if signed else 0, max_value))
    digits = str(abs(value))
    sep = draw(st.sampled_from(("", ",", "，")))
    if sep and len(digits) > 3:
        head = len(digits) % 3 or 3
        groups = [digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)]
        body = sep.join(groups)
    else:
        body = digits
    width = draw(st.sampled_from(("half", "full", "mixed")))
    if width != "half":
        flags = draw(st.lists(st.booleans(), min_size=len(body), max_size=len(body)))
        body = "".join(
            _FULLWIDTH_DIGITS[int(ch)] if ch.isdigit() and (width == "full" or flag) else ch
            for ch, flag in zip(body, flags, strict=True)
        )
    if value < 0:
        sign = "-"
    elif signed and value > 0:
        sign = draw(st.sampled_from(("+", "")))
    else:
        sign = ""
    left, right = draw(st.sampled_from(_PADDING)), draw(st.sampled_from(_PADDING))
    return f"{left}{sign}{body}{right}", value


def single_cell_changes(r: SyntheticReport) -> st.SearchStrategy[tuple[str, int]]:
    """``(cell_id, value)``: one cell of table 三 or 四 of ``r`` and a different value ≥ 0."""
    ids = [c for c in cell_ids(r.template) if c.startswith(("s3.", "s4.")) and c in r.cells]

    def other_value(cell_id: str) -> st.SearchStrategy[tuple[str, int]]:
        old = int(r.cells[cell_id])
        return st.integers(0, old + 50).map(lambda v: (cell_id, v + 1 if v >= old else v))

    return st.sampled_from(ids).flatmap(other_value)


def blank_sets(r: SyntheticReport, max_size: int = 4) -> st.SearchStrategy[frozenset[str]]:
    """A few cells of ``r`` (any table) to print blank."""
    ids = [c for c in cell_ids(r.template) if c in r.cells]
    return st.frozensets(st.sampled_from(ids), min_size=1, max_size=max_size)


# --------------------------------------------------------------------------------------------
# Narrative
# --------------------------------------------------------------------------------------------


def _we(agency: str) -> str:
    """How the report refers to its own agency: 我县, 我镇, 我局 …"""
    for suffix, we in (("镇人民政府", "我镇"), ("乡人民政府", "我乡"), ("县人民政府", "我县"),
                       ("区人民政府", "我区"), ("市人民政府", "我市"), ("街道办事处", "我街道"),
                       ("委员会", "我委"), ("局", "我局")):
        if agency.endswith(suffix):
            return we
    return "本机关"


_INTRO = (
    "{year}年，{we}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开"
    "条例》和上级关于政务公开工作的部署要求，坚持“公开为常态、不公开为例外”，围绕中心"
    "工作全面推进决策、执行、管理、服务、结果公开，政府信息公开工作取得新成效。",
    "{year}年，{we}在上级政务公开主管部门的指导下，严格执行《条例》各项规定，以群众需求为导向，着力提升"
    "政府信息公开的标准化、规范化水平，切实保障人民群众的知情权、参与权、表达权和监督权。",
    "{year}年，{we}把政务公开作为建设法治政府、服务型政府的重要抓手，健全工作机制，压实工作责任，扎实做好"
    "主动公开、依申请公开、政府信息管理、平台建设和监督保障等各项工作。",
)
_ACTIVE = (
    "围绕稳增长、促改革、调结构、惠民生、防风险等重点工作，及时主动公开政策文件、财政预决算、重大建设项目、"
    "公共资源配置、社会公益事业建设等领域信息。坚持政策文件与解读材料同步组织、同步审签、同步发布，综合运用"
    "图表图解、短视频、问答等形式开展政策解读，提升政策知晓度。",
    "严格落实主动公开基本目录，动态更新机构职能、权责清单、规划计划、财政信息、行政执法等内容，做到应公开尽"
    "公开。聚焦就业创业、教育医疗、养老服务、住房保障等民生关切，持续加大信息发布力度，确保群众看得到、"
    "看得懂、用得上。",
    "以门户网站为主阵地，统筹做好重要会议、重大决策、重点工作进展的信息发布。全面推行重大行政决策预公开，对"
    "涉及群众切身利益的政策文件广泛征求社会意见，并及时反馈意见采纳情况。",
)
_MANAGEMENT = (
    "严格落实政府信息公开保密审查制度，坚持“先审查、后公开”和“一事一审”原则，公文拟制时同步确定公开属性，"
    "全年未发生泄密和侵犯个人隐私事件。",
    "健全政府信息公开工作制度，规范信息发布审核流程，落实“三审三校”。对已公开的政府信息开展全面排查，及时"
    "清理过时失效信息，并按照立改废情况对规范性文件实行动态管理。",
    "完善政府信息公开台账管理，对主动公开、依申请公开的信息分类登记、统一归档。加强个人信息保护，发布前逐条"
    "核查身份证号码、手机号码等敏感内容，确保信息发布安全。",
)
_PLATFORM = (
    "充分发挥政府门户网站信息公开第一平台作用，优化政府信息公开专栏栏目设置，及时更新机构职能、政策文件、"
    "财政资金等栏目内容。加强政务新媒体管理，做到信息发布及时、准确、规范。",
    "推进政务公开专区标准化建设，在政务服务大厅设置政府信息查阅点，配备自助查询设备，方便群众就近查阅。同步"
    "做好政务微信公众号运维，拓宽信息传播渠道。",
    "按照政府网站集约化要求完成网站栏目梳理和页面改版，实行网站内容每日巡查、每季度自查，及时整改错别字、"
    "空白栏目和失效链接等问题，网站运行平稳有序。",
)
_OVERSIGHT = (
    "成立由主要负责同志任组长的政务公开工作领导小组，明确分管领导和专职工作人员，将政务公开工作纳入年度绩效"
    "考核，主动接受社会评议和群众监督。全年组织政务公开业务培训，未发生因政府信息公开工作引发的责任追究情况。",
    "坚持把政务公开工作与业务工作同部署、同推进、同考核，定期通报工作进展。通过门户网站、意见箱等渠道开展"
    "社会评议，广泛听取群众意见建议。本年度未发生政府信息公开工作责任追究情况。",
    "认真落实政务公开工作考核制度，对照年度工作要点逐项抓好落实；组织工作人员参加上级举办的业务培训，提升"
    "依法公开能力。本年度社会评议总体良好，未发生责任追究情况。",
)
_PROBLEMS = (
    "{we}政府信息公开工作虽取得一定成效，但仍存在一些不足：一是政策解读形式不够丰富，图解、视频等解读产品较少；"
    "二是工作人员业务能力有待提升，答复文书规范性需进一步加强。\n\n"
    "下一步，{we}将从以下方面加以改进：一是丰富政策解读形式，增加图解、短视频等群众喜闻乐见的解读产品；二是"
    "加强业务培训，规范依申请公开办理流程和答复文书；三是加强监督检查，推动政务公开工作提质增效。",
    "存在的主要问题：一是主动公开的深度和广度还不够，部分领域信息更新不够及时；二是政务新媒体与门户网站联动"
    "不足，信息传播效果有待提升。\n\n"
    "改进措施：一是对照主动公开基本目录全面梳理应公开事项，确保信息及时更新；二是加强网站与政务新媒体协同"
    "发布，提升信息传播力；三是健全考核评议机制，压实各科室信息公开责任。",
    "对照上级要求和群众期盼，{we}政务公开工作还存在公开内容与群众需求契合度不高、基层政务公开标准化规范化"
    "建设需持续深化等问题。\n\n"
    "下一步，{we}将坚持以人民为中心，聚焦群众关切扩大公开范围，完善基层政务公开标准目录，强化政策解读和"
    "回应关切，不断提升政务公开工作水平。",
)
_OTHER_ITEMS = (
    "",
    "本年度人大代表建议和政协提案办理结果均已按要求在门户网站公开。",
    "无其他需要报告的事项。",
)


def _numbers_active(template: str, cells: Mapping[str, int | float]) -> str:
    """A sentence of table-二 figures that agrees with the table (or '' when cells are missing)."""
    if template == "2021":
        ids = ("s2.normative_documents.issued", "s2.normative_documents.repealed", "s2.normative_documents.in_force")
        if not all(i in cells for i in ids):
            return ""
        issued, repealed, in_force = (int(cells[i]) for i in ids)
        text = f"全年制发行政规范性文件{issued}件，废止{repealed}件，现行有效{in_force}件，均已在行政规范性文件库集中公开。"
    else:
        ids = ("s2.normative_documents.made", "s2.normative_documents.published",
               "s2.normative_documents.total_published")
        if not all(i in cells for i in ids):
            return ""
        made, published, total = (int(cells[i]) for i in ids)
        text = f"全年新制作规范性文件{made}件，新公开{published}件，对外公开规范性文件总数{total}件。"
    if "s2.licensing.decisions" in cells and "s2.punishment.decisions" in cells:
        lic, pun = int(cells["s2.licensing.decisions"]), int(cells["s2.punishment.decisions"])
        text += f"公开行政许可处理决定{lic}件、行政处罚决定{pun}件。"
    return text


def _applications(year: int, we: str, cells: Mapping[str, int | float], rng: random.Random, template: str) -> str:
    """依申请公开 figures that agree with tables 三 and 四 (N-01…N-06)."""
    new, cin = int(cells["s3.new.total"]), int(cells["s3.carried_over.total"])
    done, cout = int(cells["s3.total.total"]), int(cells["s3.carried_forward.total"])
    parts = []
    if new == 0 and cin == 0:
        parts.append(f"{year}年，{we}未收到政府信息公开申请，无上年结转申请。")
    elif new == 0:
        parts.append(f"{year}年，{we}未收到新的政府信息公开申请；上年结转申请{cin}件，本年度办结{done}件，"
                     f"结转下年度继续办理{cout}件。")
    elif cin > 0 and rng.random() < 0.4:
        parts.append(f"全年共受理政府信息公开申请{new + cin}件（含上年结转{cin}件），办结{done}件，"
                     f"结转下年度继续办理{cout}件。")
    else:
        natural = int(cells["s3.new.natural"])
        parts.append(f"全年共收到政府信息公开申请{new}件，其中自然人申请{natural}件，法人或其他组织申请"
                     f"{new - natural}件；上年结转{cin}件。本年度办结{done}件，结转下年度继续办理{cout}件。")
    if done > 0:
        groups = [("予以公开", ("granted",)), ("部分公开", ("partial",))]
        for name, prefix in (("不予公开", "denied."), ("无法提供", "unavailable."), ("不予处理", "rejected."),
                             ("其他处理", "other")):
            groups.append((name, tuple(r for r in OUTCOME_ROWS[template] if r.startswith(prefix))))
        with_pct = rng.random() < 0.5
        items = []
        for name, rows in groups:
            n = sum(int(cells[f"s3.{r}.total"]) for r in rows)
            if n:
                items.append(f"{name}{n}件，占{n / done * 100:.1f}%" if with_pct else f"{name}{n}件")
        parts.append("在已办结的申请中，" + ("；" if with_pct else "、").join(items) + "。")
    parts.append("严格按照《条例》规定的程序和时限办理，做到依法依规、按时答复，答复文书格式规范、告知事项完整。")
    review = int(cells["s4.review.total"])
    suits = int(cells["s4.suit_direct.total"]) + int(cells["s4.suit_after_review.total"])
    if review == 0 and suits == 0:
        parts.append("全年未发生因政府信息公开引起的行政复议、行政诉讼案件。")
    elif suits == 0:
        parts.append(f"全年因政府信息公开被申请行政复议{review}件，未发生因政府信息公开引起的行政诉讼案件。")
    elif review == 0:
        parts.append(f"全年未发生因政府信息公开被申请行政复议的情况，因政府信息公开被提起行政诉讼{suits}件。")
    else:
        parts.append(f"全年因政府信息公开被申请行政复议{review}件、被提起行政诉讼{suits}件。")
    return "".join(parts)


def realistic_sections(
    agency: str, year: int, template: str, cells: Mapping[str, int | float], variant: int = 0
) -> dict[str, str]:
    """Narrative of 一, 五 and 六 that agrees with the tables, one of many variants.

    一 covers 主动公开, 依申请公开, 政府信息管理, 平台建设 and 监督保障 (with 工作考核、社会评议、
    责任追究); every figure it states equals the tables; it names no year but ``year``. 六 states
    the 信息处理费 from 2021 on. Deterministic in its arguments.
    """
    rng = random.Random(variant)
    we = _we(agency)
    numbered = rng.random() < 0.5
    active = rng.choice(_ACTIVE)
    if rng.random() < 0.7:
        active += _numbers_active(template, cells)
    subsections = [
        ("（一）主动公开", active),
        ("（二）依申请公开", _applications(year, we, cells, rng, template)),
        ("（三）政府信息管理", rng.choice(_MANAGEMENT)),
        ("（四）政府信息公开平台建设", rng.choice(_PLATFORM)),
        ("（五）监督保障", rng.choice(_OVERSIGHT)),
    ]
    paragraphs = [rng.choice(_INTRO).format(year=year, we=we)]
    for title, body in subsections:
        paragraphs += [f"### {title}", body] if numbered else [f"{title}{body}"]
    sec5 = rng.choice(_PROBLEMS).format(we=we)
    sec6_parts = []
    if year >= 2021:
        fee = rng.choice((0, 0, 0, 100, 200, 380))
        sec6_parts.append(
            "本年度未收取政府信息公开信息处理费。" if fee == 0
            else f"依据《政府信息公开信息处理费管理办法》，本年度共收取信息处理费{fee}元。"
        )
    sec6_parts.append(rng.choice(_OTHER_ITEMS))
    sec6 = "".join(sec6_parts) or "无。"
    return {"sec1": "\n\n".join(paragraphs), "sec5": sec5, "sec6": sec6}
