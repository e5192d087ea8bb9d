"""Hostile and broken uploads through the whole pipeline: each one answered with its reason in a
notice in its own agency's outbox, and none of them stops the good uploads beside it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nianbao import pipeline
from nianbao.config import Settings
from nianbao.intake.store import S3Store
from nianbao.warehouse import Warehouse
from tests.e2e.fixtures import SAMPLES
from tests.helpers import hostile

pytestmark = pytest.mark.e2e

# (agency, file name, bytes, expected status, words the notice's first finding must contain)
CASES: list[tuple[str, str, Callable[[], bytes], str, str]] = [
    ("empty", "report.pdf", lambda: b"", "failed", "文件为空"),
    ("noise", "report.docx", lambda: hostile.random_bytes(50_000, 1), "failed", ""),
    ("bomb", "report.docx", hostile.docx_zip_bomb, "failed", "压缩炸弹"),
    ("xbomb", "report.xlsx", hostile.xlsx_zip_bomb, "failed", "压缩炸弹"),
    ("olddoc", "report.doc", hostile.ole2_doc, "failed", ".docx"),
    ("locked", "report.pdf", hostile.encrypted_pdf, "failed", "密码"),
    ("scan", "report.pdf", hostile.image_only_pdf, "failed", "文字"),
    ("deep", "report.html", hostile.deep_html, "failed", ""),
    ("pics", "report.docx", hostile.tables_as_images_docx, "returned", "表"),
]


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with Warehouse.from_settings(settings).read() as con:
        return con.execute(sql).fetchall()


def test_every_hostile_upload_is_answered_with_its_reason_and_good_ones_still_pass(
        settings: Settings, store: S3Store, tmp_path: Path) -> None:
    good = (SAMPLES / "cangtai-2023.txt").read_bytes()
    store.put("inbox/good-a/2023/r.txt", good)
    for agency, name, make, _, _ in CASES:
        store.put(f"inbox/{agency}/2023/{name}", make())
    store.put("inbox/good-b/2023/r.txt", good.decode("utf-8").encode("utf-16"))  # Notepad's "Unicode"
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a", encoding="utf-8")
    with hostile.counting_http_server() as (url, hits):
        store.put("inbox/xxe/2023/report.docx", hostile.docx_with_entities("document", "external",
                                                                            secret, url))
        summary = pipeline.run_ingest(settings)
        assert not hits  # nothing was fetched on the file's behalf
    assert summary["new"] == summary["notices"] == len(CASES) + 3
    status = dict(rows(settings, "SELECT agency_id, status FROM submissions"))
    assert status["good-a"] == status["good-b"] == "accepted"
    assert status["xxe"] == "accepted"  # read as the report it is, its entities left unexpanded
    for agency, _, _, expected, words in CASES:
        assert status[agency] == expected, agency
        [(json_key,)] = rows(settings, "SELECT n.json_key FROM notices n JOIN submissions s USING (submission_id) "
                                       f"WHERE s.agency_id = '{agency}'")
        assert json_key.startswith(f"outbox/{agency}/2023/")
        notice = json.loads(store.get_bytes(json_key))
        first = notice["findings"][0]
        if expected == "failed":
            assert first["rule"] == "PARSE-FAILED" and "内部错误" not in first["message"], agency
        else:
            assert any(f["rule"] == "TABLE-MISSING" for f in notice["findings"]), agency
        assert words in first["message"] or any(words in f["message"] for f in notice["findings"]), agency
    everything = b"".join(store.get_bytes(r.key) for r in store.list("outbox/"))
    assert b"TOP-SECRET-7f3a" not in everything
    assert not rows(settings, "SELECT 1 FROM cells WHERE raw LIKE '%TOP-SECRET%'")
