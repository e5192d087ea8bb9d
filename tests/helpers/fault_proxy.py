"""A fault-injecting HTTP/1.1 reverse proxy to put between boto3 and an S3-compatible server.

The S3 errors the pipeline must survive (5xx, throttling, timeouts, dropped connections) cannot
be provoked on moto or a healthy RGW, so tests point boto3 at this proxy instead of the server::

    with local_s3.start("thread") as s3, FaultProxy(s3.endpoint_url) as proxy:
        proxy.add_rule(Rule(method="GET", key=r"inbox/a\\.pdf", status=503, code="SlowDown", times=2))
        store = S3Store.from_settings(settings_with_endpoint(proxy.url))
        ...
        assert proxy.stats().faults["status"] == 2

Requests no rule fires on are forwarded unchanged: the request line, every header in its
original order and case (``Host``, ``Authorization``, ``x-amz-*`` included) and the body (chunk
framing included), streamed, over a keep-alive connection to the upstream per client connection.
``Host`` is *not* rewritten to the upstream's address: the client signed the proxy's host, and
SigV4 verifiers (AWS, RGW, moto with auth on) recompute the signature from the Host header they
receive, so a rewritten Host would fail as ``SignatureDoesNotMatch``. Path-style servers do not
route by Host, so the proxy's ``127.0.0.1:port`` reaches the right bucket. Responses come back
unchanged except for the hop-by-hop ``Connection``/``Keep-Alive`` headers: each hop keeps its own
connection, so boto3 keeps reusing its pooled connections to the proxy as it would with AWS, even
though moto's server closes its connection after every response.

What each fault does on the wire (one action per :class:`Rule`):

- ``status``: an S3 XML error response (``<Error><Code>SlowDown</Code>…``) instead of forwarding;
  the request body is read and discarded first so the connection stays usable (with
  ``Expect: 100-continue`` the body is not asked for and the connection is closed after the answer).
- ``reset``: no response at all; the socket is closed with ``SO_LINGER`` 0 so the client gets a
  TCP RST. ``"before"`` the request body is read, ``"after"`` it (the upstream never sees the
  request), or ``"forwarded"``: the request reaches the upstream and is applied, only the answer is
  lost (a PUT that succeeded although the client saw a connection error).
- ``delay``: wait ``delay`` seconds, then forward normally (longer than the client's read timeout
  gives it a read timeout while the upstream still applies the request).
- ``truncate``: forward, then send the status and headers with the full ``Content-Length`` but only
  the first ``truncate`` fraction of the body, and close (FIN): a connection dropped mid-body.

Keys are matched path-style (``/bucket/key``; the key URL-decoded, ``""`` for bucket-level requests
such as listings, which are matched by ``query="list-type=2"`` instead).

Also a command line for soak runs in another process; it prints ``FAULT_PROXY_URL=http://…`` on its
first line and its counters as JSON when stopped (SIGTERM/SIGINT)::

    python -m tests.helpers.fault_proxy --upstream http://127.0.0.1:5000 --port 0 \\
        --rule 'GET:.*:status=503:code=SlowDown:p=0.05' --rule '*:.*:reset=before:p=0.01' --seed 7
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import random
import re
import select
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

__all__ = ["FAULT_KINDS", "FaultProxy", "ProxyStats", "Rule", "main"]

log = logging.getLogger(__name__)

FaultKind = Literal["status", "reset", "delay", "truncate"]
FAULT_KINDS: tuple[FaultKind, ...] = ("status", "reset", "delay", "truncate")
ResetWhen = Literal["before", "after", "forwarded"]

_BLOCK = 64 * 1024
# Codes botocore's standard retry mode knows: SlowDown is a throttling code (1 s backoff scale),
# the 5xx statuses are retried as transient (50 ms scale), 429 by status.
_DEFAULT_CODE = {
    500: "InternalError",
    502: "BadGateway",
    503: "SlowDown",
    504: "GatewayTimeout",
    429: "TooManyRequests",
    400: "RequestTimeout",
}
_MESSAGES = {
    "InternalError": "We encountered an internal error. Please try again.",
    "SlowDown": "Please reduce your request rate.",
    "ServiceUnavailable": "Service is unable to handle request.",
    "TooManyRequests": "Please reduce your request rate.",
    "RequestTimeout": "Your socket connection to the server was not read from or written to within "
                      "the timeout period.",
}


@dataclass(frozen=True)
class Rule:
    """When to inject which fault. Exactly one of ``status``, ``reset``, ``delay``, ``truncate``.

    A request matches when its method, key and query all match; the first matching rule that
    still has budget (``times``, ``key_times``) and wins its ``probability`` roll fires, and only
    one fault is injected per request.
    """

    method: str = "*"
    """``GET``, ``PUT``, ``HEAD``, … or several joined by ``|``; ``*`` or ``ANY`` for all."""
    key: str | None = None
    """Regex that must match the whole URL-decoded key (the path after the bucket); None: any."""
    query: str | None = None
    """A query parameter the request must carry: ``list-type=2`` (name and value) or ``uploads``."""
    status: int | None = None
    """Answer with this HTTP status and an S3 XML error body."""
    code: str | None = None
    """The ``<Code>`` of a status fault; default by status (503 → SlowDown, 500 → InternalError)."""
    message: str | None = None
    retry_after: float | None = None
    """Seconds; sent as ``Retry-After`` and as botocore's ``x-amz-retry-after`` (milliseconds)."""
    reset: ResetWhen | None = None
    """Abort the connection with a TCP RST before/after reading the body, or after forwarding."""
    delay: float | None = None
    """Seconds to wait before forwarding."""
    truncate: float | None = None
    """Fraction of the response body (0 ≤ f < 1) to send before closing the connection."""
    times: int | None = None
    """Fire at most this many times in all."""
    key_times: int | None = None
    """Fire at most this many times per distinct key."""
    probability: float = 1.0
    seed: int | None = None
    """Seed of this rule's own ``random.Random``; None derives one from the proxy's seed."""
    _key_re: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        actions = [a for a in FAULT_KINDS if getattr(self, a) is not None]
        if len(actions) != 1:
            raise ValueError(f"a rule needs exactly one of {', '.join(FAULT_KINDS)}; got {actions or 'none'}")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"status must be a 4xx or 5xx, not {self.status}")
        if self.reset is not None and self.reset not in ("before", "after", "forwarded"):
            raise ValueError(f"reset must be before, after or forwarded, not {self.reset!r}")
        if self.delay is not None and self.delay < 0:
            raise ValueError("delay must be >= 0")
        if self.truncate is not None and not 0 <= self.truncate < 1:
            raise ValueError("truncate is the fraction of the body sent: 0 <= truncate < 1")
        if not 0 <= self.probability <= 1:
            raise ValueError("probability must be within [0, 1]")
        for name in ("times", "key_times"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ValueError(f"{name} must be >= 0")
        # Compiled once here so a bad regex fails at add_rule(), not inside a handler thread.
        try:
            key_re = re.compile(self.key) if self.key is not None else None
        except re.error as exc:
            raise ValueError(f"bad key regex {self.key!r}: {exc}") from exc
        object.__setattr__(self, "_key_re", key_re)

    @property
    def kind(self) -> FaultKind:
        """Which fault this rule injects."""
        return next(a for a in FAULT_KINDS if getattr(self, a) is not None)

    def matches(self, method: str, key: str, query: str) -> bool:
        """Whether a request (method, decoded key, raw query string) is one this rule is about."""
        if self.method.upper() not in ("*", "ANY") and method.upper() not in self.method.upper().split("|"):
            return False
        if self._key_re is not None and self._key_re.fullmatch(key) is None:
            return False
        if self.query is not None:
            params = [unquote(p) for p in query.split("&") if p]
            if not any(p == self.query or p.split("=", 1)[0] == self.query for p in params):
                return False
        return True

    @classmethod
    def parse(cls, spec: str) -> Rule:
        """A rule from ``METHOD:KEYREGEX:action=value[:option=value…]``.

        Actions: ``status=503``, ``reset=before|after|forwarded``, ``delay=2.5``, ``truncate=0.5``.
        Options: ``code=SlowDown``, ``message=…``, ``retry_after=1``, ``times=2``, ``key_times=1``,
        ``p=0.05`` (or ``probability=``), ``seed=7``, ``query=list-type=2``. The key regex cannot
        contain a ``:`` (write ``\\x3a``); an empty key field means any key.
        """
        parts = spec.split(":")
        if len(parts) < 3:
            raise ValueError(f"rule {spec!r}: expected METHOD:KEYREGEX:action=value[:option=value…]")
        kwargs: dict[str, Any] = {"method": parts[0] or "*", "key": parts[1] or None}
        casts: dict[str, Any] = {
            "status": int, "code": str, "message": str, "retry_after": float, "reset": str,
            "delay": float, "truncate": float, "times": int, "key_times": int, "probability": float,
            "seed": int, "query": str,
        }
        for opt in parts[2:]:
            name, sep, value = opt.partition("=")
            name = {"p": "probability"}.get(name.strip(), name.strip())
            if not sep or name not in casts:
                raise ValueError(f"rule {spec!r}: unknown option {opt!r}")
            kwargs[name] = casts[name](value)
        return cls(**kwargs)

    def __str__(self) -> str:
        opts = [f"{k}={getattr(self, k)}" for k in (
            "status", "code", "message", "retry_after", "reset", "delay", "truncate", "times", "key_times",
            "seed", "query") if getattr(self, k) is not None]
        if self.probability != 1.0:
            opts.append(f"p={self.probability}")
        return ":".join([self.method, self.key or "", *opts])


@dataclass
class ProxyStats:
    """A snapshot of the proxy's counters (a copy: later traffic does not change it)."""

    requests: int = 0
    """Requests seen (each request on a keep-alive connection counts)."""
    forwarded: int = 0
    """Requests sent upstream (including delayed, truncated and ``reset=forwarded`` ones)."""
    connections: int = 0
    """Client connections accepted."""
    upstream_errors: int = 0
    """Requests answered 502 because the upstream could not be reached or broke off."""
    faults: Counter[str] = field(default_factory=Counter)
    """Faults injected, by kind (``status``, ``reset``, ``delay``, ``truncate``)."""
    by_key: dict[str, Counter[str]] = field(default_factory=dict)
    """Per decoded key (``""`` for bucket-level requests): ``requests`` and faults by kind."""
    by_method: Counter[str] = field(default_factory=Counter)
    rules: list[int] = field(default_factory=list)
    """How often each installed rule fired, in the order they were added (cleared by clear())."""

    @property
    def faults_total(self) -> int:
        """All faults injected."""
        return sum(self.faults.values())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "requests": self.requests, "forwarded": self.forwarded, "connections": self.connections,
            "upstream_errors": self.upstream_errors, "faults": dict(self.faults),
            "by_key": {k: dict(v) for k, v in self.by_key.items()}, "by_method": dict(self.by_method),
            "rules": list(self.rules),
        }


@dataclass
class _Armed:
    """A rule plus the state of its budget and dice."""

    rule: Rule
    rng: random.Random
    fired: int = 0
    per_key: Counter[str] = field(default_factory=Counter)


class _UpstreamBroken(Exception):
    """The upstream failed before a response was begun (the client gets a 502)."""


class _ClientGone(Exception):
    """The client broke off while we read its request (nothing to answer; not the upstream's fault)."""


class FaultProxy:
    """The proxy: listening on ``host:port`` (0: a free port), forwarding to ``upstream``.

    It starts serving in the constructor; :meth:`close` (or leaving the ``with`` block) stops it,
    aborting the connections still open so no handler thread is left waiting.
    """

    def __init__(
        self,
        upstream: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        upstream_timeout: float = 60.0,
        idle_timeout: float = 120.0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(f"upstream must be http(s)://host:port without a path, not {upstream!r}")
        self.upstream = upstream
        self._up_scheme = parts.scheme
        self._up_host = parts.hostname
        self._up_port = parts.port or (443 if parts.scheme == "https" else 80)
        self.upstream_timeout = upstream_timeout
        self.seed = seed
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._rules: list[_Armed] = []
        self._stats = ProxyStats()
        self._request_ids = 0
        self._conns: dict[socket.socket, threading.Thread] = {}
        self._upstream_socks: set[socket.socket] = set()
        self._server = _Server((host, port), self, idle_timeout)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"fault-proxy-{self.port}", daemon=True)
        self._thread.start()
        self._closed = False

    @property
    def url(self) -> str:
        """The endpoint URL to give boto3 instead of the upstream's."""
        return f"http://{self.host}:{self.port}"

    # ----- rules -----------------------------------------------------------------------------

    def add_rule(self, rule: Rule) -> Rule:
        """Start injecting ``rule``'s fault (after the rules already added). Returns ``rule``."""
        with self._lock:
            seed = rule.seed if rule.seed is not None else self.seed * 1_000_003 + len(self._rules)
            self._rules.append(_Armed(rule, random.Random(seed)))
        return rule

    def clear(self) -> None:
        """Remove every rule: from now on everything is forwarded. Counters are kept."""
        with self._lock:
            self._rules.clear()

    def fired(self, rule: Rule) -> int:
        """How often ``rule`` (the very object passed to :meth:`add_rule`) has fired."""
        with self._lock:
            return sum(a.fired for a in self._rules if a.rule is rule)

    def stats(self) -> ProxyStats:
        """A consistent copy of the counters."""
        with self._lock:
            s = self._stats
            return ProxyStats(
                requests=s.requests, forwarded=s.forwarded, connections=s.connections,
                upstream_errors=s.upstream_errors, faults=Counter(s.faults),
                by_key={k: Counter(v) for k, v in s.by_key.items()}, by_method=Counter(s.by_method),
                rules=[a.fired for a in self._rules])

    def reset_stats(self) -> None:
        """Zero the counters (rules keep their remaining budgets)."""
        with self._lock:
            self._stats = ProxyStats()

    def _decide(self, method: str, key: str, query: str) -> Rule | None:
        """Count the request and pick the rule that fires on it, if any."""
        with self._lock:
            s = self._stats
            s.requests += 1
            s.by_method[method] += 1
            s.by_key.setdefault(key, Counter())["requests"] += 1
            for armed in self._rules:
                r = armed.rule
                if not r.matches(method, key, query):
                    continue
                if r.times is not None and armed.fired >= r.times:
                    continue
                if r.key_times is not None and armed.per_key[key] >= r.key_times:
                    continue
                # Rolled only for eligible requests, so a run with the same request order
                # injects the same faults.
                if r.probability < 1.0 and armed.rng.random() >= r.probability:
                    continue
                armed.fired += 1
                armed.per_key[key] += 1
                s.faults[r.kind] += 1
                s.by_key[key][r.kind] += 1
                return r
            return None

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self._stats, name, getattr(self._stats, name) + 1)

    def _next_request_id(self) -> str:
        with self._lock:
            self._request_ids += 1
            return f"FAULTPROXY{self._request_ids:010d}"

    # ----- connections -----------------------------------------------------------------------

    def _new_upstream(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._up_scheme == "https" else http.client.HTTPConnection
        return cls(self._up_host, self._up_port, timeout=self.upstream_timeout)

    def close(self) -> None:
        """Stop serving, abort open connections and wait (briefly) for the handler threads."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()  # wakes handlers sleeping in a delay fault
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        with self._lock:
            socks = [*self._conns, *self._upstream_socks]
            threads = list(self._conns.values())
        # shutdown() (not close()) from this thread: it wakes a handler blocked in recv() on the
        # socket without freeing the descriptor under it.
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 5
        for t in threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        stuck = [t.name for t in threads if t.is_alive()]
        if stuck:  # daemon threads: they cannot keep the interpreter alive, so only say so
            log.warning("fault proxy: %d handler thread(s) still running after close: %s", len(stuck), stuck)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # close() joins the handlers itself, with a deadline
    request_queue_size = 128  # boto3 opens up to 16 connections at once per client; 5 drops SYNs

    def __init__(self, address: tuple[str, int], proxy: FaultProxy, idle_timeout: float) -> None:
        self.proxy = proxy
        self.idle_timeout = idle_timeout
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup of the address (getfqdn), which can
        # take seconds on a machine without DNS; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Registered here, in the accepting thread, so close() sees every connection it must abort
        # even if its handler thread has not run yet.
        t = threading.Thread(target=self.process_request_thread, args=(request, client_address),
                             name=f"fault-proxy-conn-{client_address[1]}", daemon=True)
        with self.proxy._lock:
            self.proxy._conns[request] = t
            self.proxy._stats.connections += 1
        t.start()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.proxy._lock:
                self.proxy._conns.pop(request, None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Expected trouble (clients leaving, our own aborts) is caught in the handler; this is a bug.
        log.warning("fault proxy: unexpected error on connection from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A response goes out as head, then body, in separate writes; with Nagle on, the second waits
    # for the client's delayed ACK (40 ms on Linux) on every request.
    disable_nagle_algorithm = True
    server: _Server
    _upstream: http.client.HTTPConnection | None = None
    _upstream_sock: socket.socket | None = None
    """The upstream socket registered with the proxy, so close() can wake us from a read on it."""

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # idle keep-alive connections are dropped after this
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._drop_upstream()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        log.debug("fault proxy: " + format, *args)

    def handle_expect_100(self) -> bool:
        # Deferred: whether to ask for the body depends on the rule (a status fault answers at once).
        return True

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (OSError, http.client.HTTPException, _ClientGone) as exc:
            # The client went away, or we aborted it on purpose; either way this connection is done.
            log.debug("fault proxy: connection ended: %r", exc)
            self.close_connection = True

    def __getattr__(self, name: str) -> Any:
        # Every method (GET, PUT, HEAD, DELETE, POST, …) goes through the same proxy logic.
        if name.startswith("do_"):
            return self._proxy_request
        raise AttributeError(name)

    # ----- one request -----------------------------------------------------------------------

    def _proxy_request(self) -> None:
        proxy = self.server.proxy
        split = urlsplit(self.path)
        bucket_and_key = split.path.lstrip("/").split("/", 1)
        key = unquote(bucket_and_key[1]) if len(bucket_and_key) > 1 else ""
        rule = proxy._decide(self.command, key, split.query)
        if rule is None:
            self._forward()
        elif rule.status is not None:
            self._send_error_status(rule, split.path)
        elif rule.reset is not None:
            if rule.reset == "after":
                self._continue_if_expected()
                for _ in self._request_body():
                    pass
            elif rule.reset == "forwarded":
                self._forward(drop_response=True)
            self._abort()
        elif rule.delay is not None:
            if proxy._stopping.wait(rule.delay):
                self._abort()
                return
            self._forward()
        elif rule.truncate is not None:
            self._forward(truncate=rule.truncate)

    def _has_body(self) -> bool:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return True
        return int(self.headers.get("Content-Length") or 0) > 0

    def _continue_if_expected(self) -> None:
        if self.headers.get("Expect", "").lower() == "100-continue":
            try:
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            except OSError as exc:
                raise _ClientGone(repr(exc)) from exc

    def _readline(self) -> bytes:
        try:
            line = self.rfile.readline(65537)
        except OSError as exc:
            raise _ClientGone(repr(exc)) from exc
        if not line.endswith(b"\n"):
            raise _ClientGone("the client closed the connection inside a chunked request body")
        return line

    def _read_exactly(self, n: int) -> Iterator[bytes]:
        while n > 0:
            try:
                block = self.rfile.read(min(_BLOCK, n))
            except OSError as exc:
                raise _ClientGone(repr(exc)) from exc
            if not block:
                raise _ClientGone("the client closed the connection inside the request body")
            n -= len(block)
            yield block

    def _request_body(self) -> Iterator[bytes]:
        """The request body as it is on the wire (chunk framing included), block by block."""
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            yield from self._read_exactly(int(self.headers.get("Content-Length") or 0))
            return
        while True:
            line = self._readline()
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            yield line
            if size == 0:
                while True:  # trailers, up to the empty line
                    trailer = self._readline()
                    yield trailer
                    if trailer in (b"\r\n", b"\n"):
                        return
            yield from self._read_exactly(size + 2)  # data + CRLF

    def _send_error_status(self, rule: Rule, path: str) -> None:
        assert rule.status is not None
        proxy = self.server.proxy
        if self.headers.get("Expect", "").lower() == "100-continue":
            # The body was not asked for and may or may not follow: the connection cannot be reused.
            self.close_connection = True
        else:
            for _ in self._request_body():  # drained so the next request on this connection parses
                pass
        code = rule.code or _DEFAULT_CODE.get(rule.status) or _phrase(rule.status).replace(" ", "")
        message = rule.message or _MESSAGES.get(code) or _phrase(rule.status)
        request_id = proxy._next_request_id()
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"<Resource>{escape(path)}</Resource><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers = [
            ("Content-Type", "application/xml"),
            ("Content-Length", "0" if self.command == "HEAD" else str(len(body))),
            ("x-amz-request-id", request_id),
            ("Date", formatdate(usegmt=True)),
            ("x-fault-proxy", "status"),
        ]
        if rule.retry_after is not None:
            headers.append(("Retry-After", str(max(0, round(rule.retry_after)))))
            headers.append(("x-amz-retry-after", str(max(0, round(rule.retry_after * 1000)))))
        self._write_head(rule.status, _phrase(rule.status), headers)
        if self.command != "HEAD":
            self.wfile.write(body)

    def _write_head(self, status: int, reason: str, headers: Sequence[tuple[str, str]]) -> None:
        if self.close_connection and not any(k.lower() == "connection" for k, _ in headers):
            headers = [*headers, ("Connection", "close")]
        lines = [f"HTTP/1.1 {status} {reason}\r\n", *(f"{k}: {v}\r\n" for k, v in headers), "\r\n"]
        self.wfile.write("".join(lines).encode("latin-1"))

    def _abort(self) -> None:
        """Close the client connection with a TCP RST instead of a response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # rfile holds a reference to the socket: the descriptor (and the RST) goes only when both close.
        self.connection.close()
        self.rfile.close()

    # ----- forwarding ------------------------------------------------------------------------

    def _track(self, sock: socket.socket | None) -> None:
        if sock is self._upstream_sock:
            return
        proxy = self.server.proxy
        with proxy._lock:
            if self._upstream_sock is not None:
                proxy._upstream_socks.discard(self._upstream_sock)
            if sock is not None:
                proxy._upstream_socks.add(sock)
        self._upstream_sock = sock

    def _drop_upstream(self) -> None:
        up, self._upstream = self._upstream, None
        self._track(None)
        if up is not None:
            up.close()

    def _upstream_conn(self) -> tuple[http.client.HTTPConnection, bool]:
        """The keep-alive connection to the upstream and whether it is a reused one."""
        up = self._upstream
        if up is not None and up.sock is not None:
            # Readable while idle means the upstream closed it (or sent garbage): not reusable.
            # poll, not select: select fails on descriptors above 1023 in a long soak.
            poller = select.poll()
            poller.register(up.sock, select.POLLIN)
            if poller.poll(0):
                self._drop_upstream()
                up = None
        if up is None:
            up = self._upstream = self.server.proxy._new_upstream()
        return up, up.sock is not None

    def _send_upstream(self) -> http.client.HTTPResponse:
        """Send the request upstream unchanged and return the response, its head read."""
        proxy = self.server.proxy
        has_body = self._has_body()
        for attempt in (1, 2):
            up, reused = self._upstream_conn()
            try:
                up.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    up.putheader(name, value)
                up.endheaders()
                self._track(up.sock)
                if has_body:
                    self._continue_if_expected()
                    for block in self._request_body():
                        up.send(block)
                return up.getresponse()
            except (ConnectionError, http.client.RemoteDisconnected) as exc:
                self._drop_upstream()
                # A kept-alive connection the upstream closed just now: safe to resend once, but
                # only without a body (a body has been consumed from the client).
                if attempt == 1 and reused and not has_body and not proxy._stopping.is_set():
                    continue
                raise _UpstreamBroken(repr(exc)) from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop_upstream()
                raise _UpstreamBroken(repr(exc)) from exc
            except _ClientGone:
                self._drop_upstream()  # the upstream got part of a request: that connection is spoilt
                raise
        raise AssertionError("unreachable")

    def _forward(self, *, truncate: float | None = None, drop_response: bool = False) -> None:
        proxy = self.server.proxy
        try:
            resp = self._send_upstream()
        except _UpstreamBroken as exc:
            proxy._count("upstream_errors")
            log.debug("fault proxy: upstream failed: %s", exc)
            self._bad_gateway(str(exc))
            return
        proxy._count("forwarded")
        has_body = not (self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200)
        headers = _end_to_end(resp.msg.items())
        if not has_body or drop_response or truncate is not None:
            try:
                # Read even when empty: http.client refuses the next request until the response is closed.
                body = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                self._drop_upstream()
                proxy._count("upstream_errors")
                if not drop_response:
                    self._bad_gateway(repr(exc))
                return
            if drop_response:
                return
            if truncate is not None and has_body:
                # Full length announced, part sent: the client sees the connection drop mid-body.
                framing = ("content-length", "transfer-encoding")
                headers = [(k, v) for k, v in headers if k.lower() not in framing]
                headers.append(("Content-Length", str(len(body))))
                self._write_head(resp.status, resp.reason, headers)
                self.close_connection = True
                self.wfile.write(body[: int(len(body) * truncate)])
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_WR)
                return
            self._write_head(resp.status, resp.reason, headers)
            if truncate is not None:  # nothing to cut short (HEAD, 204): the drop comes after the head
                self.close_connection = True
            return
        if not resp.chunked and resp.length is None:
            # Body delimited by the upstream closing: the client's connection must end the same way.
            self.close_connection = True
        self._write_head(resp.status, resp.reason, headers)
        try:
            self._copy_response_body(resp)
        except _UpstreamBroken:
            # Head already sent: the only honest signal left is to cut the client off too.
            proxy._count("upstream_errors")
            self._drop_upstream()
            self._abort()

    def _copy_response_body(self, resp: http.client.HTTPResponse) -> None:
        try:
            if resp.chunked:
                while block := resp.read(_BLOCK):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                self.wfile.write(b"0\r\n\r\n")
                return
            remaining = resp.length
            while remaining is None or remaining > 0:
                block = resp.read(_BLOCK if remaining is None else min(_BLOCK, remaining))
                if not block:
                    if remaining is None:
                        return
                    raise _UpstreamBroken(f"upstream body ended {remaining} bytes short")
                if remaining is not None:
                    remaining -= len(block)
                self.wfile.write(block)
        except http.client.HTTPException as exc:
            raise _UpstreamBroken(repr(exc)) from exc
        # An OSError may be either side's; it ends this connection in handle_one_request, and
        # finish() drops the half-read upstream connection with it.

    def _bad_gateway(self, detail: str) -> None:
        self.close_connection = True
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>BadGateway</Code>'
                f"<Message>fault proxy: upstream failed: {escape(detail)}</Message></Error>").encode()
        with contextlib.suppress(OSError):
            self._write_head(502, "Bad Gateway", [
                ("Content-Type", "application/xml"),
                ("Content-Length", "0" if self.command == "HEAD" else str(len(body)))])
            if self.command != "HEAD":
                self.wfile.write(body)


def _end_to_end(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The response headers minus the hop-by-hop ones about the upstream connection.

    Werkzeug (moto's server) answers ``Connection: close`` every time; passed on, it would make
    boto3 reconnect for every request, unlike AWS or RGW, and faults on reused pooled connections
    could never be tested. So each hop keeps its own connection (RFC 9110 §7.6.1); the client's
    connection closes only when the proxy closes it. Everything else passes unchanged.
    """
    headers = list(headers)
    hop = {"connection", "keep-alive", "proxy-connection"}
    for k, v in headers:
        if k.lower() == "connection":
            hop.update(t.strip().lower() for t in v.split(","))
    hop.discard("transfer-encoding")  # re-sent as is: the body is re-chunked block by block
    return [(k, v) for k, v in headers if k.lower() not in hop]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# ----- command line ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run a proxy until SIGTERM/SIGINT; print its URL first and its counters (JSON) last."""
    ap = argparse.ArgumentParser(prog="python -m tests.helpers.fault_proxy",
                                 description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--upstream", required=True, help="the S3 endpoint to forward to, http://host:port")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 (default): a free port, printed on start")
    ap.add_argument("--rule", action="append", default=[], type=Rule.parse,
                    help="METHOD:KEYREGEX:action=value[:option=value…]; repeatable, first match wins")
    ap.add_argument("--seed", type=int, default=0, help="seed for rules without their own")
    ap.add_argument("--stats-file", help="also write the counters here (JSON) on exit")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with FaultProxy(args.upstream, host=args.host, port=args.port, seed=args.seed) as proxy:
        for rule in args.rule:
            proxy.add_rule(rule)
        print(f"FAULT_PROXY_URL={proxy.url}", flush=True)
        for rule in args.rule:
            print(f"rule: {rule}", file=sys.stderr)
        while not stop.wait(0.5):
            pass
    stats = {"url": proxy.url, "upstream": args.upstream, "rules": [str(r) for r in args.rule],
             **proxy.stats().to_dict()}
    text = json.dumps(stats, ensure_ascii=False, sort_keys=True)
    if args.stats_file:
        with open(args.stats_file, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
