"""Notices back to an agency: a receipt, a return with every finding, or a failure.

The pipeline builds a ``NoticeInput`` for each upload it checked and calls ``render_notice``;
it then writes ``RenderedNotice.json`` and ``RenderedNotice.markdown`` to
``outbox/<agency_id>/<year>/<submission_id>.{json,md}`` (and may e-mail them with
``nianbao.notices.deliver.send_email``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nianbao.model.report import CheckResult, Report


@dataclass
class NoticeInput:
    """Everything a notice says, gathered by the caller: the upload, the registry, the check.

    ``agency_id`` is None for a key outside ``inbox/<agency_id>/<year>/`` (the notice is then
    ``rejected``). ``received_at`` may be naive (taken as UTC) and is printed in Beijing time.
    ``registry_email`` is not printed; it is where the caller may send the notice
    (:func:`nianbao.notices.deliver.send_email`).
    """

    submission_id: str
    key: str
    agency_id: str | None
    agency_name: str | None
    year: int | None
    received_at: datetime
    sha256: str | None
    """``None`` when the file was answered without being downloaded (over the size limit)."""
    size: int
    result: CheckResult
    report: Report | None
    registry_email: str | None = None


@dataclass
class RenderedNotice:
    """A notice ready to store or send."""

    kind: str  # "receipt" | "return" | "failure" | "rejected"
    subject: str
    json: str
    markdown: str


from nianbao.notices.render import render_notice  # noqa: E402  (render imports the dataclasses above)

__all__ = ["NoticeInput", "RenderedNotice", "render_notice"]
