"""Upload real files over S3, ingest, and read back warehouse rows and notice objects.

These run against moto's S3 server by default and against any S3-compatible endpoint given by
``NIANBAO_TEST_S3_ENDPOINT`` (CI also runs them on Ceph RGW). Prefect is not involved here
(``tests/test_flows.py`` covers the flows); the pipeline functions are what the flows call.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from nianbao import pipeline
from nianbao.config import Settings
from nianbao.intake.store import S3Store
from nianbao.warehouse import Warehouse
from tests.e2e.fixtures import PYTHON, ROOT, SAMPLES, subprocess_env

pytestmark = pytest.mark.e2e
KIND = {"accepted": "receipt", "returned": "return", "failed": "failure", "rejected": "rejected"}


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with Warehouse.from_settings(settings).read() as con:
        return con.execute(sql).fetchall()


def notice(store: S3Store, key: str) -> dict[str, Any]:
    return json.loads(store.get_bytes(key))


def expected_status(name: str) -> str:
    return str(json.loads((SAMPLES / f"{name}.expected.json").read_text(encoding="utf-8"))["status"])


def test_every_sample_is_checked_loaded_and_answered(settings: Settings, store: S3Store) -> None:
    files = sorted(p for p in SAMPLES.iterdir() if not p.name.endswith(".expected.json"))
    for i, f in enumerate(files):
        store.put(f"inbox/agency-{i}/2023/{f.name}", f.read_bytes(), "text/plain")
    summary = pipeline.run_ingest(settings)
    assert summary["uploads"] == summary["new"] == summary["notices"] == len(files)
    got = dict(rows(settings, "SELECT filename, status FROM submissions"))
    assert got == {f.name: expected_status(f.name) for f in files}
    sent = rows(settings, "SELECT s.filename, n.kind, n.json_key, n.md_key FROM notices n JOIN submissions s "
                          "USING (submission_id) WHERE n.sent_at IS NOT NULL")
    assert len(sent) == len(files)
    for filename, kind, json_key, md_key in sent:
        assert kind == KIND[expected_status(filename)]
        body = notice(store, json_key)
        assert body["kind"] == kind and json_key.startswith("outbox/agency-") and json_key.endswith(".json")
        assert store.get_bytes(md_key).decode("utf-8").startswith("#")
    assert rows(settings, "SELECT count(*) FROM cells")[0][0] > 1000
    assert rows(settings, "SELECT count(DISTINCT load_id) FROM submissions") == [(1,)]


def test_reupload_is_a_no_op_and_a_new_file_supersedes(settings: Settings, store: S3Store) -> None:
    key = "inbox/nanling-housing/2023/report.md"
    store.put(key, (SAMPLES / "nanling-housing-2023-faulty.md").read_bytes())
    first = pipeline.run_ingest(settings)
    assert [r["status"] for r in first["rows"]] == ["returned"]
    assert pipeline.run_ingest(settings)["uploads"] == 0  # nothing new in the listing

    store.put(key, (SAMPLES / "nanling-housing-2023-corrected.md").read_bytes())
    second = pipeline.run_ingest(settings)
    assert [(r["status"], r["loaded"]) for r in second["rows"]] == [("accepted", True)]
    time.sleep(1.05)  # Last-Modified has whole seconds: within the same second it *is* the same object version
    store.put(key, (SAMPLES / "nanling-housing-2023-corrected.md").read_bytes())  # same bytes again
    third = pipeline.run_ingest(settings)
    assert (third["new"], third["unchanged"], third["notices"]) == (0, 1, 0)

    hist = rows(settings, "SELECT status, is_current FROM submissions ORDER BY seq")
    assert hist == [("returned", False), ("accepted", True)]
    assert rows(settings, "SELECT count(*) FROM reports") == [(1,)]
    kinds = sorted(notice(store, r.key)["kind"] for r in store.list("outbox/") if r.key.endswith(".json"))
    assert kinds == ["receipt", "return"]


def test_a_file_that_cannot_be_parsed_is_answered_as_a_failure(settings: Settings, store: S3Store) -> None:
    store.put("inbox/cangtai/2024/notice.txt", (SAMPLES / "meeting-notice.txt").read_bytes())
    store.put("inbox/cangtai/2024/scan.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\nnot really a pdf")
    pipeline.run_ingest(settings)
    assert rows(settings, "SELECT filename, status FROM submissions ORDER BY filename") == [
        ("notice.txt", "failed"), ("scan.pdf", "failed")]
    assert rows(settings, "SELECT DISTINCT rule FROM findings") == [("PARSE-FAILED",)]
    keys = [r.key for r in store.list("outbox/cangtai/2024/") if r.key.endswith(".json")]
    assert len(keys) == 2 and {notice(store, k)["kind"] for k in keys} == {"failure"}


def test_keys_outside_the_layout_are_recorded_and_answered(settings: Settings, store: S3Store) -> None:
    data = (SAMPLES / "cangtai-2023.txt").read_bytes()
    store.put("inbox/cangtai/report.txt", data)                       # no year
    store.put("inbox/Cang Tai/2023/report.txt", data)                 # bad agency id
    store.put("inbox/cangtai/2023/", b"")                             # a console's folder marker
    store.put("inbox/cangtai/2023/r.txt", data, metadata={"agency": "someone-else"})  # metadata disagrees
    summary = pipeline.run_ingest(settings)
    assert summary["uploads"] == 3
    got = rows(settings, "SELECT key, status, is_current FROM submissions ORDER BY key")
    assert got == [("inbox/Cang Tai/2023/report.txt", "rejected", False),
                   ("inbox/cangtai/2023/r.txt", "rejected", False),
                   ("inbox/cangtai/report.txt", "rejected", False)]
    outbox = sorted(r.key.rsplit("/", 1)[0] for r in store.list("outbox/") if r.key.endswith(".json"))
    assert outbox == ["outbox/_rejected", "outbox/cangtai/2023", "outbox/cangtai/unknown"]
    assert all(notice(store, r.key)["kind"] == "rejected" for r in store.list("outbox/") if r.key.endswith(".json"))
    assert pipeline.run_ingest(settings)["uploads"] == 0


def test_prior_year_and_registry_feed_the_context_rules(settings: Settings, store: S3Store) -> None:
    text = (SAMPLES / "cangtai-2023.txt").read_text(encoding="utf-8")
    store.put("registry/agencies.csv", "id,name,level\ncangtai,北坡街道办事处,town\n".encode())
    store.put("inbox/cangtai/2023/r.txt", text.encode())
    pipeline.run_ingest(settings)
    store.put("inbox/cangtai/2024/r.txt", text.replace("2023", "2024").encode())
    pipeline.run_ingest(settings)
    by_year = {}
    for year, rule in rows(settings, "SELECT s.year, f.rule FROM findings f JOIN submissions s USING (submission_id)"):
        by_year.setdefault(year, set()).add(rule)
    assert "AGENCY-MISMATCH" in by_year[2023]           # the registry's name differs from the report's
    assert "NARRATIVE-COPIED" in by_year[2024]          # the 2023 report came back from the warehouse
    assert "NARRATIVE-COPIED" not in by_year[2023]


def test_notices_left_pending_by_a_crash_are_delivered_next_time(settings: Settings, store: S3Store,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store.put("inbox/cangtai/2023/r.txt", (SAMPLES / "cangtai-2023.txt").read_bytes())
    real = pipeline.deliver_notices
    monkeypatch.setattr(pipeline, "deliver_notices", lambda *a, **k: (_ for _ in ()).throw(OSError("crash")))
    with pytest.raises(OSError):
        pipeline.run_ingest(settings)
    monkeypatch.setattr(pipeline, "deliver_notices", real)
    assert not [r for r in store.list("outbox/")]
    Warehouse.from_settings(settings).refresh_snapshot()
    assert rows(settings, "SELECT count(*) FROM notices WHERE sent_at IS NULL") == [(1,)]
    summary = pipeline.run_ingest(settings)
    assert (summary["uploads"], summary["notices"]) == (0, 1)
    assert len([r for r in store.list("outbox/cangtai/2023/")]) == 2


def _ingest_cmd(settings: Settings) -> subprocess.Popen[str]:
    return subprocess.Popen([PYTHON, "-m", "nianbao", "ingest", "--no-prefect"], cwd=ROOT, text=True,
                            env=subprocess_env(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_ingests_at_once_load_each_upload_once(settings: Settings, store: S3Store) -> None:
    data = (SAMPLES / "qingshan-eco-2023-clean.txt").read_bytes()
    for i in range(16):
        store.put(f"inbox/a{i:02d}/2023/r.txt", data + f"\n{i}\n".encode())
    a, b = _ingest_cmd(settings), _ingest_cmd(settings)
    for p in (a, b):
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
    assert rows(settings, "SELECT count(*), count(DISTINCT key) FROM submissions") == [(16, 16)]
    assert rows(settings, "SELECT count(*) FROM notices WHERE sent_at IS NOT NULL") == [(16,)]
    assert len([r for r in store.list("outbox/") if r.key.endswith(".json")]) == 16


def test_analysts_query_while_an_ingest_runs(settings: Settings, store: S3Store) -> None:
    data = (SAMPLES / "qingshan-eco-2023-clean.txt").read_bytes()
    for i in range(24):
        store.put(f"inbox/b{i:02d}/2023/r.txt", data + f"\n{i}\n".encode())
    Warehouse.from_settings(settings).refresh_snapshot()
    ingest = _ingest_cmd(settings)
    counts = []
    while ingest.poll() is None:
        q = subprocess.run([PYTHON, "-m", "nianbao", "query", "--format", "csv", "SELECT count(*) AS n FROM submissions"],
                           cwd=ROOT, env=subprocess_env(settings), capture_output=True, text=True, timeout=60)
        assert q.returncode == 0, q.stderr
        counts.append(int(q.stdout.split()[1]))
    assert ingest.returncode == 0, ingest.stderr.read() if ingest.stderr else ""
    assert counts and counts == sorted(counts)
    assert rows(settings, "SELECT count(*) FROM submissions") == [(24,)]


def test_notices_are_emailed_when_smtp_and_an_address_are_configured(settings: Settings, store: S3Store,
                                                                      tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            received.append(envelope)
            return "250 OK"

    from nianbao.intake.local_s3 import free_port

    port = free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        s = settings.model_copy(update={"smtp": settings.smtp.model_copy(update={"host": "127.0.0.1", "port": port})})
        store.put("registry/agencies.csv", b"id,name,email\ncangtai,,gk@cangtai.example\n")
        store.put("inbox/cangtai/2023/r.txt", (SAMPLES / "cangtai-2023.txt").read_bytes())
        pipeline.run_ingest(s)
    finally:
        ctl.stop()
    assert [e.rcpt_tos for e in received] == [["gk@cangtai.example"]]
    assert rows(settings, "SELECT email_to, emailed_at IS NOT NULL FROM notices") == [("gk@cangtai.example", True)]


def test_an_email_the_server_failed_is_retried_later_and_a_refusal_is_not(settings: Settings, store: S3Store) -> None:
    from aiosmtpd.controller import Controller

    from nianbao.intake.local_s3 import free_port

    received: list[Any] = []

    class Handler:
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                              options: list[str]) -> str:
            if address.startswith("nobody@"):
                return "550 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            received.append(envelope)
            return "250 OK"

    port = free_port()
    s = settings.model_copy(update={"smtp": settings.smtp.model_copy(
        update={"host": "127.0.0.1", "port": port, "retry_after": 3.0, "send_attempts": 3})})
    store.put("registry/agencies.csv", b"id,name,email\ncangtai,,gk@cangtai.example\nqingshan,,nobody@qs.example\n")
    store.put("inbox/cangtai/2023/r.txt", (SAMPLES / "cangtai-2023.txt").read_bytes())

    def mail() -> list[tuple[Any, ...]]:
        return rows(settings, "SELECT email_to, emailed_at IS NOT NULL, email_attempts, email_retry_at IS NOT NULL "
                              "FROM notices ORDER BY email_to")

    pipeline.run_ingest(s)  # nothing listens on the SMTP port: the notice is written, its e-mail waits
    assert mail() == [("gk@cangtai.example", False, 1, True)]
    assert rows(settings, "SELECT kind, attempts FROM v_pending_work") == [("email", 1)]
    assert len([r for r in store.list("outbox/cangtai/") if r.key.endswith(".json")]) == 1

    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        store.put("inbox/qingshan/2023/r.txt", (SAMPLES / "qingshan-eco-2023-clean.txt").read_bytes())
        pipeline.run_ingest(s)  # the retry is not due yet; the refused address is final at once
        assert received == []
        assert mail() == [("gk@cangtai.example", False, 1, True), ("nobody@qs.example", False, 1, False)]
        time.sleep(3.2)
        pipeline.run_ingest(s)  # now it is due: sent, once
        pipeline.run_ingest(s)
    finally:
        ctl.stop()
    assert [e.rcpt_tos for e in received] == [["gk@cangtai.example"]]
    assert mail() == [("gk@cangtai.example", True, 2, False), ("nobody@qs.example", False, 1, False)]
    assert rows(settings, "SELECT count(*) FROM v_pending_work") == [(0,)]
