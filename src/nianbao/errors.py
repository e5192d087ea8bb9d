"""Operational errors. Report problems are findings and are never raised; these are not.

::

    NianbaoError
    ├── ParseFailed            the file cannot be read as a report (becomes a PARSE-FAILED finding)
    ├── TerminalError          retrying will not help (bad configuration, a key outside the layout)
    │   └── ConfigError
    └── TransientError         retrying may help (S3 or DuckDB temporarily unavailable, lock held)
        └── StoreUnreachable   the S3 endpoint cannot be reached at all
"""

from __future__ import annotations


class NianbaoError(Exception):
    """Root of every exception nianbao raises on purpose."""


class ParseFailed(NianbaoError):
    """The file cannot be read as a report.

    ``reason`` is a sentence in plain Chinese for the agency (what is wrong and what to upload
    instead); ``detail`` is for operators.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason if not detail else f"{reason} ({detail})")
        self.reason = reason
        self.detail = detail


class TerminalError(NianbaoError):
    """An operational error that retrying will not fix."""


class ConfigError(TerminalError):
    """The configuration is wrong; the message says which setting and how to fix it."""


class TransientError(NianbaoError):
    """An operational error that may go away when retried."""


class StoreUnreachable(TransientError):
    """The S3 endpoint cannot be reached at all: connection refused, connect timeout, no such host.

    Unlike a 5xx or a reset on one request, this is no object's fault: a run that meets it stops
    (what it had not loaded is redone by the next run) instead of counting a failed attempt against
    every upload it would still try while the store is down.
    """
