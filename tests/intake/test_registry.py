"""The agency registry: from a local file, from the bucket, or absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.config import Settings
from nianbao.errors import ConfigError
from nianbao.intake.registry import Agency, load_registry, parse_registry, registry_csv
from nianbao.intake.store import S3Store

CSV = "id,name,level,region,email\ncangtai,苍台镇人民政府,town,辽宁,gk@cangtai.gov.cn\nnanling-housing,南岭市住房和城乡建设局,department,,\n"


def test_parse_utf8_with_bom_and_blank_fields() -> None:
    reg = parse_registry(("\ufeff" + CSV).encode("utf-8"))
    assert reg["cangtai"] == Agency("cangtai", "苍台镇人民政府", "town", "辽宁", "gk@cangtai.gov.cn")
    assert reg["nanling-housing"].email is None and reg["nanling-housing"].region is None


def test_parse_gb18030_as_excel_saves_it() -> None:
    assert parse_registry(CSV.encode("gb18030"))["cangtai"].name == "苍台镇人民政府"


def test_header_case_and_column_order_do_not_matter() -> None:
    reg = parse_registry("Name,ID\n苍台镇人民政府,cangtai\n".encode())
    assert reg["cangtai"].name == "苍台镇人民政府"


@pytest.mark.parametrize("text", ["name,level\nx,y\n", "id,name\nBad Id,x\n", "id,name\n../x,y\n"])
def test_bad_registries_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_registry(text.encode())


def test_round_trip_through_registry_csv() -> None:
    agencies = [Agency("a", "甲", "town", "r", "a@x"), Agency("b")]
    assert list(parse_registry(registry_csv(agencies)).values()) == agencies


def test_local_file_wins_over_the_bucket(settings: Settings, store: S3Store, tmp_path: Path) -> None:
    store.put(settings.s3.registry_key, b"id,name\nfrom-bucket,x\n")
    assert set(load_registry(settings, store)) == {"from-bucket"}
    local = tmp_path / "agencies.csv"
    local.write_text("id,name\nfrom-file,y\n", encoding="utf-8")
    assert set(load_registry(settings.model_copy(update={"registry_path": local}), store)) == {"from-file"}


def test_no_registry_anywhere_is_empty(settings: Settings, store: S3Store) -> None:
    assert load_registry(settings, store) == {}


def test_missing_local_file_is_a_config_error(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read agency registry"):
        load_registry(settings.model_copy(update={"registry_path": tmp_path / "nope.csv"}), None)
