"""Settings: every one documented in .env.example, credentials only from the environment, and never
printed, logged or stored."""

from __future__ import annotations

import re
import subprocess

from pydantic import BaseModel

from nianbao.config import Settings
from tests.e2e.fixtures import ROOT

SECRET = "nb-Secret-5f0c2a9e7d"  # noqa: S105 (a made-up value the tests look for)


def env_names(model: type[BaseModel], prefix: str = "NIANBAO_") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            names += env_names(ann, f"{prefix}{name.upper()}__")
        elif name != "aws_endpoint_url":  # read under its standard AWS name
            names.append(f"{prefix}{name.upper()}")
    return names


def test_every_setting_is_documented_in_env_example() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    missing = [n for n in env_names(Settings) if not re.search(rf"\b{n}=", text)]
    assert not missing
    assert "AWS_ENDPOINT_URL=" in text


def test_env_example_values_are_placeholders_and_dot_env_is_ignored() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    for line in text.splitlines():
        if re.match(r"#?\s*NIANBAO_\w*(SECRET|PASSWORD|ACCESS_KEY)\w*=", line):
            assert line.split("=", 1)[1].split()[0] == "change-me", line
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT)
    assert ignored.returncode == 0


def test_no_credentials_are_committed() -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    leaks = []
    for name in files.decode().split("\0"):
        path = ROOT / name
        if not name or not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes().decode("utf-8", "ignore")
        if re.search(r"\bAKIA[0-9A-Z]{16}\b", text) or re.search(r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}", text):
            leaks.append(name)
    assert not leaks


def test_secrets_are_hidden_in_the_settings_repr() -> None:
    s = Settings(s3={"access_key_id": "AK", "secret_access_key": SECRET}, smtp={"password": SECRET})
    assert SECRET not in repr(s) and SECRET not in str(s) and SECRET not in s.model_dump_json()
