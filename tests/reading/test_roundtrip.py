"""Property tests: any consistent report, in any text rendering, reads back to its cells and is
accepted; any single changed cell of table 三 or 四 is caught by an arithmetic rule."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nianbao.check import check_bytes
from tests.helpers.faults import break_cell
from tests.helpers.render_text import PIPE_STYLES, TAB_STYLES, expected_cells, render_pipe, render_tab
from tests.helpers.strategies import blank_sets, consistent_reports, single_cell_changes
from tests.helpers.synthetic import SyntheticReport

RENDERINGS = [("tab", s) for s in TAB_STYLES] + [("pipe", s) for s in PIPE_STYLES]
ARITHMETIC = {"S3-ROW-SUM", "S3-OUTCOME-SUM", "S3-BALANCE", "S4-SUM"}


def _render(r: SyntheticReport, how: tuple[str, str], blanks: frozenset[str] = frozenset()) -> bytes:
    kind, style = how
    fn = render_tab if kind == "tab" else render_pipe
    return fn(r, style=style, blanks=blanks).encode("utf-8")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consistent_reports(), st.sampled_from(RENDERINGS))
def test_consistent_report_reads_back_exactly_and_is_accepted(r: SyntheticReport, how: tuple[str, str]) -> None:
    _, result = check_bytes(_render(r, how), "r.txt")
    assert result.cells == expected_cells(r)
    assert (result.agency, result.year, result.template) == (r.agency, r.year, r.template)
    assert result.status == "accepted"
    assert result.findings == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), consistent_reports(), st.sampled_from(RENDERINGS))
def test_blank_cells_read_as_zero(data: st.DataObject, r: SyntheticReport, how: tuple[str, str]) -> None:
    blanks = data.draw(blank_sets(r))
    if how == ("tab", "seed"):
        # the seed prints （七）总计 one cell left of the other rows; with its 自然人 blank the row
        # reads exactly like an aligned row with a blank 总计, and the grid reading wins (as it
        # would for a person holding the header against it)
        blanks = blanks - {"s3.total.natural"}
    _, result = check_bytes(_render(r, how, blanks), "r.txt")
    assert result.cells == expected_cells(r, blanks)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), consistent_reports(), st.sampled_from(RENDERINGS))
def test_any_single_changed_cell_is_caught(data: st.DataObject, r: SyntheticReport, how: tuple[str, str]) -> None:
    cell_id, value = data.draw(single_cell_changes(r))
    faulty, oracle = break_cell(r, cell_id, value)
    _, result = check_bytes(_render(faulty, how), "r.txt")
    assert result.cells[cell_id] == value
    got = {(f.rule, f.at, f.expected, f.actual) for f in result.findings if f.rule in ARITHMETIC}
    assert got, f"changing {cell_id} to {value} was not caught"
    assert got == oracle
    assert result.status == "returned"
