"""The canonical report and the result of checking it.

``Report`` is what every parser produces, whatever the file format; ``CheckResult`` is what
``nianbao check --json`` prints and what the pipeline loads and answers with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

Severity = Literal["error", "warning"]
Status = Literal["accepted", "returned", "failed"]
SECTION_IDS = ("sec1", "sec2", "sec3", "sec4", "sec5", "sec6")
SECTION_TITLES = {
    "sec1": "一、总体情况",
    "sec2": "二、主动公开政府信息情况",
    "sec3": "三、收到和处理政府信息公开申请情况",
    "sec4": "四、政府信息公开行政复议、行政诉讼情况",
    "sec5": "五、存在的主要问题及改进情况",
    "sec6": "六、其他需要报告的事项",
}
TABLE_TITLES = {"s2": "表二（主动公开政府信息情况）", "s3": "表三（收到和处理政府信息公开申请情况）",
                "s4": "表四（政府信息公开行政复议、行政诉讼情况）"}


@dataclass(slots=True)
class Source:
    """Where a cell was read: enough for a notice to point a clerk at it.

    Plain dataclasses (not pydantic models) for the ~200 cells of every report: building them is
    the hot path of reading, and pydantic still validates and serialises them inside ``Report``.
    """

    table: str
    """``s2``, ``s3`` or ``s4``."""
    row_label: str
    """The row label as printed in the document (normalised whitespace); the column is the
    cell's (its label is in the catalog)."""
    line: int | None = None
    page: int | None = None


@dataclass(slots=True)
class CellValue:
    """One cell as read from the document."""

    id: str
    raw: str
    """The cell's text exactly as found (whitespace-trimmed)."""
    value: int | float | None
    """The parsed value; ``None`` when the text is not a valid value of the cell's kind."""
    source: Source
    blank: bool = False
    """True when the document printed no number (blank, —, /, 无) and the value was read as 0."""


class ReportMeta(BaseModel):
    """Metadata read from the title and the preamble."""

    title: str | None = None
    agency: str | None = None
    year: int | None = None
    """The report year: from the title, else from the statistics period."""
    title_year: int | None = None
    period_text: str | None = None
    period_start: str | None = None
    """ISO date ``YYYY-MM-DD`` of the stated statistics period, if any."""
    period_end: str | None = None


class Report(BaseModel):
    """The canonical form of one annual report."""

    source: str
    source_format: str = "text"
    meta: ReportMeta = Field(default_factory=ReportMeta)
    template: Literal["2019", "2021"] | None = None
    layouts: dict[str, Literal["2019", "2021"]] = Field(default_factory=dict)
    """Per table (``s2``/``s3``/``s4``), the template whose rows the table was read with. Real
    reports mix them (a 2021 table 二 with the 2019 single-row （六）其他处理), so each table keeps
    its own."""
    sections: dict[str, str] = Field(default_factory=dict)
    """Text of each numbered section found (``sec1``…``sec6``)."""
    preamble: str = ""
    """Text before the first section (title, legal basis, statistics period)."""
    cells: dict[str, CellValue] = Field(default_factory=dict)
    missing: list[str] = Field(default_factory=list)
    """Cells of a present table that the layout calls for but the document lacks, in catalog order."""
    tables: list[str] = Field(default_factory=list)
    """The tables found (``s2``, ``s3``, ``s4``)."""

    def value(self, cell_id: str) -> int | float | None:
        """The parsed value of a cell; ``None`` when it is missing or invalid."""
        c = self.cells.get(cell_id)
        return None if c is None else c.value


class Finding(BaseModel):
    """One broken rule instance."""

    rule: str
    severity: Severity
    at: str
    expected: Any = None
    actual: Any = None
    message: str
    location: str | None = Field(default=None, exclude=True)
    """Human-readable place (table, row, column, line/page); shown in summaries and notices,
    not part of the JSON contract."""


class CheckResult(BaseModel):
    """The result of checking one file: the ``check --json`` contract."""

    source: str
    agency: str | None = None
    year: int | None = None
    template: Literal["2019", "2021"] | None = None
    status: Status
    cells: dict[str, int | float | None] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)

    def to_json(self) -> str:
        """One line of JSON, non-ASCII kept readable."""
        return json.dumps(self.model_dump(), ensure_ascii=False)
