"""Form XObject bombs: counted before PDFium loads a page (:mod:`nianbao.parsing.pdf.forms`).

The PDFs are written byte by byte here (:func:`forms_pdf`): a page and forms drawing forms and
images by name, with the resources laid out in the ways producers lay them out. The count is checked
against an independent count of the same drawing graph, and against PDFium itself (the page objects
it makes when it loads the page are the drawings the scan predicts).
"""

from __future__ import annotations

import base64
import functools
import io
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nianbao.check import check_bytes
from nianbao.errors import ParseFailed
from nianbao.model.report import CheckResult
from nianbao.parsing import limits
from nianbao.parsing.pdf.content import content_ops
from nianbao.parsing.pdf.forms import MSG_FORM_BOMB, check_drawings, page_drawings
from tests.conftest import SAMPLES
from tests.helpers import hostile as h

FAST = 1.0
"""Seconds a bomb may take to be refused in process (10–50 ms on an idle machine)."""
SCAN_MS = 100
"""Milliseconds the scan may take on a real report (5–15 ms on an idle machine)."""

TEXT = b"BT /H 12 Tf 72 700 Td (Annual report 2023, a page with forms on it) Tj ET\n"
LEAF = b"0 0 m 5 5 l S\n"
IMAGE = (b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
         b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x00\nendstream")  # fmt: skip


# --- PDFs written by hand ---------------------------------------------------------------------------------


@dataclass
class Form:
    """A form XObject drawing the XObjects ``draws`` (indexes, repeated for each drawing)."""

    draws: list[int] = field(default_factory=list)
    resources: bool = True
    """Has its own ``/Resources`` (else it looks names up where it is drawn)."""
    content: bytes | None = None
    """Its content as written (default: a line, then ``/Xi Do`` for each drawing)."""


def stream(dict_body: bytes, data: bytes, compress: bool = False) -> bytes:
    if compress:
        data = zlib.compress(data)
        dict_body += b" /Filter /FlateDecode"
    return b"<< " + dict_body + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def draw_ops(draws: list[int], seps: tuple[bytes, ...] = (b" ",), escape: bool = False) -> bytes:
    """``/Xi Do`` for each drawing, separated in turn by ``seps`` (whitespace or a comment)."""
    name = b"/#58%d" if escape else b"/X%d"
    return b"".join(name % i + seps[k % len(seps)] + b"Do\n" for k, i in enumerate(draws))


def forms_pdf(
    xobjects: list[Form | None],
    page: list[int],
    *,
    shared: bool = False,
    compress: bool = False,
    split: bool = False,
    seps: tuple[bytes, ...] = (b" ",),
    escape: bool = False,
    page_content: bytes | None = None,
) -> bytes:
    """One page drawing ``page`` (indexes into ``xobjects``: a :class:`Form`, or ``None`` for an
    image); names are ``/Xi`` everywhere. ``shared``: one resource dictionary (naming every XObject)
    for the page and every form, as Word writes it; otherwise each lists what it draws. ``split``:
    the page's content in two streams (cut at a line end)."""
    n = len(xobjects)
    shared_ref = n + 1

    def resources(draws: list[int]) -> bytes:
        if shared:
            return b"/Resources %d 0 R" % shared_ref
        return b"/Resources << /XObject << " + b" ".join(b"/X%d %d 0 R" % (i, i + 1) for i in sorted(set(draws))) + b" >> >>"

    objects: list[bytes] = []
    for x in xobjects:
        if x is None:
            objects.append(IMAGE)
            continue
        content = x.content if x.content is not None else LEAF + draw_ops(x.draws, seps, escape)
        res = resources(x.draws) + b" " if x.resources else b""
        objects.append(stream(b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] " + res, content, compress))
    everything = list(range(n))
    objects.append(b"<< /Font << /H %d 0 R >> /XObject << " % (n + 2) +
                   b" ".join(b"/X%d %d 0 R" % (i, i + 1) for i in everything) + b" >> >>")  # fmt: skip
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    body = page_content if page_content is not None else TEXT + draw_ops(page, seps, escape)
    cut = body.find(b"\n", len(body) // 2) + 1  # at a line end: PDFium parts streams like whitespace
    parts = [body[:cut], body[cut:]] if split else [body]
    refs = []
    for part in parts:
        objects.append(stream(b"", part, compress))
        refs.append(b"%d 0 R" % len(objects))
    page_res = (b"/Resources %d 0 R" % shared_ref if shared else
                b"/Resources << /Font << /H %d 0 R >> /XObject << " % (n + 2) +
                b" ".join(b"/X%d %d 0 R" % (i, i + 1) for i in sorted(set(page))) + b" >> >>")  # fmt: skip
    page_num = len(objects) + 1
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents [%s] %s >>"
                   % (page_num + 1, b" ".join(refs), page_res))  # fmt: skip
    objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page_num)
    objects.append(b"<< /Type /Catalog /Pages %d 0 R >>" % (page_num + 1))
    return h.pdf_of_objects(objects, page_num + 2)


def chain(levels: int, fanout: int) -> bytes:
    """``levels`` forms, each drawing the next ``fanout`` times: ``fanout ** levels`` lines."""
    forms: list[Form | None] = [Form([i + 1] * fanout) for i in range(levels - 1)] + [Form()]
    return forms_pdf(forms, [0])


def pdfium_drawings(data: bytes) -> list[int]:
    """Forms and images PDFium makes when it loads each page (forms entered, at every depth)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as R

    def walk(count: int, get: object) -> int:
        n = 0
        for i in range(count):
            obj = get(i)  # type: ignore[operator]
            kind = R.FPDFPageObj_GetType(obj)
            if kind in (R.FPDF_PAGEOBJ_FORM, R.FPDF_PAGEOBJ_IMAGE):
                n += 1
            if kind == R.FPDF_PAGEOBJ_FORM:
                n += walk(R.FPDFFormObj_CountObjects(obj), functools.partial(R.FPDFFormObj_GetObject, obj))
        return n

    pdf = pdfium.PdfDocument(data)
    try:
        return [walk(R.FPDFPage_CountObjects(p.raw), functools.partial(R.FPDFPage_GetObject, p.raw)) for p in pdf]
    finally:
        pdf.close()


def check(data: bytes, name: str = "forms.pdf", seconds: float = 10.0) -> CheckResult:
    return h.check_in_time(data, name, seconds)


def refused_as_bomb(result: CheckResult) -> None:
    assert result.status == "failed"
    assert [f.rule for f in result.findings] == ["PARSE-FAILED"]
    assert MSG_FORM_BOMB in result.findings[0].message


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Import the readers once, so the timings below are the check's, not the imports'."""
    check_bytes(chain(2, 2), "warm.pdf")


# --- bombs ------------------------------------------------------------------------------------------------


def test_the_bomb_helper_counts_as_pdfium_does() -> None:
    assert page_drawings(chain(4, 3)) == pdfium_drawings(chain(4, 3)) == [3 + 9 + 27 + 1]


def test_24_levels_of_two_are_refused_at_once() -> None:
    data = h.form_bomb_pdf(24, 2)  # 2²⁴ = 16 million lines, 33 million drawings
    result = check(data, seconds=FAST)
    refused_as_bomb(result)
    assert str(limits.MAX_PDF_FORM_DRAWINGS) in result.findings[0].message


def test_the_bomb_costs_no_memory(tmp_path: Path) -> None:
    run = h.check_in_subprocess(chain(24, 2), "bomb.pdf", tmp_path)
    assert run["status"] == "failed" and run["rules"] == ["PARSE-FAILED"], run
    assert MSG_FORM_BOMB in run["messages"][0], run  # type: ignore[index]
    assert run["seconds"] < FAST, run  # type: ignore[operator]
    assert run["rss_mb"] < 200, run  # type: ignore[operator]


def test_the_budget_is_per_page_drawings_through_nesting() -> None:
    under = h.form_bomb_pdf(5, 10)  # 111,111 drawings: PDFium loads it, the object budget refuses it
    assert page_drawings(under) == [111_111]
    at = forms_pdf([Form([1] * 387), Form([2] * 386), None], [0])
    assert page_drawings(at) == [1 + 387 * (1 + 386)] == [149_770]  # just under the budget
    over = forms_pdf([Form([1] * 388), Form([2] * 388), None], [0])  # 150,933
    with pytest.raises(ParseFailed, match="drawings on a page"):
        check_drawings(over)


def test_a_bomb_in_a_type3_glyph_is_refused() -> None:
    """PDFium lays out text in a Type 3 font by drawing its glyphs, forms and all, when it loads the page."""
    objects = [b"<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Length 14 >>\nstream\n0 0 m 5 5 l S\nendstream"]
    for i in range(1, 21):
        objects.append(stream(b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /F %d 0 R >> >>" % i,
                              b"/F Do /F Do"))  # fmt: skip
    objects.append(stream(b"", b"1000 0 d0 /F Do"))
    glyph, form = len(objects), 21
    objects.append(b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1000 1000] /FontMatrix [0.001 0 0 0.001 0 0] "
                   b"/CharProcs << /a %d 0 R >> /Encoding << /Type /Encoding /Differences [97 /a] >> /FirstChar 97 "
                   b"/LastChar 97 /Widths [1000] /Resources << /XObject << /F %d 0 R >> >> >>" % (glyph, form))  # fmt: skip
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objects.append(stream(b"", TEXT + b"BT /T 12 Tf 72 600 Td (aaa) Tj ET"))
    n = len(objects)
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                   b"/Resources << /Font << /H %d 0 R /T %d 0 R >> >> >>" % (n + 2, n, n - 1, n - 2))  # fmt: skip
    objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 1))
    objects.append(b"<< /Type /Catalog /Pages %d 0 R >>" % (n + 2))
    refused_as_bomb(check(h.pdf_of_objects(objects, n + 3), seconds=FAST))


@pytest.mark.parametrize("strength", [40, 128])
def test_an_encrypted_bomb_is_refused(strength: int) -> None:
    """RC4 with an empty user password: PDFium opens it, the scan decrypts the content (fast)."""
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=StandardEncryption("", ownerPassword="owner", strength=strength))
    c.beginForm("F0")
    c.line(0, 0, 5, 5)
    c.endForm()
    for i in range(1, 19):
        c.beginForm(f"F{i}")
        c.doForm(f"F{i - 1}")
        c.doForm(f"F{i - 1}")
        c.endForm()
    c.setFont("Helvetica", 12)
    c.drawString(72, 720, "Annual report 2023 with nested forms")
    c.doForm("F18")
    c.showPage()
    c.save()
    refused_as_bomb(check(buf.getvalue(), seconds=FAST))


def test_content_over_the_budget_is_refused_as_too_big() -> None:
    filler = b" " * (limits.MAX_PDF_CONTENT_BYTES + 1)
    data = forms_pdf([None], [0], compress=True, page_content=TEXT + b"/X0 Do\n" + filler)
    result = check(data, seconds=5.0)
    assert result.status == "failed" and limits.MSG_TOO_BIG in result.findings[0].message


# --- cycles -----------------------------------------------------------------------------------------------


CYCLES = {
    "itself": [Form([0, 0])],
    "itself once": [Form([0])],
    "two forms": [Form([1, 1]), Form([0, 0])],
    "three forms": [Form([1]), Form([2, 2]), Form([0])],
    "through the page's resources": [Form([0, 0], resources=False)],
}


@pytest.mark.parametrize("forms", CYCLES.values(), ids=CYCLES.keys())
def test_a_form_drawing_itself_is_refused(forms: list[Form | None]) -> None:
    """PDFium does not notice: it stops 40 forms deep, 2⁴⁰ drawings for a form drawing itself twice
    (it aborts); drawing itself once is 40 drawings, refused all the same."""
    data = forms_pdf(forms, [0])
    with pytest.raises(ParseFailed, match="draws itself"):
        page_drawings(data)
    refused_as_bomb(check(data, seconds=FAST))


def test_a_self_reference_that_is_never_drawn_is_harmless() -> None:
    data = forms_pdf([Form([1], content=LEAF), Form()], [0, 1], shared=True)  # the shared dict names everything
    assert page_drawings(data) == pdfium_drawings(data) == [2]


# --- what is not a bomb -----------------------------------------------------------------------------------


def test_modest_nesting_is_read() -> None:
    data = chain(3, 3)
    assert page_drawings(data) == pdfium_drawings(data) == [3 + 9 + 1]
    result = check(data)
    assert not any(MSG_FORM_BOMB in f.message for f in result.findings)
    result = check(h.form_bomb_pdf(3, 3))
    assert not any(MSG_FORM_BOMB in f.message for f in result.findings)


def scanned_quickly(path: Path) -> list[int | None] | None:
    data = path.read_bytes()
    page_drawings(data)  # warm
    start = time.perf_counter()
    counts = page_drawings(data)
    took = (time.perf_counter() - start) * 1000
    assert took < SCAN_MS, f"{path.name}: {took:.0f} ms"
    if data.startswith(b"%PDF"):
        assert counts and all(c is not None and c < 1_000 for c in counts), (path.name, counts)
    return counts


@pytest.mark.parametrize(
    "path",
    sorted(SAMPLES.glob("*.pdf")) + sorted((Path(__file__).parent / "fuzz_regressions").glob("*.pdf")),
    ids=lambda p: p.name,
)
def test_sample_pdfs_pass_the_scan_quickly(path: Path) -> None:
    scanned_quickly(path)


def test_real_reports_pass_the_scan_quickly(real_corpus: Path) -> None:
    paths = sorted(real_corpus.glob("*.pdf"))
    assert paths
    for path in paths:
        assert scanned_quickly(path) is not None, path.name


def test_the_synthetic_reports_pass_the_scan() -> None:
    assert page_drawings(h.pdf_report()) == [0, 0]


@pytest.mark.parametrize(
    "data",
    [b"", b"%PDF-1.7\n", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n", h.random_bytes(4096, 1),
     b"%PDF-1.7\n" + h.random_bytes(20_000, 2), chain(5, 2)[:-300], chain(5, 2).replace(b"/Kids", b"/Kods")],
    ids=["empty", "header", "no pages", "random", "random after a header", "truncated", "no page tree"],
)  # fmt: skip
def test_what_cannot_be_walked_is_left_to_the_readers(data: bytes) -> None:
    counts = page_drawings(data)
    assert counts is None or all(c is None or c < 100 for c in counts)
    check_drawings(data)


def test_a_damaged_file_of_many_objects_gives_up_in_time() -> None:
    """No cross-reference table: pdfminer reads every object; the scan stops at its work budget."""
    data = b"%PDF-1.7\n" + b"".join(b"%d 0 obj\n[1 2 3 4 5 6 7 8]\nendobj\n" % i for i in range(1, 200_001))
    start = time.perf_counter()
    assert page_drawings(data) is None
    assert time.perf_counter() - start < 5.0


# --- the count, against an independent count and against PDFium --------------------------------------------


@st.composite
def drawing_graphs(draw: st.DrawFn, inherit: bool = False) -> tuple[list[Form | None], list[int]]:
    """Up to six levels of forms, each drawing 0–3 forms or images of deeper levels, and a page."""
    levels = draw(st.integers(1, 6))
    level_of = [lv for lv in range(levels) for _ in range(draw(st.integers(1, 3)))]
    images = draw(st.integers(0, 2))
    total = len(level_of) + images
    xobjects: list[Form | None] = []
    for lv in level_of:
        deeper = [j for j, other in enumerate(level_of) if other > lv] + list(range(len(level_of), total))
        draws = draw(st.lists(st.sampled_from(deeper), max_size=3)) if deeper else []
        xobjects.append(Form(draws, resources=not (inherit and draw(st.booleans()))))
    xobjects += [None] * images
    page = draw(st.lists(st.sampled_from(range(total)), max_size=3))
    return xobjects, page


def independent_count(xobjects: list[Form | None], page: list[int]) -> int:
    @functools.cache
    def cost(i: int) -> int:
        x = xobjects[i]
        return 0 if x is None else sum(1 + cost(j) for j in x.draws)

    return sum(1 + cost(i) for i in page)


LAYOUTS = st.fixed_dictionaries({
    "shared": st.booleans(), "compress": st.booleans(), "split": st.booleans(), "escape": st.booleans(),
    "seps": st.lists(st.sampled_from([b" ", b"\n", b"\r\n", b"\x00", b" % a comment /X0 Do\n", b"\t%c\r"]),
                     min_size=1, max_size=3).map(tuple),
})  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawing_graphs(), LAYOUTS)
def test_the_count_is_the_drawing_graphs(graph: tuple[list[Form | None], list[int]], layout: dict) -> None:
    xobjects, page = graph
    assert page_drawings(forms_pdf(xobjects, page, **layout)) == [independent_count(xobjects, page)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawing_graphs(inherit=True), LAYOUTS)
def test_the_count_is_what_pdfium_draws(graph: tuple[list[Form | None], list[int]], layout: dict) -> None:
    """Forms without resources of their own included: they look names up where they are drawn."""
    xobjects, page = graph
    data = forms_pdf(xobjects, page, **layout)
    assert page_drawings(data) == pdfium_drawings(data)


OPERANDS = [
    (b"/X0 Do", b"X0", 1), (b"(X0) Do", b"X0", 1), (b"<5830> Do", b"X0", 1), (b"< 58 3 > Do", b"X0", 1),
    (b"true Do", b"true", 1), (b"1 Do", b"1", 0), (b"Do", b"X0", 0), (b"/X0%c\nDo", b"X0", 1),
    (b"/X#30 Do", b"X0", 1), (b"/X0 /Y Do", b"X0", 0), (b"/X0 [1] Do", b"X0", 0), (b"/X0\x00Do", b"X0", 1),
    (b"/X0 foo Do", b"X0", 0), (b"/X0 Do/X0 Do", b"X0", 2), (b"/X0 q Do", b"X0", 0), (b"/X0Do", b"X0", 0),
    (b"/X0 DoX", b"X0", 0), (b"(Do it) Tj", b"X0", 0),
]  # fmt: skip
"""Content, the name of a form in the page's resources, and the forms PDFium and the scan count."""

UPPER_BOUNDS = [b"(see /X0 Do) Tj", b"(a\\) Do) Tj"]
"""Content the scan counts a drawing in and PDFium none: a ``/Name Do`` inside a string, and a
string it cannot read before a ``Do`` (counted as the costliest XObject of the resources)."""


def one_form_page(content: bytes, name: bytes = b"X0") -> bytes:
    objects = [stream(b"/Type /XObject /Subtype /Form /BBox [0 0 10 10]", LEAF),
               stream(b"", TEXT + content + b"\n"),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Type /Page /Parent 5 0 R /MediaBox [0 0 595 842] /Contents 2 0 R "
               b"/Resources << /Font << /H 3 0 R >> /XObject << /" + name + b" 1 0 R >> >> >>",
               b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>", b"<< /Type /Catalog /Pages 5 0 R >>"]  # fmt: skip
    return h.pdf_of_objects(objects, 6)


@pytest.mark.parametrize(("content", "name", "count"), OPERANDS)
def test_do_operands_are_read_as_pdfium_reads_them(content: bytes, name: bytes, count: int) -> None:
    data = one_form_page(content, name)
    assert page_drawings(data) == pdfium_drawings(data) == [count]


@pytest.mark.parametrize("content", UPPER_BOUNDS)
def test_what_the_scan_cannot_tell_counts_as_drawn(content: bytes) -> None:
    data = one_form_page(content)
    assert page_drawings(data) == [1] and pdfium_drawings(data) == [0]


def test_content_ops_reads_names_strings_and_text() -> None:
    ops = content_ops(b"q /Im1 Do Q /F#31 Do (F1) Do <4631> Do BT (Do not) Tj ET\n")
    assert ops.names == {"Im1": 1, "F1": 3} and ops.any_times == 0 and ops.text
    ops = content_ops(b"(a(b)c) Do 0 0 m")
    assert ops.any_times == 1 and not ops.text


def png_up(data: bytes, columns: int) -> bytes:
    """``data`` with the PNG "Up" predictor, rows of ``columns`` bytes (the last padded with spaces)."""
    data += b" " * (-len(data) % columns)
    out, prev = b"", bytes(columns)
    for at in range(0, len(data), columns):
        row = data[at : at + columns]
        out += b"\x02" + bytes((a - b) & 255 for a, b in zip(row, prev, strict=True))
        prev = row
    return out


def run_length(data: bytes) -> bytes:
    return b"".join(bytes((len(data[i : i + 100]) - 1,)) + data[i : i + 100] for i in range(0, len(data), 100)) + b"\x80"


ENCODINGS = {
    "ASCIIHex": (b"/Filter /ASCIIHexDecode", lambda d: d.hex().encode() + b">"),
    "ASCII85": (b"/Filter /ASCII85Decode", lambda d: base64.a85encode(d) + b"~>"),
    "RunLength": (b"/Filter /RunLengthDecode", run_length),
    "Flate with a predictor": (b"/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 7 >>",
                               lambda d: zlib.compress(png_up(d, 7))),
    "two filters": (b"/Filter [/ASCIIHexDecode /FlateDecode]", lambda d: zlib.compress(d).hex().encode() + b">"),
}  # fmt: skip


@pytest.mark.parametrize(("filters", "encode"), ENCODINGS.values(), ids=ENCODINGS.keys())
def test_content_is_decoded_as_pdfium_decodes_it(filters: bytes, encode: object) -> None:
    content = encode(TEXT + b"/X0 Do /X0 Do\n/X0 Do\n")  # type: ignore[operator]
    objects = [stream(b"/Type /XObject /Subtype /Form /BBox [0 0 10 10]", LEAF),
               b"<< " + filters + b" /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Type /Page /Parent 5 0 R /MediaBox [0 0 595 842] /Contents 2 0 R "
               b"/Resources << /Font << /H 3 0 R >> /XObject << /X0 1 0 R >> >> >>",
               b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>", b"<< /Type /Catalog /Pages 5 0 R >>"]  # fmt: skip
    data = h.pdf_of_objects(objects, 6)
    assert page_drawings(data) == pdfium_drawings(data) == [3]
