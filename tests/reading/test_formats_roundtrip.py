"""Property tests across formats: a consistent report rendered as HTML, DOCX, XLSX or PDF comes
back through `check` with exactly its cells, its metadata, and no finding."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nianbao.check import check_bytes
from tests.helpers import render_formats as rf
from tests.helpers.render_text import expected_cells
from tests.helpers.strategies import blank_sets, consistent_reports
from tests.helpers.synthetic import SyntheticReport

Render = Callable[[SyntheticReport], bytes]
FORMATS: dict[str, tuple[str, Render]] = {
    "html": ("r.html", lambda r: rf.render_html(r)),
    "html-word-gbk": ("r.htm", lambda r: rf.render_html(r, word=True, cms=True, encoding="gbk", declare_charset=False)),
    "docx": ("r.docx", lambda r: rf.render_docx(r)),
    "xlsx-one-sheet": ("r.xlsx", lambda r: rf.render_xlsx(r, "one_sheet")),
    "xlsx-sheets": ("r.xlsx", lambda r: rf.render_xlsx(r, "sheets")),
}


def _assert_round_trip(r: SyntheticReport, name: str, data: bytes, blanks: frozenset[str] = frozenset()) -> None:
    _, result = check_bytes(data, name)
    assert result.cells == expected_cells(r, blanks)
    assert (result.agency, result.year, result.template) == (r.agency, r.year, r.template)
    if not blanks:
        assert result.findings == []
        assert result.status == "accepted"


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(r=consistent_reports())
def test_structured_formats_round_trip(fmt: str, r: SyntheticReport) -> None:
    name, render = FORMATS[fmt]
    _assert_round_trip(r, name, render(r))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), consistent_reports(), st.sampled_from(["html", "docx", "xlsx"]))
def test_blank_cells_read_as_zero_in_every_format(data: st.DataObject, r: SyntheticReport, fmt: str) -> None:
    blanks = data.draw(blank_sets(r))
    rendered = {"html": ("r.html", lambda: rf.render_html(r, blanks=blanks)),
                "docx": ("r.docx", lambda: rf.render_docx(r, blanks=blanks)),
                "xlsx": ("r.xlsx", lambda: rf.render_xlsx(r, "one_sheet", blanks=blanks))}[fmt]
    _assert_round_trip(r, rendered[0], rendered[1](), blanks)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consistent_reports(), st.sampled_from([None, 6, 12]), st.booleans())
def test_pdf_round_trip_across_page_breaks(r: SyntheticReport, break_at: int | None, repeat: bool) -> None:
    data = rf.render_pdf(r, break_table3_at=break_at, repeat_header=repeat, split_labels=break_at is not None)
    _assert_round_trip(r, "r.pdf", data)
