"""The ``watch`` flow (the reconciling poller) and the event relay's entry point.

Two ways a verdict follows an upload (see ``infra/README.md``):

- Everywhere: ``watch`` lists the inbox against the ledger on an interval schedule and ingests
  whatever is new, so a lost event is never a lost upload. Latency: up to the interval plus ~2 s.
- Where the store pushes events (Ceph RGW HTTP push; S3 → SQS), :mod:`nianbao.intake.relay`
  turns each notification into Prefect events (``POST /api/events``): ``nianbao.upload.received``
  per object (``python -m nianbao.intake.relay``) or ``nianbao.upload.created`` per notification
  (below). The ``ingest/on-upload`` deployment's triggers (``flows/serve.py``) start ``ingest`` for
  those keys within ~3.5 s (``PREFECT_RUNNER_POLL_FREQUENCY=1``).

``python flows/watch.py relay --port 8099`` runs the HTTP relay for RGW push notifications.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prefect import flow, get_run_logger  # noqa: E402

from flows.ingest import flow_settings, run_batch  # noqa: E402


@flow(name="watch", description="Poll the inbox against the ledger and ingest whatever is new.")
def watch(chunk_size: int | None = None, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """One reconciling poll: everything in the inbox that the ledger lacks is ingested."""
    summary = run_batch(flow_settings(config, chunk_size), None)
    get_run_logger().info("poll: %d new uploads, %d loaded", summary["uploads"], summary["new"])
    return summary


def main(argv: list[str]) -> int:
    """``relay [--host H] [--port P]``: receive RGW push notifications, emit Prefect events."""
    import argparse

    from nianbao.intake.relay import emit_prefect_event, serve_relay

    p = argparse.ArgumentParser(prog="flows/watch.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("relay", help="HTTP endpoint for S3/RGW event notifications")
    r.add_argument("--host", default="127.0.0.1")
    r.add_argument("--port", type=int, default=8099)
    args = p.parse_args(argv)
    settings = flow_settings(None, None)
    serve_relay(args.host, args.port, settings.s3.inbox_prefix, emit_prefect_event)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
