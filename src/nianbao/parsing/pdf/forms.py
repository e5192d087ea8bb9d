"""Form XObject bombs, refused before PDFium loads a page.

Why: a form XObject is a content stream a page draws by name (``/Fm1 Do``), and a form may draw
other forms, so drawings multiply through the nesting: form A drawing B twice, B drawing C twice, …
twenty levels down is a million drawings from a file of 3 KB. PDFium expands every one of them
inside its page loader (``FPDF_LoadPage``), before any budget of :mod:`~nianbao.parsing.pdf.pages`
can count them (twenty levels of two took 17 s and 3 GB), and it does not notice a form drawing itself:
it only stops 40 forms deep, so a form drawing itself twice is 2⁴⁰ drawings (out of memory). Glyphs
of Type 3 fonts are content streams too, and PDFium expands them the same way when it lays out text.

So before the first page is loaded, :func:`check_drawings` walks the document with pdfminer, lazily
(the page tree, the resources and the streams drawn, nothing else), counts the ``Do`` operators of
each content stream by name, and multiplies through the nesting, memoised per stream and
resources. A page over :data:`~nianbao.parsing.limits.MAX_PDF_FORM_DRAWINGS` drawings or a form
drawing itself (directly or through other forms) is refused with :data:`MSG_FORM_BOMB`; more than
:data:`~nianbao.parsing.limits.MAX_PDF_CONTENT_BYTES` of content, or more than
:data:`~nianbao.parsing.limits.MAX_PDF_OBJECTS` distinct forms and images, as too big. Only such
evidence refuses a file: whatever the walk cannot parse, or parse within its own budget
(:data:`~nianbao.parsing.pdf.streams.STRUCTURE_WORK`), it leaves to the readers (and the sandbox's limits).

The count follows what PDFium does:

* Names are looked up as PDFium looks them up: in the form's own ``/Resources``, or the resources in
  effect where it is drawn when it has none, falling back to the page's when the dictionary has no
  ``/XObject`` at all. A name that draws nothing there (missing, not a form or an image) counts 0.
* ``Do`` takes its last operand: a name (``#xx`` escapes decoded), but also a string or ``true``
  (PDFium looks those up by their text too). A string operand the scan cannot read is counted as
  the costliest entry of the dictionary. Content is searched, not parsed: a ``/Name Do`` inside a
  string or a comment counts too, so the count is an upper bound, exact for real content.
* A content stream showing text (``Tj``, ``TJ``, ``'``, ``"``) draws every glyph of every Type 3
  font in its resources once (PDFium draws only the glyphs used, once a document: an upper bound).
* A page's content streams are joined with a space, as PDFium joins them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from nianbao.errors import ParseFailed
from nianbao.parsing.limits import MAX_PDF_FORM_DRAWINGS, MAX_PDF_OBJECTS, MAX_PDF_PAGES, too_big
from nianbao.parsing.pdf.content import EXAMINE, Ops, content_ops
from nianbao.parsing.pdf.streams import (
    GiveUp,
    StreamBudget,
    fast_rc4,
    name_of,
    parser_class,
    resolve,
)

MSG_FORM_BOMB = (
    f"PDF 中嵌套的图形对象数量异常（一页超过 {MAX_PDF_FORM_DRAWINGS} 次绘制，或图形引用了自身），"
    "无法安全读取；请从原始文档重新导出 PDF 后上传，或改为上传 DOCX 文件"
)

_PARENT_HOPS = 1_024
"""``/Parent`` links followed for a page's inherited ``/Resources`` (PDFium's page-tree depth)."""


def check_drawings(data: bytes) -> None:
    """Refuse a PDF with a form bomb (see the module); return when its pages are safe to load or
    when the walk cannot read the structure (the readers then answer for the file)."""
    page_drawings(data)


def page_drawings(data: bytes, max_pages: int = MAX_PDF_PAGES) -> list[int | None] | None:
    """The drawings each of the first ``max_pages`` pages would make (``None`` for a page whose
    content cannot be read), or ``None`` when the document's structure cannot be walked.

    Raises :class:`ParseFailed` for a bomb, and only for that.
    """
    try:
        walk = _Walk(data)
        pages = walk.pages(max_pages)
    except ParseFailed:
        raise
    except MemoryError:
        raise
    except Exception:  # GiveUp, pdfminer's syntax errors, a broken page tree…
        return None
    counts: list[int | None] = []
    for page in pages:
        try:
            counts.append(walk.page(page))
        except (ParseFailed, MemoryError):
            raise
        except GiveUp:
            break
        except Exception:
            counts.append(None)
    return counts


@dataclass(slots=True, eq=False)
class _Node:
    """Content drawn in one context: a page's streams, a form, a glyph, with the resources it sees."""

    key: tuple[int, int, int]
    streams: list[Any]
    res: Any
    """The resources names are looked up in (a dict, or ``None``)."""
    page_res: Any
    """The page's resources (PDFium's fallback for a category the resources lack)."""
    named: list[tuple[_Node | None, int]] | None = None
    """What it draws: (the form or glyph, or ``None`` for an image; how many times)."""
    any_of: list[_Node | None] = field(default_factory=list)
    any_times: int = 0

    def children(self) -> list[_Node]:
        assert self.named is not None
        return [c for c, _ in self.named if c is not None] + [c for c in self.any_of if c is not None]

    def total(self, memo: dict[tuple[int, int, int], int]) -> int:
        assert self.named is not None
        n = sum(times * (1 + (memo[c.key] if c is not None else 0)) for c, times in self.named)
        if self.any_times and self.any_of:
            n += self.any_times * max(1 + (memo[c.key] if c is not None else 0) for c in self.any_of)
        return n


class _Walk:
    """One document's walk: its pdfminer document, budgets and memo."""

    def __init__(self, data: bytes) -> None:
        from pdfminer.pdfdocument import PDFDocument

        self.budget = StreamBudget()
        self.memo: dict[tuple[int, int, int], int] = {}
        self.nodes: dict[tuple[int, int, int], _Node] = {}
        self.ops: dict[tuple[int, ...], Ops] = {}
        self.streams: set[int] = set()
        self.examine = EXAMINE
        self.doc = PDFDocument(parser_class()(io.BytesIO(data), self.budget))
        if self.doc.decipher is not None:
            fast_rc4(self.doc.decipher)

    # --- the page tree ---------------------------------------------------------------------------------

    def pages(self, limit: int) -> list[dict[str, Any]]:
        """The first ``limit`` leaves of the page tree, depth first (PDFium's order): a node with a
        ``/Kids`` array is a branch, any other dictionary a page."""
        out: list[dict[str, Any]] = []
        stack = [self.doc.catalog.get("Pages")]
        seen: set[int] = set()
        while stack and len(out) < limit:
            node = resolve(stack.pop())
            if not isinstance(node, dict) or id(node) in seen:
                continue
            seen.add(id(node))
            kids = resolve(node.get("Kids"))
            if isinstance(kids, list):
                stack.extend(reversed(kids))
            else:
                out.append(node)
        return out

    def page(self, page: dict[str, Any]) -> int:
        """The drawings loading ``page`` makes; refused past the budget."""
        res = self._inherited(page, "Resources")
        res = res if isinstance(res, dict) else None
        contents = resolve(page.get("Contents"))
        items = contents if isinstance(contents, list) else [contents]
        streams = [s for s in map(resolve, items) if _is_stream(s)]
        key = (id(page), id(res), id(res))
        node = self.nodes.setdefault(key, _Node(key, streams, res, res))
        return self._cost(node)

    def _inherited(self, page: dict[str, Any], name: str) -> Any:
        node: Any = page
        seen: set[int] = set()
        for _ in range(_PARENT_HOPS):
            if not isinstance(node, dict) or id(node) in seen:
                return None
            seen.add(id(node))
            value = resolve(node.get(name))
            if value is not None:
                return value
            node = resolve(node.get("Parent"))
        return None

    # --- counting ----------------------------------------------------------------------------------------

    def _cost(self, root: _Node) -> int:
        """Drawings of ``root`` and everything it draws, depth first without recursion."""
        stack = [root]
        open_: set[tuple[int, int, int]] = set()
        while stack:
            node = stack[-1]
            if node.key in self.memo:
                stack.pop()
                continue
            if node.key not in open_:
                self._expand(node)
                open_.add(node.key)
            pending = [c for c in node.children() if c.key not in self.memo]
            if pending:
                if any(c.key in open_ for c in pending):
                    raise ParseFailed(MSG_FORM_BOMB, "a form draws itself")
                stack.extend(pending)
                continue
            total = node.total(self.memo)
            if total > MAX_PDF_FORM_DRAWINGS:
                raise ParseFailed(MSG_FORM_BOMB, f"more than {MAX_PDF_FORM_DRAWINGS} drawings on a page")
            self.memo[node.key] = total
            open_.discard(node.key)
            stack.pop()
        return self.memo[root.key]

    def _expand(self, node: _Node) -> None:
        """What ``node`` draws: its ``Do`` operands resolved, and its Type 3 glyphs if it shows text."""
        if node.named is not None:
            return
        xobjects = self._category(node, "XObject")
        fonts = [f for f in map(resolve, list(self._category(node, "Font").values())) if _is_type3(f)]
        named: list[tuple[_Node | None, int]] = []
        if not xobjects and not fonts:  # nothing to draw: the content need not be read
            node.named = named
            return
        ops = self._ops(node.streams)
        for name, times in ops.names.items():
            drawn, child = self._xobject(xobjects.get(name), node)
            if drawn:
                named.append((child, times))
        if ops.any_times:
            for value in list(xobjects.values()):
                drawn, child = self._xobject(value, node)
                if drawn:
                    node.any_of.append(child)
            node.any_times = ops.any_times
        if ops.text:
            for font in fonts:
                named.extend((glyph, 1) for glyph in self._glyphs(font, node))
        node.named = named

    def _category(self, node: _Node, category: str) -> dict[str, Any]:
        """The resource dictionary PDFium looks names up in: the node's, else the page's."""
        if not isinstance(node.res, dict):
            return {}
        found = resolve(node.res.get(category))
        if not isinstance(found, dict) and node.res is not node.page_res and isinstance(node.page_res, dict):
            found = resolve(node.page_res.get(category))
        return found if isinstance(found, dict) else {}

    def _xobject(self, value: Any, parent: _Node) -> tuple[bool, _Node | None]:
        """Whether ``Do`` draws ``value``, and the form node when it is a form."""
        stream = resolve(value)
        if not _is_stream(stream):
            return False, None
        subtype = name_of(resolve(stream.get("Subtype")))
        if subtype not in ("Form", "Image"):
            return False, None
        self._count_stream(stream)
        if subtype == "Image":
            return True, None
        own = resolve(stream.get("Resources"))
        return True, self._node(stream, own if isinstance(own, dict) else parent.res, parent.page_res)

    def _glyphs(self, font: dict[str, Any], parent: _Node) -> list[_Node]:
        """The glyph procedures of a Type 3 font, as PDFium draws them (with the font's resources,
        or those in effect where the font is used)."""
        procs = resolve(font.get("CharProcs"))
        if not isinstance(procs, dict):
            return []
        font_res = resolve(font.get("Resources"))
        context = font_res if isinstance(font_res, dict) else parent.res
        glyphs = []
        for value in list(procs.values()):
            stream = resolve(value)
            if _is_stream(stream):
                self._count_stream(stream)
                own = resolve(stream.get("Resources"))
                glyphs.append(self._node(stream, own if isinstance(own, dict) else context, context))
        return glyphs

    def _node(self, stream: Any, res: Any, page_res: Any) -> _Node:
        key = (id(stream), id(res), id(page_res))
        return self.nodes.setdefault(key, _Node(key, [stream], res, page_res))

    def _count_stream(self, stream: Any) -> None:
        if id(stream) not in self.streams:
            self.streams.add(id(stream))
            if len(self.streams) > MAX_PDF_OBJECTS:
                raise too_big(f"more than {MAX_PDF_OBJECTS} forms and images")

    def _ops(self, streams: list[Any]) -> Ops:
        key = tuple(id(s) for s in streams)
        if key not in self.ops:
            parts = []
            for stream in streams:
                try:
                    parts.append(self.budget.decoded(stream, content=True))
                except (ParseFailed, GiveUp, MemoryError):
                    raise
                except Exception:  # a stream PDFium cannot decode either draws nothing
                    continue
            ops = content_ops(b" ".join(parts), self.examine)
            self.examine -= ops.examined
            self.ops[key] = ops
        return self.ops[key]



def _is_type3(font: Any) -> bool:
    return isinstance(font, dict) and name_of(resolve(font.get("Subtype"))) == "Type3"


def _is_stream(value: Any) -> bool:
    from pdfminer.pdftypes import PDFStream

    return isinstance(value, PDFStream)
