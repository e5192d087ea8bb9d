"""A synthetic annual report: every cell of one template plus narrative, for renderers and tests.

Renderers (``render_text``, ``render_formats``) turn a :class:`SyntheticReport` into the bytes of a
file in some format; the tests parse those bytes back and compare the cells.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from nianbao.model.cells import template_cells

S3_COLS = ("natural", "commercial", "research", "nonprofit", "legal", "other_org")
S4_GROUPS = ("review", "suit_direct", "suit_after_review")
S4_PARTS = ("upheld", "corrected", "other", "pending")


def s3_outcome_rows(template: str) -> list[str]:
    """Row parts of the outcome rows （一）…（六） of table 三, in printed order."""
    rows = []
    for c in template_cells(template):
        if c.table == "s3" and c.col == "natural" and c.row not in ("new", "carried_over", "total", "carried_forward"):
            rows.append(c.row)
    return rows


@dataclass
class SyntheticReport:
    """Everything a renderer needs to write one report."""

    agency: str
    year: int
    template: str  # "2019" or "2021"
    cells: dict[str, int | float]
    sections: dict[str, str] = field(default_factory=dict)
    """Narrative of sec1, sec5, sec6 (sec2..sec4 are the tables)."""
    period: str | None = None
    """Statistics period sentence for the preamble; default: the whole report year."""

    @property
    def title(self) -> str:
        return f"{self.agency}{self.year}年政府信息公开工作年度报告"


def consistent_cells(template: str, rng: random.Random, scale: int = 20) -> dict[str, int | float]:
    """Random cell values for which every arithmetic rule holds."""
    cells: dict[str, int | float] = {}
    for c in template_cells(template):
        if c.table == "s2":
            if c.kind == "amount":
                cells[c.id] = round(rng.uniform(0, 500), 4) if rng.random() < 0.5 else 0.0
            elif c.kind == "signed_count":
                cells[c.id] = rng.randint(-scale, scale)
            else:
                cells[c.id] = rng.randint(0, scale)
    if template == "2021":
        for row in ("regulations", "normative_documents"):
            issued, repealed = cells[f"s2.{row}.issued"], cells[f"s2.{row}.repealed"]
            cells[f"s2.{row}.in_force"] = max(int(cells[f"s2.{row}.in_force"]), int(issued) - int(repealed))
    else:
        for row in ("licensing", "other_services", "punishment", "coercion", "fees"):
            prev = int(cells[f"s2.{row}.prev_items"])
            cells[f"s2.{row}.change"] = max(int(cells[f"s2.{row}.change"]), -prev)
    outcomes = s3_outcome_rows(template)
    for col in S3_COLS:
        total = 0
        for row in outcomes:
            v = rng.randint(0, scale) if rng.random() < 0.4 else 0
            cells[f"s3.{row}.{col}"] = v
            total += v
        cells[f"s3.total.{col}"] = total
        forward = rng.randint(0, scale // 2)
        cells[f"s3.carried_forward.{col}"] = forward
        carried = rng.randint(0, total + forward)
        cells[f"s3.carried_over.{col}"] = carried
        cells[f"s3.new.{col}"] = total + forward - carried
    for row in ["new", "carried_over", *outcomes, "total", "carried_forward"]:
        cells[f"s3.{row}.total"] = sum(int(cells[f"s3.{row}.{col}"]) for col in S3_COLS)
    for g in S4_GROUPS:
        parts = [rng.randint(0, scale // 2) if rng.random() < 0.5 else 0 for _ in S4_PARTS]
        for p, v in zip(S4_PARTS, parts, strict=True):
            cells[f"s4.{g}.{p}"] = v
        cells[f"s4.{g}.total"] = sum(parts)
    return cells


DEFAULT_SECTIONS = {
    "sec1": "本年度，本机关认真贯彻落实《中华人民共和国政府信息公开条例》，扎实推进政府信息公开工作。",
    "sec5": "存在的主要问题是公开内容不够丰富。下一步将加强培训，提升公开质量。",
    "sec6": "本年度未收取信息处理费。",
}


def make_report(template: str = "2021", seed: int = 0, agency: str = "示例县人民政府", year: int | None = None) -> SyntheticReport:
    """A consistent synthetic report."""
    rng = random.Random(seed)
    year = year or (2023 if template == "2021" else 2020)
    return SyntheticReport(agency=agency, year=year, template=template, cells=consistent_cells(template, rng),
                           sections=dict(DEFAULT_SECTIONS))
