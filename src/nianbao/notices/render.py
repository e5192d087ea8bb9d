"""Render notices (placeholder: being written)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nianbao.notices import NoticeInput, RenderedNotice


def render_notice(n: NoticeInput) -> RenderedNotice:
    """Render the notice for one checked upload."""
    from nianbao.notices import RenderedNotice

    if n.agency_id is None:
        kind = "rejected"
    else:
        kind = {"accepted": "receipt", "returned": "return"}.get(n.result.status, "failure")
    doc = {"kind": kind, "submission_id": n.submission_id, "key": n.key, "sha256": n.sha256,
           "status": n.result.status, "generated_at": datetime.now(UTC).isoformat(),
           "findings": [f.model_dump() for f in n.result.findings]}
    return RenderedNotice(kind=kind, subject=f"[{kind}] {n.submission_id}",
                          json=json.dumps(doc, ensure_ascii=False), markdown=str(doc))
