"""The bucket layout: what a key says, and every way a key can fall outside the layout."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nianbao.intake.keys import (
    InvalidKey,
    UploadKey,
    is_directory_marker,
    metadata_conflict,
    notice_keys,
    parse_key,
    submission_id,
    upload_key,
)

agency_ids = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,63}", fullmatch=True)
years = st.integers(2000, 2100)
filenames = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"), blacklist_characters="/\\"),
    min_size=1, max_size=40,
).filter(lambda s: s == s.strip() and not s.startswith(".") and len(s.encode()) <= 200)


def test_a_key_in_the_layout_names_agency_year_and_file() -> None:
    assert parse_key("inbox/cangtai/2023/年报.pdf") == UploadKey("inbox/cangtai/2023/年报.pdf", "cangtai", 2023, "年报.pdf")


@given(agency_ids, years, filenames)
def test_every_well_formed_key_parses_back(agency: str, year: int, name: str) -> None:
    key = upload_key(agency, year, name)
    assert parse_key(key) == UploadKey(key, agency, year, name)


@pytest.mark.parametrize(
    ("key", "agency", "year"),
    [
        ("inbox/../etc/2023/passwd", None, None),
        ("inbox/a/../2023/x.pdf", "a", None),  # answered to the uploader (first segment)
        ("inbox/a/2023/../x.pdf", "a", None),
        ("inbox/./2023/x.pdf", None, None),
        ("/inbox/a/2023/x.pdf", None, None),
        ("inbox\\a\\2023\\x.pdf", None, None),
        ("inbox/a/2023/x\x00.pdf", None, None),
        ("outbox/a/2023/x.pdf", None, None),
        ("inbox/Cangtai/2023/x.pdf", None, None),
        ("inbox/-a/2023/x.pdf", None, None),
        ("inbox/" + "a" * 65 + "/2023/x.pdf", None, None),
        ("inbox/a/x.pdf", "a", None),
        ("inbox/a/1999/x.pdf", "a", None),
        ("inbox/a/2101/x.pdf", "a", None),
        ("inbox/a/２０２３/x.pdf", "a", None),
        ("inbox/a/2023/sub/x.pdf", "a", 2023),
        ("inbox/a/2023/.hidden", "a", 2023),
        ("inbox/a/2023/ x.pdf", "a", 2023),
        ("inbox/a/2023/" + "长" * 70 + ".pdf", "a", 2023),
    ],
)
def test_keys_outside_the_layout_are_invalid_with_a_reason(key: str, agency: str | None, year: int | None) -> None:
    got = parse_key(key)
    assert isinstance(got, InvalidKey)
    assert got.reason and "inbox/<机构代码>/<年度>/<文件名>" in got.reason
    assert (got.agency_id, got.year) == (agency, year)


@given(st.lists(st.sampled_from(["a", "2023", "..", ".", "x.pdf", ""]), min_size=1, max_size=5))
def test_no_dot_segment_or_empty_segment_ever_passes(parts: list[str]) -> None:
    got = parse_key("inbox/" + "/".join(parts))
    if any(p in ("..", ".", "") for p in parts):
        assert isinstance(got, InvalidKey)


def test_upload_key_refuses_what_parse_key_rejects() -> None:
    with pytest.raises(ValueError, match="机构代码"):
        upload_key("Bad Agency", 2023, "x.pdf")


def test_directory_markers_are_not_uploads() -> None:
    assert is_directory_marker("inbox/a/2023/", 0)
    assert not is_directory_marker("inbox/a/2023/x.pdf", 0)


def test_submission_id_is_deterministic_and_sensitive_to_each_part() -> None:
    sid = submission_id("inbox/a/2023/x.pdf", "etag@t", "sha")
    assert sid == submission_id("inbox/a/2023/x.pdf", "etag@t", "sha")
    assert len({sid, submission_id("inbox/a/2023/y.pdf", "etag@t", "sha"),
                submission_id("inbox/a/2023/x.pdf", "etag@u", "sha"),
                submission_id("inbox/a/2023/x.pdf", "etag@t", "sha2")}) == 4


def test_notice_keys_go_beside_the_agency_or_to_rejected() -> None:
    assert notice_keys("s-1", "a", 2023) == ("outbox/a/2023/s-1.json", "outbox/a/2023/s-1.md")
    assert notice_keys("s-1", "a", None) == ("outbox/a/unknown/s-1.json", "outbox/a/unknown/s-1.md")
    assert notice_keys("s-1", None, None)[0] == "outbox/_rejected/s-1.json"


def test_metadata_must_agree_with_the_key() -> None:
    assert metadata_conflict({}, "a", 2023) is None
    assert metadata_conflict({"agency": "a", "year": "2023"}, "a", 2023) is None
    assert "x-amz-meta-agency" in (metadata_conflict({"agency": "b"}, "a", 2023) or "")
    assert "x-amz-meta-year" in (metadata_conflict({"year": "2022"}, "a", 2023) or "")
