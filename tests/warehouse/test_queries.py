"""Read models: the prior-year report rebuilt from the warehouse, status listings, analyst views."""

from __future__ import annotations

import pytest

from nianbao.pipeline import Lookups
from nianbao.warehouse import Warehouse
from nianbao.warehouse.queries import known_sha256, prior_report, recent_submissions, run_query
from tests.warehouse.conftest import SAMPLES, sample

REPORTS = sorted(p.name for p in SAMPLES.iterdir() if not p.name.endswith(".json") and "meeting" not in p.name)


@pytest.mark.parametrize("name", REPORTS)
def test_prior_report_rebuilds_the_report_exactly(warehouse: Warehouse, upload, name: str) -> None:  # type: ignore[no-untyped-def]
    sub = upload("inbox/a/2021/r.txt", sample(name))
    assert sub.report is not None
    warehouse.load([sub], "L1")
    warehouse.refresh_snapshot()
    with warehouse.read() as con:
        rebuilt = prior_report(con, "a", 2021)
    assert rebuilt is not None
    assert rebuilt.model_dump() == sub.report.model_dump()


def test_prior_report_is_the_current_one_and_none_without_a_report(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    old = upload("inbox/a/2022/r.md", sample("nanling-housing-2023-faulty.md"))
    new = upload("inbox/a/2022/r.md", sample("nanling-housing-2023-corrected.md"), minutes=3)
    notice = upload("inbox/b/2022/r.txt", sample("meeting-notice.txt"))
    warehouse.load([old, new, notice], "L1")
    warehouse.refresh_snapshot()
    with warehouse.read() as con:
        got = prior_report(con, "a", 2022)
        assert got is not None and new.report is not None
        assert got.cells["s3.granted.total"].value == new.report.cells["s3.granted.total"].value
        assert prior_report(con, "b", 2022) is None
        assert prior_report(con, "a", 2021) is None
        assert known_sha256(con, "a", 2022, "inbox/a/2022/r.md") == {new.sha256}
        assert known_sha256(con, "a", 2022, "inbox/a/2022/other.md") == {new.sha256}
        assert known_sha256(con, "c", 2022, "inbox/b/2022/r.txt") == {notice.sha256}


def test_lookups_overlay_reports_checked_earlier_in_the_same_chunk(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    sub = upload("inbox/a/2022/r.txt", sample("cangtai-2023.txt"))
    with warehouse.read() as con:
        lookups = Lookups(con)
        assert lookups.prior("a", 2022) is None
        lookups.remember(sub)
        assert lookups.prior("a", 2022) is sub.report
        assert lookups.unchanged("a", 2022, "inbox/a/2022/other.txt", sub.sha256)
        assert not lookups.unchanged("a", 2023, "inbox/a/2023/r.txt", sub.sha256)


def test_recent_submissions_and_views(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    subs = [upload("inbox/a/2023/r.md", sample("nanling-housing-2023-faulty.md")),
            upload("inbox/b/2023/r.md", sample("nanling-housing-2023-corrected.md"), minutes=1)]
    warehouse.load(subs, "L1")
    warehouse.refresh_snapshot()
    with warehouse.read() as con:
        rows = recent_submissions(con, 10)
        assert [r["agency_id"] for r in rows] == ["b", "a"]
        assert rows[0]["notice"] == "receipt" and rows[1]["notice"] == "return"
        cols, by_rule = run_query(con, "SELECT rule, submissions FROM v_returned_by_rule ORDER BY rule")
        assert cols == ["rule", "submissions"] and ("S3-ROW-SUM", 1) in by_rule
        _, apps = run_query(con, "SELECT applicant_type, new_applications FROM v_applications_by_applicant "
                                 "WHERE applicant_type = 'total'")
        assert apps[0][1] == sum(s.report.value("s3.new.total") for s in subs)  # type: ignore[union-attr]
        _, lit = run_query(con, "SELECT proceeding, total, agencies FROM v_review_litigation ORDER BY proceeding")
        assert [r[0] for r in lit] == ["review", "suit_after_review", "suit_direct"]
        _, mix = run_query(con, "SELECT sum(share) FROM v_outcome_mix")
        assert mix[0][0] == pytest.approx(1.0, abs=0.01)
