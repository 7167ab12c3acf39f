"""A small Python client for ``beatguide serve`` (the protocol: docs/osc-protocol.md), on python-osc.

    from beatguide.client import Client
    from beatguide.registry import DEFAULT_MODEL

    with Client(9010) as c:                  # the server's port; replies come to a port of its own
        models = c.ping()                    # {name: capabilities}; TimeoutError when nothing answers
        reply = c.generate(DEFAULT_MODEL, variations=4, score=score)   # score: (32, 9) hits
        notes = reply.variation_notes(1)     # [(class, start beat, duration, velocity), ...]

``generate`` takes the keyword arguments of ``protocol.generate_args`` (score, lane_modes, groove,
accents, and any /bg/generate setting of the protocol's table: variations, temperature, seed, ...)
and returns a ``protocol.Reply`` holding every reply message of that request, read by the reply
shapes of the same table: notes, the model's readings (aux), and ``done``. An ``/bg/error`` reply
raises :class:`ServerError` (``check=False`` returns it in ``reply.error`` instead); no terminal
reply within the timeout raises ``TimeoutError``. Replies are matched to requests by id, so
several requests may be in flight on one client (``send`` them, then ``wait`` for each).

From a terminal, ``python -m beatguide.client ping [--port N]`` prints the models a running server
has loaded (one line and exit status 1 when none answers).

Like the device, the client sends from a python-osc ``UDPClient`` and receives on a second UDP
socket bound to loopback, whose port every request names as its reply port.
"""

from __future__ import annotations

import itertools
import re
import socket
import subprocess
import sys
import time
from types import SimpleNamespace

from pythonosc import udp_client
from pythonosc.osc_message import OscMessage

from . import protocol as P
from .errors import BeatGuideError

DEFAULT_TIMEOUT = 10.0
_ANNOUNCE = re.compile(r"^beatguide: serving on (\S+) port (\d+)\b")


class ServerError(BeatGuideError):
    """The server answered a request with ``/bg/error``: ``code`` is one of ``protocol.ERROR_CODES``."""

    def __init__(self, code: str, text: str):
        super().__init__(f"{code}: {text}")
        self.code, self.text = code, text


class Client:
    """One connection to a server on ``host:port`` (loopback by default)."""

    def __init__(
        self, port: int, host: str = "127.0.0.1", *, bind_host: str = "127.0.0.1", timeout: float = DEFAULT_TIMEOUT
    ):
        self.server = (host, int(port))
        self.timeout = float(timeout)
        self.sender = udp_client.UDPClient(host, int(port), timeout=5.0)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        except OSError:
            pass
        self.sock.bind((bind_host, 0))
        self.port = self.sock.getsockname()[1]  # the reply port
        self.replies = P.ReplyAssembler()
        self.received = 0
        self._ids = itertools.count(1)

    # -- requests ------------------------------------------------------------------------------
    def new_id(self) -> int:
        """A request id not used before by this client."""
        return next(self._ids)

    def ping(self, timeout: float | None = None) -> dict[str, dict]:
        """The models the server has loaded: {name: capabilities} (gestures, lane_modes, latent_sources,
        aux, needs; see docs/osc-protocol.md)."""
        return self._checked(self.request(P.PING, [self.new_id(), self.port], timeout)).models

    def status(self, timeout: float | None = None) -> dict:
        """The server's counters: queued, served, errors, uptime_s."""
        reply = self._checked(self.request(P.STATUS, [self.new_id(), self.port], timeout))
        head, _ = P.unpack_reply(P.REPLY_SHAPES[P.STATUS], [reply.request_id, *reply.status])
        return {name: v for name, v in head.items() if name != "request_id"}

    def generate(
        self, model: str, *, request_id: int | None = None, timeout: float | None = None, check: bool = True, **kw
    ) -> P.Reply:
        """Generate with ``model``; ``kw`` as ``protocol.generate_args`` takes them."""
        rid = self.new_id() if request_id is None else request_id
        reply = self.request(P.GENERATE, P.generate_args(rid, self.port, model, **kw), timeout)
        return self._checked(reply) if check else reply

    # -- messages ------------------------------------------------------------------------------
    def send(self, address: str, args, types: str | None = None) -> None:
        self.send_raw(P.encode(address, args, types))

    def send_raw(self, datagram: bytes) -> None:
        self.sender.send(SimpleNamespace(dgram=datagram))  # UDPClient.send sends content.dgram

    def recv(self, timeout: float | None = None):
        """The next reply message as (address, args), or None after ``timeout`` seconds."""
        self.sock.settimeout(self.timeout if timeout is None else max(timeout, 0.0))
        try:
            data = self.sock.recv(65536)
        except (TimeoutError, BlockingIOError):
            return None
        self.received += 1
        m = OscMessage(data)
        return m.address, m.params

    def wait(self, request_id: int, timeout: float | None = None) -> P.Reply:
        """Receive until request ``request_id`` has its terminal reply (replies to others are kept)."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        reply = self.replies.get(request_id)
        while not reply.finished:
            left = deadline - time.monotonic()
            msg = self.recv(left) if left > 0 else None
            if msg is None:
                raise TimeoutError(
                    f"no reply to request {request_id} from {self.server[0]}:{self.server[1]} "
                    f"within {timeout:g} s (is `beatguide serve` running on that port?)"
                )
            self.replies.add(*msg)
        return reply

    def request(self, address: str, args, timeout: float | None = None) -> P.Reply:
        """Send one request (its id is ``args[0]``) and wait for its terminal reply."""
        self.send(address, args)
        return self.wait(args[0], timeout)

    @staticmethod
    def _checked(reply: P.Reply) -> P.Reply:
        if reply.error is not None:
            raise ServerError(*reply.error)
        return reply

    # -- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        self.sender.close()
        self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def wait_until_up(
    port: int, timeout: float = 60.0, *, host: str = "127.0.0.1", proc: subprocess.Popen | None = None
) -> dict[str, dict]:
    """Ping until the server answers; the loaded models, as ``Client.ping`` gives them. ``proc``: the server's process, whose exit
    ends the wait early with a RuntimeError."""
    deadline = time.monotonic() + timeout
    with Client(port, host) as c:
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"beatguide serve exited with status {proc.returncode}")
            try:
                return c.ping(timeout=0.25)
            except TimeoutError:
                continue
    raise TimeoutError(f"beatguide serve did not answer a ping on {host}:{port} within {timeout:g} s")


def parse_announce(line: str) -> int | None:
    """The port in the line ``beatguide serve`` prints once it answers (``osc_server.ANNOUNCE``),
    or None for any other line."""
    m = _ANNOUNCE.match(line.strip())
    return int(m.group(2)) if m else None


def build_parser():
    """The arguments of ``python -m beatguide.client``."""
    import argparse

    ap = argparse.ArgumentParser(
        prog="python -m beatguide.client",
        description="Ask a running beatguide serve which models it has loaded.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("command", choices=["ping"], help="what to ask the server")
    ap.add_argument("--port", type=int, default=P.DEFAULT_SERVER_PORT, help="the server's UDP port, 1-65535")
    ap.add_argument("--host", default="127.0.0.1", help="the server's address")
    ap.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for the answer")
    return ap


def main(argv=None) -> int:
    """``python -m beatguide.client ping [--port N]``: which models a running server has loaded;
    one line and exit status 1 when no server answers."""
    ap = build_parser()
    args = ap.parse_args(argv)
    if not 0 < args.port < 65536:
        ap.error(f"--port must be 1-65535, got {args.port}")
    try:
        with Client(args.port, args.host, timeout=args.timeout) as c:
            models = c.ping()
    except (TimeoutError, OSError, BeatGuideError) as e:
        print(f"beatguide.client: {e}", file=sys.stderr)
        return 1
    print(f"server on {args.host}:{args.port}: {', '.join(models) or 'no models'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
