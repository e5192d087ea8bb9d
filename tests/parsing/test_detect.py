"""Format sniffing from bytes, refusals with advice, and text decoding (BOMs, UTF-8, GB*, declared charsets)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nianbao.errors import ParseFailed
from nianbao.parsing.detect import MSG_BINARY, MSG_EMPTY, MSG_IMAGE, MSG_OLD_OFFICE, MSG_ZIP, sniff
from nianbao.parsing.encoding import decode_text, join_pieces, normalize_space
from tests.helpers.render_formats import render_docx, render_html, render_pdf, render_xlsx
from tests.helpers.synthetic import make_report

TEXT = "沭阳县发展和改革局2023年政府信息公开工作年度报告\n一、总体情况\n本年度共收到申请26件。\n"
HTML = "<!DOCTYPE html><html><head><title>年度报告</title></head><body><table><tr><td>自然人</td></tr></table></body></html>"


def _reason(data: bytes, name: str) -> str:
    with pytest.raises(ParseFailed) as info:
        sniff(data, name)
    return info.value.reason


# --- formats ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return make_report("2021", seed=3)


def test_office_files_and_pdf_are_recognised_by_content_not_name(report) -> None:  # type: ignore[no-untyped-def]
    assert sniff(render_docx(report), "报告.pdf") == "docx"
    assert sniff(render_xlsx(report), "报告.docx") == "xlsx"
    assert sniff(render_pdf(report), "报告.txt") == "pdf"
    assert sniff(render_html(report), "报告.pdf") == "html"


def test_pdf_magic_after_leading_junk(report) -> None:  # type: ignore[no-untyped-def]
    assert sniff(b"\r\n  %PDF-1.7\n...", "x.bin") == "pdf"
    assert sniff(b"<!-- download wrapper -->\n" * 200 + render_pdf(report), "x.pdf") == "pdf"
    assert sniff(TEXT.encode() * 30 + "正文提到 %PDF- 这几个字符的文本文件\n".encode() * 100, "x.txt") == "text"


def test_a_pdf_behind_junk_reads_like_the_pdf(report) -> None:  # type: ignore[no-untyped-def]
    from nianbao.parsing import read_document

    pdf = render_pdf(report)
    junk = b"<!-- download wrapper -->\n" * 200
    assert read_document(junk + pdf, "x.pdf").rows == read_document(pdf, "x.pdf").rows


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-8", "gbk", "gb18030"])
def test_text_in_any_encoding_is_text(encoding: str) -> None:
    data = TEXT.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # Notepad writes a BOM
        data = ("\ufeff" + TEXT).encode(encoding)
    assert sniff(data, "report.txt") == "text"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "gbk"])
def test_html_in_any_encoding_is_html(encoding: str) -> None:
    assert sniff(HTML.encode(encoding), "report.txt") == "html"


def test_html_fragment_and_name_tie_breaker() -> None:
    assert sniff("<p>一、总体情况</p><table><tr><td>1</td></tr></table>".encode(), "x") == "html"
    assert sniff("<报告>".encode(), "x.txt") == "text"
    assert sniff("<报告>".encode(), "x.html") == "html"


def test_markdown_with_a_late_table_tag_stays_text() -> None:
    md = "# 年度报告\n\n" + "正文。\n" * 50 + "<table><tr><td>1</td></tr></table>\n"
    assert sniff(md.encode(), "report.md") == "text"


# --- refusals ---------------------------------------------------------------------------------------


def test_empty_file() -> None:
    assert _reason(b"", "a.pdf") == MSG_EMPTY
    assert _reason(b"  \r\n ", "a.txt") == MSG_EMPTY


def test_old_binary_office_file_asks_for_save_as() -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    reason = _reason(ole2, "年报.doc")
    assert reason == MSG_OLD_OFFICE
    assert "另存为" in reason and ".docx" in reason


def test_password_protected_office_file_says_so() -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "EncryptedPackage".encode("utf-16-le")
    reason = _reason(ole2, "年报.docx")
    assert "密码" in reason and "另存为" in reason


@pytest.mark.parametrize(
    "magic",
    [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"GIF87a", b"II*\x00", b"MM\x00*"],
)
def test_images_are_refused(magic: bytes) -> None:
    assert _reason(magic + b"\x00" * 100, "scan.pdf") == MSG_IMAGE


def test_zip_that_is_not_office_is_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("OFD.xml", "<ofd/>")
    assert _reason(buf.getvalue(), "年报.ofd") == MSG_ZIP


def test_damaged_zip_named_docx_goes_to_the_docx_reader() -> None:
    assert sniff(b"PK\x03\x04" + b"\x00" * 50, "年报.docx") == "docx"
    assert _reason(b"PK\x03\x04" + b"\x00" * 50, "年报.zip") == MSG_ZIP


def test_other_binary_and_rtf() -> None:
    assert _reason(bytes(range(256)) * 4, "a.txt") == MSG_BINARY
    assert "另存为" in _reason(b"{\\rtf1\\ansi hello}", "a.rtf")


# --- decoding ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "gbk", "gb2312", "gb18030"])
def test_decode_round_trips_chinese(encoding: str) -> None:
    data = TEXT.encode(encoding)
    if encoding == "utf-16-be":
        data = "\ufeff".encode(encoding) + data
    assert decode_text(data) == TEXT


def test_gb18030_only_characters() -> None:
    text = "䶮县人民政府𠀀2023年政府信息公开工作年度报告"
    assert decode_text(text.encode("gb18030")) == text


def test_declared_gb2312_with_gbk_only_characters() -> None:
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>镕县人民政府</body></html>'
    assert "镕县人民政府" in decode_text(html.encode("gbk"))


def test_declared_charset_wins_over_guessing() -> None:
    html = '<?xml version="1.0" encoding="big5"?><html><body>政府資訊公開年報</body></html>'
    assert "政府資訊公開年報" in decode_text(html.encode("big5"))


def test_line_endings_are_normalised() -> None:
    assert decode_text("一\r\n二\r三\n".encode("gbk")) == "一\n二\n三\n"


REPORT = (Path(__file__).parents[2] / "sample_inputs" / "qingshan-eco-2023-clean.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(encoding: str) -> None:
    data = REPORT.encode(encoding)
    assert sniff(data, "report.txt") == "text"
    assert decode_text(data) == REPORT


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_few_bad_bytes_do_not_lose_the_whole_text(encoding: str) -> None:
    data = REPORT.encode(encoding)
    middle = data.index(b"\n", len(data) // 2) + 1
    # a stray byte between two lines, and the file cut off in the middle of its last character
    damaged = data[:middle] + b"\xff" + data[middle:] + "表".encode(encoding)[:1]
    text = decode_text(damaged)
    assert text.count("\ufffd") <= 2
    assert text.replace("\ufffd", "") == REPORT


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
                                   st.sampled_from(list("0123456789，。、（）：  \n"))), min_size=1, max_size=300),
       st.lists(st.integers(min_value=0), max_size=2), st.sampled_from(["utf-8", "gb18030"]))
def test_stray_bytes_in_chinese_text(text: str, positions: list[int], encoding: str) -> None:
    """Whatever the damage, decoding never raises; in UTF-8 a stray byte costs at most the character
    it lands in; undamaged text decodes exactly."""
    original = "某县人民政府2023年政府信息公开工作年度报告\n" + text
    data = bytearray(original.encode(encoding))
    for pos in positions:
        data.insert(pos % len(data), 0xFF)
    decoded = decode_text(bytes(data))
    assert isinstance(decoded, str)
    if encoding == "utf-8":  # UTF-8 resynchronises at once: a stray byte costs at most the character it split
        assert decoded.count("\ufffd") <= 4 * len(positions)  # lead, the stray byte, two trail bytes
        assert len(decoded.replace("\ufffd", "")) >= len(original) - len(positions)
    if not positions:
        assert decoded == original


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=2, max_size=2000))
def test_utf16_guess_never_claims_binary_with_nuls_on_both_sides(data: bytes) -> None:
    from nianbao.parsing.encoding import utf16_without_bom

    text = utf16_without_bom(data)
    if text is not None:  # only ever a clean decode with no NUL characters in it
        assert "\x00" not in text and len(data) % 2 == 0


def test_undecodable_bytes_fall_back_without_raising() -> None:
    assert isinstance(decode_text(b"caf\xe9 cr\xe8me br\xfbl\xe9e " * 20), str)


# --- whitespace rules shared by the readers ---------------------------------------------------------


def test_normalize_space() -> None:
    assert normalize_space("\u00a0 结 果\u3000维持 \n") == "结果维持"
    assert normalize_space("2023 年 1 月") == "2023 年 1 月"
    assert normalize_space("a\u200bb  c") == "ab c"


def test_join_pieces() -> None:
    assert join_pieces(["（四）无", "法提供"]) == "（四）无法提供"
    assert join_pieces(["三", "、", "本", "年"]) == "三、本年"
    assert join_pieces(["2023", "年"]) == "2023 年"
    assert join_pieces(["", "\u00a0", "自然人"]) == "自然人"
