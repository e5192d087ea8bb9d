"""The cell catalog: every cell of sections 二, 三 and 四 of both national templates.

Loaded once from the package's own copy of ``cells.json`` (the public contract in
``shared/spec/cells.json``; a test keeps the two identical).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Literal

Template = Literal["2019", "2021"]
Kind = Literal["count", "signed_count", "amount"]
TEMPLATES: tuple[Template, ...] = ("2019", "2021")


@dataclass(frozen=True, slots=True)
class CellSpec:
    """One cell of the national format."""

    id: str
    section: str
    row_label: str
    col_label: str
    group: str | None
    unit: str
    kind: Kind
    templates: tuple[str, ...]

    @property
    def table(self) -> str:
        """``s2``, ``s3`` or ``s4``."""
        return self.id.split(".", 1)[0]

    @property
    def row(self) -> str:
        """The row part of the id (``denied.state_secret`` in ``s3.denied.state_secret.total``)."""
        return self.id.split(".", 1)[1].rsplit(".", 1)[0]

    @property
    def col(self) -> str:
        """The column part of the id (the last dotted part)."""
        return self.id.rsplit(".", 1)[1]


@cache
def _raw() -> list[dict[str, object]]:
    data = json.loads(resources.files("nianbao.spec").joinpath("cells.json").read_text(encoding="utf-8"))
    return data["cells"]  # type: ignore[no-any-return]


@cache
def catalog() -> dict[str, CellSpec]:
    """All cells by id, in the order of ``cells.json``."""
    raw = {"cells": _raw()}
    out: dict[str, CellSpec] = {}
    for c in raw["cells"]:
        prior = out.get(c["id"])
        if prior is not None:
            # the same cell in both templates under two printed labels (本年处理决定数量 /
            # 处理决定数量): one id, the templates merged, the first label kept
            out[c["id"]] = replace(prior, templates=(*prior.templates, *c["templates"]))
            continue
        out[c["id"]] = CellSpec(
            id=c["id"],
            section=c["section"],
            row_label=c["row_label"],
            col_label=c["col_label"],
            group=c.get("group"),
            unit=c["unit"],
            kind=c["kind"],
            templates=tuple(c["templates"]),
        )
    return out


@cache
def template_cells(template: str) -> tuple[CellSpec, ...]:
    """The cells of one template, in the order ``cells.json`` lists them for that template."""
    specs = catalog()
    return tuple(specs[c["id"]] for c in _raw() if template in c["templates"])  # type: ignore[index,operator]


def spec(cell_id: str) -> CellSpec:
    """The spec of one cell id (KeyError for an unknown id)."""
    return catalog()[cell_id]


@cache
def table_cells(template: str, table: str) -> tuple[CellSpec, ...]:
    """The cells of one table (``s2``/``s3``/``s4``) in one template, in catalog order."""
    return tuple(c for c in template_cells(template) if c.table == table)
