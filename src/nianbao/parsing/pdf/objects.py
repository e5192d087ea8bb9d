"""PDFium page objects, forms entered, each with its transform to page space.

Both the ruling lines (path objects) and the check for text PDFium drops (text objects) need every
object of a page, including those nested in form XObjects, in page coordinates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from nianbao.parsing.limits import Budget

OBJ_TEXT, OBJ_PATH, OBJ_FORM = 1, 2, 5
"""PDFium's ``FPDF_PAGEOBJ_*`` types used here."""


def page_objects(page_raw: Any, budget: Budget | None = None) -> Iterator[tuple[Any, tuple[float, ...], int]]:
    """Every page object (forms entered) with its transform to page space and its type.

    Each page's and form's object count is spent from ``budget`` before its objects are looked at:
    forms nested in forms multiply, so the count, not the file size, bounds the walk.
    """
    import pypdfium2.raw as R

    def walk(count: int, get: Any, parent: tuple[float, ...], depth: int) -> Iterator[tuple[Any, tuple[float, ...], int]]:
        if budget is not None:
            budget.spend(max(count, 0))
        m = R.FS_MATRIX()
        for i in range(count):
            obj = get(i)
            kind = R.FPDFPageObj_GetType(obj)
            R.FPDFPageObj_GetMatrix(obj, m)
            matrix = _compose((m.a, m.b, m.c, m.d, m.e, m.f), parent)
            yield obj, matrix, kind
            if kind == OBJ_FORM and depth < 8:
                n = R.FPDFFormObj_CountObjects(obj)
                yield from walk(n, lambda k, f=obj: R.FPDFFormObj_GetObject(f, k), matrix, depth + 1)

    yield from walk(R.FPDFPage_CountObjects(page_raw), lambda k: R.FPDFPage_GetObject(page_raw, k),
                    (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), 0)  # fmt: skip


def _compose(m: tuple[float, ...], parent: tuple[float, ...]) -> tuple[float, ...]:
    """``m`` followed by ``parent`` (PDF row-vector convention)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = parent
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2, e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)
