"""One upload → one answered submission: checked, refused before reading, or given up."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nianbao.check import parse_outcome
from nianbao.config import Settings
from nianbao.errors import ParseFailed
from nianbao.intake.registry import Registry
from nianbao.intake.store import ObjectRef, StoredObject
from nianbao.uploads import FetchFailure, Pending, finish, give_up, prepare, refuse_oversized

ROOT = Path(__file__).resolve().parents[1]
SEED = (ROOT / "sample_inputs" / "cangtai-2023.txt").read_bytes()
WHEN = datetime(2024, 2, 1, 9, 30, 12, 345000, tzinfo=UTC)
SETTINGS = Settings(limits={"max_upload_mb": 1, "upload_attempts": 4})


def ref(key: str, size: int) -> ObjectRef:
    return ObjectRef(key, "etag-1", size, WHEN)


def test_an_upload_over_the_limit_is_failed_unread_and_answered_in_its_own_outbox() -> None:
    sub = refuse_oversized(ref("inbox/cangtai/2023/scan.pdf", 3 * 2**20), SETTINGS, Registry())
    assert (sub.status, sub.sha256, sub.size, sub.agency_id, sub.year) == ("failed", None, 3 * 2**20, "cangtai", 2023)
    assert sub.received_at == WHEN.replace(microsecond=0)
    assert sub.result is not None and sub.result.findings[0].rule == "PARSE-FAILED"
    assert "文件过大（3 MB，上限 1 MB）" in sub.result.findings[0].message
    assert sub.notice is not None and sub.notice.json_key.startswith("outbox/cangtai/2023/")
    body = json.loads(sub.notice.body_json)
    assert body["kind"] == "failure" and body["sha256"] is None
    assert "文件未下载" in sub.notice.body_md


def test_an_oversized_upload_under_a_bad_key_is_rejected_for_the_key() -> None:
    sub = refuse_oversized(ref("inbox/Cangtai/2023/scan.pdf", 3 * 2**20), SETTINGS, Registry())
    assert sub.status == "rejected" and sub.notice is not None
    assert sub.notice.json_key.startswith("outbox/_rejected/")


def test_giving_up_says_how_often_and_why() -> None:
    failure = FetchFailure("inbox/cangtai/2023/r.txt", "etag-1", WHEN, "get …: InternalError, retry later")
    sub = give_up(failure, ref(failure.key, 100), SETTINGS, Registry())
    assert sub.status == "failed" and sub.sha256 is None
    message = sub.result.findings[0].message  # type: ignore[union-attr]
    assert "连续 4 次读取该文件均失败" in message and "InternalError" in message


def test_prepare_hashes_and_routes_then_finish_checks() -> None:
    obj = StoredObject("inbox/cangtai/2023/r.txt", SEED, "etag-1", WHEN)
    pending = prepare(obj, SETTINGS, Registry())
    assert isinstance(pending, Pending) and pending.sub.sha256 is not None and len(pending.sub.sha256) == 64
    sub = finish(pending, parse_outcome(pending.data, obj.key), SETTINGS)
    assert sub.status == "accepted" and sub.report is not None and sub.notice is not None
    unreadable = prepare(obj, SETTINGS, Registry())
    assert isinstance(unreadable, Pending)
    failed = finish(unreadable, ParseFailed("文件处理超时"), SETTINGS)
    assert failed.status == "failed" and failed.report is None
    assert "文件处理超时" in failed.result.findings[0].message  # type: ignore[union-attr]


def test_metadata_that_contradicts_the_key_is_rejected_before_checking() -> None:
    obj = StoredObject("inbox/cangtai/2023/r.txt", SEED, "etag-1", WHEN, metadata={"agency": "other"})
    sub = prepare(obj, SETTINGS, Registry())
    assert not isinstance(sub, Pending)
    assert sub.status == "rejected" and "x-amz-meta-agency" in (sub.key_error or "")
    assert sub.notice is not None and sub.notice.json_key.startswith("outbox/cangtai/2023/")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "b-1", "A", "..", ".", "", "2023", "x.pdf", "inbox", "outbox", "_rejected",
                                 "%2e%2e", "a/b", " "]), min_size=1, max_size=5))
def test_a_notice_only_ever_goes_to_the_uploaders_own_outbox(parts: list[str]) -> None:
    key = "inbox/" + "/".join(parts)
    sub = refuse_oversized(ref(key, 3 * 2**20), SETTINGS, Registry())
    assert sub.notice is not None
    first = key.removeprefix("inbox/").split("/")[0]
    if sub.agency_id is None:
        assert sub.notice.json_key.startswith("outbox/_rejected/")
    else:  # the key's first segment is the uploader (IAM lets it write only inbox/<own id>/)
        assert sub.agency_id == first
        assert sub.notice.json_key.startswith(f"outbox/{first}/")
        assert sub.notice.json_key.count("/") == 3 and ".." not in sub.notice.json_key
