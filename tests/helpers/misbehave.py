"""A parser that misbehaves on cue, run inside real sandbox workers (``Sandbox(target=TARGET)``).

The readers are bounded by limits, so no real file reliably hangs, exhausts memory or crashes
them; the sandbox must still survive a reader that does. Files whose bytes start with a cue word
make the worker do exactly that; any other file is parsed normally.
"""

from __future__ import annotations

import os
import signal
import time

from nianbao.check import parse_outcome
from nianbao.errors import ParseFailed
from nianbao.model.report import Report

TARGET = "tests.helpers.misbehave:parse"
HANG, HOG, SEGV, EXIT = b"HANG", b"HOG", b"SEGV", b"EXIT"


def parse(data: bytes, source: str) -> Report | ParseFailed:
    if data.startswith(HANG):  # a reader stuck in a loop
        while True:
            time.sleep(1)
    if data.startswith(HOG):  # a reader that keeps allocating (a decompression bomb, a huge grid)
        hoard = []
        while True:
            hoard.append(bytearray(64 * 1024 * 1024))
    if data.startswith(SEGV):  # a native crash in libxml2 or PDFium
        os.kill(os.getpid(), signal.SIGSEGV)
    if data.startswith(EXIT):  # a library that calls exit()
        os._exit(3)
    return parse_outcome(data, source)
