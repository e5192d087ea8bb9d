"""Serve the deployments an operator sees in the Prefect UI (``python flows/serve.py``).

- ``ingest/on-upload``: started by the relay's events (:mod:`nianbao.intake.relay`, fed by RGW
  push or SQS notifications): ``nianbao.upload.received`` per object (parameter ``key``) or
  ``nianbao.upload.created`` per notification (parameter ``keys``).
- ``watch/poll``: the reconciling poller, on an interval schedule (``--interval``, default 60 s),
  so an upload whose notification was lost is still picked up.
- ``ingest/manual``: no schedule; run it from the UI or ``prefect deployment run 'ingest/manual'``.

Needs a Prefect server (``prefect server start``; ``PREFECT_API_URL=http://127.0.0.1:4200/api``).
Both flows take the warehouse's write lock per chunk, so overlapping runs are safe.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prefect import serve  # noqa: E402
from prefect.events import DeploymentEventTrigger  # noqa: E402

from flows.ingest import ingest  # noqa: E402
from flows.watch import watch  # noqa: E402
from nianbao.intake.relay import BATCH_EVENT, EVENT_NAME  # noqa: E402


def deployments(interval: float = 60.0) -> list[Any]:
    """The runner deployments, declared in code so they are reviewed and tested like code."""
    per_object = DeploymentEventTrigger(  # the relay's one-event-per-upload path (python -m nianbao.intake.relay)
        name="on-upload", expect={EVENT_NAME}, match={"prefect.resource.id": "s3.object.*"},
        parameters={"key": "{{ event.payload.key }}"},
    )
    batched = DeploymentEventTrigger(  # one event per notification (flows/watch.py relay)
        name="on-notification", expect={BATCH_EVENT}, match={"prefect.resource.id": "s3.object.*"},
        parameters={"keys": "{{ event.payload['keys'] }}"},  # .keys would be dict.keys
    )
    return [
        ingest.to_deployment(name="on-upload", triggers=[per_object, batched], tags=["nianbao"],
                             description="Ingest the uploads named by a bucket notification."),
        ingest.to_deployment(name="manual", tags=["nianbao"], description="Ingest everything new, on demand."),
        watch.to_deployment(name="poll", interval=timedelta(seconds=interval), tags=["nianbao"],
                            description="Reconciling poll: ingest whatever the ledger lacks."),
    ]


def main(argv: list[str]) -> int:
    """Serve the deployments until interrupted."""
    p = argparse.ArgumentParser(prog="flows/serve.py")
    p.add_argument("--interval", type=float, default=60.0, help="seconds between reconciling polls")
    p.add_argument("--limit", type=int, default=2, help="flow runs at once (each takes the warehouse lock per chunk)")
    args = p.parse_args(argv)
    serve(*deployments(args.interval), limit=args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
