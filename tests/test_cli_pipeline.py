"""The pipeline commands: output and exit codes, through click's CliRunner or a subprocess."""

# ruff: noqa: F811  (pytest fixtures imported from tests/e2e/fixtures.py and used as arguments)
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from nianbao.cli_pipeline import register
from nianbao.config import Settings
from nianbao.intake.store import S3Store
from tests.e2e.fixtures import PYTHON, ROOT, SAMPLES, s3_endpoint, settings, store, subprocess_env  # noqa: F401

pytestmark = pytest.mark.e2e
CANGTAI = SAMPLES / "cangtai-2023.txt"


@pytest.fixture
def cli() -> click.Group:
    group = click.Group("nianbao")
    register(group)
    return group


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    e = subprocess_env(settings)
    return {k: v for k, v in e.items() if k.startswith("NIANBAO_")}


def test_register_adds_every_pipeline_command(cli: click.Group) -> None:
    assert set(cli.commands) == {"demo", "upload", "ingest", "watch", "status", "query"}
    for name, cmd in cli.commands.items():
        assert cmd.help, f"{name} has no help text"


def test_importing_the_commands_imports_no_heavy_library() -> None:
    code = ("import sys, nianbao.cli_pipeline; "
            "print(sorted(m for m in ('prefect', 'boto3', 'duckdb', 'moto', 'rich') if m in sys.modules))")
    out = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=subprocess_env(Settings()), capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_upload_ingest_status_query(cli: click.Group, env: dict[str, str], store: S3Store) -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["upload", str(CANGTAI), "--agency", "cangtai", "--year", "2023"], env=env)
    assert r.exit_code == 0, r.output
    assert r.output == f"uploaded s3://{store.bucket}/inbox/cangtai/2023/cangtai-2023.txt\n"
    assert store.get("inbox/cangtai/2023/cangtai-2023.txt").metadata == {"agency": "cangtai", "year": "2023"}

    r = runner.invoke(cli, ["ingest", "--no-prefect"], env=env)
    assert r.exit_code == 0, r.output
    assert "1 uploads: 1 new, 0 unchanged, 0 duplicates; 1 notices written" in r.output
    assert "inbox/cangtai/2023/cangtai-2023.txt" in r.output

    r = runner.invoke(cli, ["status", "--json"], env=env)
    assert r.exit_code == 0, r.output
    (row,) = [json.loads(line) for line in r.output.splitlines()]
    assert (row["agency_id"], row["status"], row["is_current"], row["notice"]) == ("cangtai", "accepted", True,
                                                                                   "receipt")
    r = runner.invoke(cli, ["status"], env=env)
    assert r.exit_code == 0 and "Latest 1 submissions" in r.output and "cangtai" in r.output

    r = runner.invoke(cli, ["query", "--format", "csv", "SELECT agency_id, year, status FROM reports"], env=env)
    assert (r.exit_code, r.output) == (0, "agency_id,year,status\ncangtai,2023,accepted\n")
    r = runner.invoke(cli, ["query", "--format", "json", "SELECT count(*) AS n FROM cells"], env=env)
    assert r.exit_code == 0 and json.loads(r.output)["n"] > 100
    r = runner.invoke(cli, ["query", "SELECT rule FROM findings"], env=env)
    assert r.exit_code == 0 and "FEE-NOT-REPORTED" in r.output

    r = runner.invoke(cli, ["watch", "--once", "--no-prefect"], env=env)
    assert (r.exit_code, r.output) == (0, "nothing new\n")


def test_user_errors_are_one_line_and_exit_2(cli: click.Group, env: dict[str, str]) -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["upload", str(CANGTAI), "--agency", "Bad Agency", "--year", "2023"], env=env)
    assert r.exit_code == 2 and r.output.startswith("Error: 机构代码") and "Traceback" not in r.output
    r = runner.invoke(cli, ["query", "SELEC nonsense"], env=env)
    assert r.exit_code == 2 and r.output.startswith("Error: Parser Error") and len(r.output.splitlines()) == 1
    down = {**env, "NIANBAO_S3__ENDPOINT_URL": "http://127.0.0.1:9", "NIANBAO_S3__MAX_ATTEMPTS": "1"}
    r = runner.invoke(cli, ["ingest", "--no-prefect"], env=down)
    assert r.exit_code == 2 and "cannot reach the S3 endpoint" in r.output
    r = runner.invoke(cli, ["status"], env={**env, "NIANBAO_LOCAL_DEADLINE": "13-45"})
    assert r.exit_code == 2 and "local_deadline" in r.output


def test_demo_runs_from_nothing_and_loads_nothing_twice(tmp_path: Path) -> None:
    """The zero-setup demo (plain pipeline here; tests/test_flows.py runs the flows)."""
    data = tmp_path / "demo"
    cmd = [PYTHON, "-m", "nianbao", "demo", "--data-dir", str(data), "--no-prefect"]
    env = {**subprocess_env(Settings()), "COLUMNS": "160"}
    first = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    uploads = [p for p in SAMPLES.iterdir() if not p.name.endswith(".expected.json")]
    assert f"phase 1: uploaded {len(uploads)} files" in first.stdout  # the corrected file waits; +1 misplaced
    assert "phase 2: uploaded 1 files" in first.stdout
    assert f"this run: {len(uploads) + 1} new submissions loaded, 0 uploads already in the warehouse" in first.stdout
    assert "returned" in first.stdout and "rejected" in first.stdout and "failed" in first.stdout
    notices = list((data / "outbox").rglob("*.json"))
    assert len(notices) == len(uploads) + 1
    assert {json.loads(p.read_text(encoding="utf-8"))["kind"] for p in notices} == {
        "receipt", "return", "failure", "rejected"}

    second = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "restored" in second.stdout
    assert f"this run: 0 new submissions loaded, {len(uploads)} uploads already in the warehouse" in second.stdout
    table = [line for line in second.stdout.splitlines() if "nanling-housing-2023.md" in line]
    assert len(table) == 2 and "returned" in table[0] and "accepted" in table[1] and "yes" in table[1]
