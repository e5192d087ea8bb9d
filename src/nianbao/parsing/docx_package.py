"""Opening a DOCX package: the parts :mod:`nianbao.parsing.docx` reads, as plain lxml trees.

Why not python-docx: opening a report with it took two thirds of the reading time — it wraps
every part, relationship and element in Python objects (its element classes are looked up for
every element the reader touches), decompresses every part and parses the styles part, often ten
times the size of the document (half the reading time). This module opens the zip and the XML itself and accepts and
refuses the packages python-docx 1.2 accepts and refuses, with one exception noted below:

* the relationship graph is walked from ``_rels/.rels``; every internal target part must exist
  and have a content type in ``[Content_Types].xml`` (overrides, then defaults by extension,
  both case-insensitive);
* the parts python-docx parses (document, numbering, settings, headers, footers, comments, core
  properties) are parsed, with its parser settings (blank text removed, entities not resolved),
  so a malformed one refuses the file;
* the main part is the one target of the ``officeDocument`` relationship and must be a
  WordprocessingML main document (``.docm`` and templates are refused);
* a missing styles part means python-docx's default styles, a missing core-properties part
  means the title ``Word Document`` (what python-docx reports), a missing numbering part or a
  relationship that is not exactly one means no numbering / no styles / no title.

The exception: like python-docx, every part is decompressed (a bad CRC refuses the file), but
the styles part is parsed only when the reader needs it (a paragraph names a style in a numbered
document, :meth:`WordPackage.styles`), so a malformed styles part that nothing needs no longer
refuses a document whose text is intact.

Every failure raises one of :data:`BAD_FILE_ERRORS`; the reader turns it into ``ParseFailed``.
A hostile package (a zip bomb, parts inflating past their declared size, millions of XML tags) is
refused with ``ParseFailed`` by the guards of :mod:`nianbao.parsing.limits` before anything is parsed.
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from dataclasses import dataclass

from lxml import etree

from nianbao.parsing.limits import Budget, open_zip, read_member, xml_budget, xml_parser

BAD_FILE_ERRORS = (
    ValueError, KeyError, IndexError, TypeError, AttributeError, OSError, SyntaxError, EOFError, RuntimeError,
    NotImplementedError, zipfile.BadZipFile, zlib.error,
)  # fmt: skip
"""What a damaged package raises while it is opened (programming errors are not among them)."""

_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_PR = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CP = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/"
RT_OFFICE_DOCUMENT = _OFFICE + "relationships/officeDocument"
RT_NUMBERING = _OFFICE + "relationships/numbering"
RT_STYLES = _OFFICE + "relationships/styles"
RT_IMAGE = _OFFICE + "relationships/image"
RT_CORE_PROPERTIES = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
_WML = "application/vnd.openxmlformats-officedocument.wordprocessingml."
CT_DOCUMENT_MAIN = _WML + "document.main+xml"
CT_STYLES = _WML + "styles+xml"
CT_CORE_PROPERTIES = "application/vnd.openxmlformats-package.core-properties+xml"
_PARSED_TYPES = frozenset({
    CT_CORE_PROPERTIES, CT_DOCUMENT_MAIN, CT_STYLES, _WML + "comments+xml", _WML + "footer+xml",
    _WML + "header+xml", _WML + "numbering+xml", _WML + "settings+xml",
})  # fmt: skip
"""The content types python-docx parses when it opens a package."""

_STRICT_NAMESPACES = tuple(
    (b"http://purl.oclc.org/ooxml/" + strict, b"http://schemas.openxmlformats.org/" + transitional)
    for strict, transitional in (
        (b"wordprocessingml/main", b"wordprocessingml/2006/main"),
        (b"officeDocument/relationships", b"officeDocument/2006/relationships"),  # also the relationship types
        (b"officeDocument/math", b"officeDocument/2006/math"),
        (b"drawingml/main", b"drawingml/2006/main"),
        (b"drawingml/wordprocessingDrawing", b"drawingml/2006/wordprocessingDrawing"),
        (b"drawingml/picture", b"drawingml/2006/picture"),
    )
)
"""Strict (ISO/IEC 29500 Strict) namespace → the transitional one every reader and python-docx use."""

_PARSER = xml_parser(remove_blank_text=True)
"""python-docx's parser settings (blank text between elements dropped, entities unresolved), and no
DTD, no network, libxml2's depth limit: see :func:`~nianbao.parsing.limits.xml_parser`."""


@dataclass(slots=True)
class _Rel:
    rid: str | None
    reltype: str | None
    target: str  # a partname, or the raw reference of an external relationship
    external: bool


@dataclass(slots=True)
class _Part:
    content_type: str
    xml: bool  # python-docx would parse it
    element: etree._Element | None  # the parsed XML (the styles part is parsed only when needed)
    rels: list[_Rel]
    blob: bytes


class WordPackage:
    """The parts the DOCX reader needs."""

    __slots__ = ("_styles", "_styles_xml", "document", "numbering", "title")

    def __init__(
        self,
        document: etree._Element,
        numbering: etree._Element | None,
        styles_xml: bytes | None,
        title: str,
    ) -> None:
        self.document = document
        self.numbering = numbering
        self.title = title
        """The core-properties title (``""`` when it cannot be read)."""
        self._styles_xml = styles_xml
        self._styles: etree._Element | None = None

    def styles(self) -> etree._Element | None:
        """The styles part's XML, parsed on first use (may raise one of :data:`BAD_FILE_ERRORS`)."""
        if self._styles is None and self._styles_xml is not None:
            self._styles = etree.fromstring(self._styles_xml, _PARSER)
            self._styles_xml = None
        return self._styles


def open_package(data: bytes) -> WordPackage:
    """Open a DOCX package (raises one of :data:`BAD_FILE_ERRORS` for a damaged or foreign file)."""
    budget = xml_budget()
    with open_zip(data) as zf:
        types = etree.fromstring(_read_xml(zf, "[Content_Types].xml", budget), _PARSER)
        overrides = {o.get("PartName").lower(): o.get("ContentType") for o in types.findall(f"{_CT}Override")}
        defaults = {d.get("Extension").lower(): d.get("ContentType") for d in types.findall(f"{_CT}Default")}
        package_rels = _rels(zf, "/", budget)
        parts: dict[str, _Part] = {}
        _walk(zf, package_rels, parts, overrides, defaults, budget)
    main = _related(package_rels, RT_OFFICE_DOCUMENT, parts)
    if main.content_type != CT_DOCUMENT_MAIN or main.element is None:
        raise ValueError(f"not a Word file, content type is {main.content_type!r}")
    return WordPackage(
        document=main.element,
        numbering=_numbering(main.rels, parts),
        styles_xml=_styles_xml(main.rels, parts),
        title=_title(package_rels, parts),
    )


def _read_xml(zf: zipfile.ZipFile, name: str, budget: Budget) -> bytes:
    """An XML part's bytes, its tags counted against the package's budget before it is parsed.

    A "Strict Open XML" document (Word's *Save as Strict*) names the same elements in other
    namespaces; they are renamed to the transitional ones here, so the reader sees one vocabulary.
    """
    xml = read_member(zf, name)
    budget.spend(xml.count(b"<"), name)
    if b"purl.oclc.org/ooxml/" in xml:
        for strict, transitional in _STRICT_NAMESPACES:
            xml = xml.replace(strict, transitional)
    return xml


def _rels(zf: zipfile.ZipFile, partname: str, budget: Budget) -> list[_Rel]:
    """The relationships of a part (or of the package, ``/``); none when it has no rels item."""
    base, name = posixpath.split(partname)
    try:
        xml = _read_xml(zf, posixpath.join(base, "_rels", f"{name}.rels")[1:], budget)
    except KeyError:
        return []
    rels: list[_Rel] = []
    for el in etree.fromstring(xml, _PARSER).findall(f"{_PR}Relationship"):
        external = el.get("TargetMode", "Internal") == "External"
        target = el.get("Target")
        if not external:
            target = posixpath.abspath(posixpath.join(base, target))
        rels.append(_Rel(el.get("Id"), el.get("Type"), target, external))
    return rels


def _walk(
    zf: zipfile.ZipFile,
    rels: list[_Rel],
    parts: dict[str, _Part],
    overrides: dict[str, str],
    defaults: dict[str, str],
    budget: Budget,
) -> None:
    """Read every part reachable from ``rels`` (depth first, each once), parsing the XML ones.

    A stack of relationship iterators rather than recursion: a hostile package can chain thousands
    of parts, each related to the next, deeper than Python's recursion limit.
    """
    stack = [iter(rels)]
    while stack:
        rel = next(stack[-1], None)
        if rel is None:
            stack.pop()
            continue
        if rel.external or rel.target in parts:
            continue
        partname = rel.target
        part_rels = _rels(zf, partname, budget)
        content_type = overrides.get(partname.lower())
        if content_type is None:
            ext = posixpath.splitext(partname)[1]
            content_type = defaults[(ext[1:] if ext.startswith(".") else ext).lower()]
        xml = content_type in _PARSED_TYPES and rel.reltype != RT_IMAGE
        blob = _read_xml(zf, partname[1:], budget) if xml else read_member(zf, partname[1:])
        element = etree.fromstring(blob, _PARSER) if xml and content_type != CT_STYLES else None
        parts[partname] = _Part(content_type, xml, element, part_rels, blob)
        stack.append(iter(part_rels))


def _related(rels: list[_Rel], reltype: str, parts: dict[str, _Part]) -> _Part:
    """The one part related by ``reltype``: KeyError when there is none, ValueError when several.

    Relationships are keyed by id first: of two with the same id, the last counts (as in python-docx).
    """
    by_id = {rel.rid: rel for rel in rels}
    matching = [rel for rel in by_id.values() if rel.reltype == reltype]
    if not matching:
        raise KeyError(f"no relationship of type {reltype!r}")
    if len(matching) > 1 or matching[0].external:
        raise ValueError(f"not exactly one internal relationship of type {reltype!r}")
    return parts[matching[0].target]


def _numbering(rels: list[_Rel], parts: dict[str, _Part]) -> etree._Element | None:
    """The numbering part's XML, if the document has exactly one usable numbering relationship."""
    try:
        return _related(rels, RT_NUMBERING, parts).element
    except (KeyError, ValueError):
        return None


def _styles_xml(rels: list[_Rel], parts: dict[str, _Part]) -> bytes | None:
    """The styles part's bytes; python-docx's default styles when the document has none."""
    try:
        part = _related(rels, RT_STYLES, parts)
    except KeyError:
        from docx.parts.styles import StylesPart

        return StylesPart._default_styles_xml()
    except ValueError:
        return None
    return part.blob if part.content_type == CT_STYLES and part.xml else None


def _title(rels: list[_Rel], parts: dict[str, _Part]) -> str:
    """``dc:title`` of the core properties; python-docx reports ``Word Document`` when there are none."""
    try:
        part = _related(rels, RT_CORE_PROPERTIES, parts)
    except KeyError:
        return "Word Document"
    except ValueError:
        return ""
    if (
        part.content_type != CT_CORE_PROPERTIES
        or part.element is None
        or part.element.tag != f"{_CP}coreProperties"
    ):
        return ""
    title = part.element.find(_DC_TITLE)
    return (title.text or "") if title is not None else ""
