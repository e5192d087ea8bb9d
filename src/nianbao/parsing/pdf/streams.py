"""PDF streams read within a budget, for the walks that look at a PDF before PDFium loads it.

Why a budget: such a walk (:mod:`nianbao.parsing.pdf.forms`) reads the structure with pdfminer, and
pdfminer decodes whatever a file asks for. A hostile file can ask for gigabytes from a few
kilobytes of Flate, for slow Python decoders (LZW, RunLength, ASCII85, predictors) over megabytes,
or for pdfminer's pure-Python RC4 (15 KB a second). So every token and byte is counted:

* structure (tokens, lines, object and cross-reference streams) against :data:`STRUCTURE_WORK`;
  past it the walk gives up (:class:`GiveUp`) and leaves the file to the readers;
* content (page, form and glyph streams) against
  :data:`~nianbao.parsing.limits.MAX_PDF_CONTENT_BYTES`; past it the file is refused as too big;
* a byte decoded in Python counts :data:`SLOW` times; RC4 goes through ``cryptography``.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from typing import Any

from nianbao.parsing.limits import MAX_PDF_CONTENT_BYTES, too_big

STRUCTURE_WORK = 200_000
"""pdfminer tokens and lines the walk may read, plus a quarter of the bytes of the object and
cross-reference streams it may decompress, before it gives up (pdfminer needs about 6 µs a token,
so about 1.2 s). A report's walk needs 1,000–10,000; a damaged cross-reference table makes pdfminer
read every object of the file."""

SLOW = 64
"""What a byte decoded in Python (LZW, RunLength, ASCII85, predictors: 0.2–1 µs a byte) costs
against the budgets, where zlib and the search cost about 10 ns."""



class GiveUp(Exception):
    """The structure costs more than :data:`STRUCTURE_WORK` to walk, or cannot be decrypted fast."""


class StreamBudget:
    """What one walk has spent on structure and content, and the streams it decodes within that."""

    def __init__(self) -> None:
        self.work = 0
        self.content = 0

    def spend_work(self, n: int) -> None:
        self.work += n
        if self.work > STRUCTURE_WORK:
            raise GiveUp(f"more than {STRUCTURE_WORK} steps of structure")

    def room(self, content: bool) -> int:
        """Bytes a stream being decoded may still produce."""
        if content:
            return max(MAX_PDF_CONTENT_BYTES - self.content, 0)
        return max(STRUCTURE_WORK - self.work, 0) * 4

    def spend(self, n: int, content: bool) -> None:
        if not content:
            self.spend_work((n + 3) // 4)
            return
        self.content += n
        if self.content > MAX_PDF_CONTENT_BYTES:
            raise too_big(f"more than {MAX_PDF_CONTENT_BYTES} bytes of page and form content")


    def decoded(self, stream: Any, content: bool) -> bytes:
        """A stream's data through its filters, within the budget (content: refused past it;
        object and cross-reference streams: the walk gives up)."""
        if stream.data is not None:
            return bytes(stream.data)
        data = bytes(stream.rawdata or b"")
        self.spend(len(data), content)  # every stage's output is spent: none is free to repeat
        if stream.decipher is not None and stream.objid is not None:
            data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
        for name, params in stream.get_filters():
            data = self._filter(name_of(name), data, content)
            self.spend(len(data), content)
            data = self._predict(params, data, content)
        return data

    def _filter(self, name: str | None, data: bytes, content: bool) -> bytes:
        from pdfminer.ascii85 import ascii85decode, asciihexdecode

        if name in ("FlateDecode", "Fl"):
            return self._inflate(data, content)
        if name in ("LZWDecode", "LZW"):
            return self._lzw(data, content)
        if name in ("RunLengthDecode", "RL"):
            return self._runlength(data, content)
        if name in ("ASCII85Decode", "A85"):  # in Python, up to 4 bytes a character
            self.spend(len(data) * SLOW, content)
            return ascii85decode(data)
        if name in ("ASCIIHexDecode", "AHx"):
            return asciihexdecode(data)
        if name == "Crypt":
            return data
        raise ValueError(f"filter {name} does not give content")  # image codecs

    def _inflate(self, data: bytes, content: bool) -> bytes:
        """Flate data, never more than the room left; a damaged stream gives what precedes the damage
        (as PDFium reads it)."""
        room = self.room(content)
        d = zlib.decompressobj()
        out = bytearray()
        try:
            for at in range(0, len(data), 1 << 16):
                out += d.decompress(data[at : at + (1 << 16)], room + 1 - len(out))
                if len(out) > room:
                    self.spend(len(out), content)  # raises
                if d.eof:
                    break
        except zlib.error:
            pass
        return bytes(out)

    def _lzw(self, data: bytes, content: bool) -> bytes:
        from pdfminer.lzw import LZWDecoder

        room = self.room(content) // SLOW
        out = bytearray()
        steps = 0
        for piece in LZWDecoder(io.BytesIO(data)).run():
            out += piece
            steps += max(len(piece), 1)
            if steps > room:
                self.spend(steps * SLOW, content)  # raises
        self.spend(steps * (SLOW - 1), content)  # the whole output is spent once more by the caller
        return bytes(out)

    def _runlength(self, data: bytes, content: bool) -> bytes:
        room = self.room(content) // SLOW
        out = bytearray()
        i = 0
        while i < len(data) and data[i] != 128:
            n = data[i]
            if n < 128:
                out += data[i + 1 : i + 2 + n]
                i += n + 2
            else:
                out += data[i + 1 : i + 2] * (257 - n)
                i += 2
            if len(out) > room:
                self.spend(len(out) * SLOW, content)  # raises
        self.spend(len(out) * (SLOW - 1), content)
        return bytes(out)

    def _predict(self, params: Any, data: bytes, content: bool) -> bytes:
        from pdfminer.utils import apply_png_predictor, apply_tiff_predictor

        params = resolve(params)
        if not isinstance(params, dict):
            return data
        predictor = resolve(params.get("Predictor"))
        if not isinstance(predictor, int) or predictor < 2:
            return data
        self.spend(len(data) * SLOW, content)
        colors, columns, bits = (resolve(params.get(k, 1 if k != "BitsPerComponent" else 8))
                                 for k in ("Colors", "Columns", "BitsPerComponent"))  # fmt: skip
        if not all(isinstance(v, int) and v > 0 for v in (colors, columns, bits)) or colors * columns > len(data):
            raise ValueError("predictor rows longer than the data")  # pdfminer would allocate a row first
        if predictor == 2:
            return bytes(apply_tiff_predictor(colors, columns, bits, data))
        return bytes(apply_png_predictor(predictor, colors, columns, bits, data))




def fast_rc4(decipher: Any) -> None:
    """Give the document's security handler a fast RC4 (pdfminer's own decrypts 15 KB a second).

    Only this handler changes. Key sizes OpenSSL has no RC4 for make the walk give up.
    """
    from hashlib import md5

    handler = getattr(decipher, "__self__", None)
    slow = getattr(handler, "decrypt_rc4", None)
    if handler is None or slow is None:
        return

    try:
        from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
    except ImportError:  # cryptography before 43
        from cryptography.hazmat.primitives.ciphers.algorithms import ARC4  # type: ignore[attr-defined,no-redef]
    from cryptography.hazmat.primitives.ciphers import Cipher

    def decrypt_rc4(objid: int, genno: int, data: bytes) -> bytes:
        key = handler.key + struct.pack("<L", objid)[:3] + struct.pack("<L", genno)[:2]
        key = md5(key, usedforsecurity=False).digest()[: min(len(key), 16)]
        try:
            cipher = Cipher(ARC4(key), mode=None)
        except ValueError as exc:
            raise GiveUp(f"RC4 key of {len(key)} bytes") from exc
        return cipher.decryptor().update(data)

    handler.decrypt_rc4 = decrypt_rc4
    cfm = getattr(handler, "cfm", None)
    if isinstance(cfm, dict):
        for name, method in list(cfm.items()):
            if method == slow:
                cfm[name] = decrypt_rc4


@functools.cache
def parser_class() -> Any:
    """pdfminer's parser counting its work, its streams decoded within the walk's budget."""
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import PDFStream

    class Stream(PDFStream):
        """An object or cross-reference stream, which pdfminer decodes itself."""

        budget: StreamBudget

        def decode(self) -> None:
            self.data = self.budget.decoded(self, content=False)
            self.rawdata = None

    class Parser(PDFParser):
        def __init__(self, fp: Any, budget: StreamBudget) -> None:
            super().__init__(fp)
            self.budget = budget

        def nexttoken(self) -> Any:
            self.budget.spend_work(1)
            return super().nexttoken()

        def nextline(self) -> Any:
            self.budget.spend_work(1)
            return super().nextline()

        def revreadlines(self) -> Any:
            for line in super().revreadlines():
                self.budget.spend_work(1)
                yield line

        def do_keyword(self, pos: int, token: Any) -> None:
            super().do_keyword(pos, token)
            if token is self.KEYWORD_STREAM and self.curstack and type(self.curstack[-1][1]) is PDFStream:
                stream = self.curstack[-1][1]
                stream.__class__ = Stream
                stream.budget = self.budget

    return Parser


def text_of(raw: bytes) -> str:
    """Bytes of a name or string as pdfminer keys dictionaries: UTF-8, else ``str(bytes)``."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return str(raw)


def name_of(value: Any) -> str | None:
    """The text of a name (or of a string, which PDFium reads the same)."""
    name = getattr(value, "name", value)
    if isinstance(name, bytes):
        return text_of(name)
    return name if isinstance(name, str) else None


def resolve(value: Any) -> Any:
    """``value`` with references followed; ``None`` for what pdfminer cannot parse."""
    from pdfminer.pdftypes import resolve1

    try:
        return resolve1(value)
    except (GiveUp, MemoryError):
        raise
    except Exception:
        return None
