"""Bounds on pdfminer's expansion of font ranges, installed before the fallback first opens a PDF.

Why: pdfminer — the reader for pages PDFium drops text from (:class:`~nianbao.parsing.pdf.chars.
MinerFallback`) — expands every range a font declares into one entry per code, with no bound. A CID
font's widths ``/W [18 2147483647 462]`` become a dict of two billion entries (fuzzing found it:
2.7 GB within 10 s and still growing), and a ToUnicode CMap's ``<00000000> <FFFFFFFF> <0041>``
``bfrange`` four billion calls. A real font never needs it: CIDs stop at 65,535.

* A width range spanning more than :data:`~nianbao.parsing.limits.MAX_CID_RANGE` codes is dropped
  before pdfminer sees it (its characters get the font's default width, as for a missing entry).
* A CMap given more than :data:`~nianbao.parsing.limits.MAX_CMAP_ENTRIES` entries stops with
  :class:`CMapTooLarge`, a ``ValueError``: the reader refuses the file as damaged.

pdfminer looks these functions up at call time, so replacing them in their modules is enough; every
other use of pdfminer is unaffected except by the bounds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from nianbao.parsing.limits import MAX_CID_RANGE, MAX_CMAP_ENTRIES

_installed = False


class CMapTooLarge(ValueError):
    """A font's CMap declares more mappings than any font has codes."""


def install() -> None:
    """Replace pdfminer's range expansions with bounded ones (once per process)."""
    global _installed
    if _installed:
        return
    from pdfminer import cmapdb, pdffont
    from pdfminer.pdftypes import resolve1

    widths, widths2 = pdffont.get_widths, pdffont.get_widths2
    pdffont.get_widths = lambda seq: widths(_without_wide_ranges(seq, 3, resolve1))
    pdffont.get_widths2 = lambda seq: widths2(_without_wide_ranges(seq, 5, None))
    cmapdb.FileUnicodeMap.add_cid2unichr = _counted(cmapdb.FileUnicodeMap.add_cid2unichr)  # type: ignore[method-assign]
    cmapdb.FileCMap.add_code2cid = _counted(cmapdb.FileCMap.add_code2cid)  # type: ignore[method-assign]
    _installed = True


def _without_wide_ranges(seq: Iterable[Any], group: int, resolve: Callable[[Any], Any] | None) -> list[Any]:
    """A ``/W`` (``group`` 3) or ``/W2`` (``group`` 5) array without its too-wide ``first last …`` ranges.

    The walk is pdfminer's own: numbers gather until ``group`` of them make a range, a list after
    numbers starts at the last number. A dropped range leaves pdfminer in the state a used one does.
    """
    out: list[Any] = []
    run: list[Any] = []
    for raw in seq:
        v = resolve(raw) if resolve is not None else raw
        if isinstance(v, list):
            out += run
            out.append(v)
            run = []
        elif isinstance(v, int | float):
            run.append(v)
            if len(run) == group:
                first, last = run[0], run[1]
                if not (isinstance(first, int) and isinstance(last, int)) or last - first <= MAX_CID_RANGE:
                    out += run
                run = []
        else:
            out.append(v)
    return out + run


def _counted(add: Callable[..., None]) -> Callable[..., None]:
    """``add`` refusing past :data:`~nianbao.parsing.limits.MAX_CMAP_ENTRIES` calls on one CMap."""

    def bounded(self: Any, *args: Any) -> None:
        n = self.__dict__.get("_nianbao_entries", 0) + 1
        if n > MAX_CMAP_ENTRIES:
            raise CMapTooLarge(f"a CMap with more than {MAX_CMAP_ENTRIES} entries")
        self.__dict__["_nianbao_entries"] = n
        add(self, *args)

    return bounded
