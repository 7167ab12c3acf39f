"""``beatguide serve``: the OSC server the Max for Live device talks to (docs/osc-protocol.md).

One UDP socket. A receive thread parses every datagram (python-osc), answers ``/bg/ping`` and
``/bg/status`` at once, decodes ``/bg/generate`` and puts it on a bounded queue; ``threads`` worker
threads run the engine and send the replies. A full queue answers ``busy`` at once: every request
that can be answered gets exactly one terminal reply (``/bg/done`` or ``/bg/error``, ``/bg/pong``,
``/bg/status``). Nothing a datagram holds can stop the server: whatever goes wrong is logged and
answered with an error when a reply port can be read, else dropped.
"""

from __future__ import annotations

import ipaddress
import logging
import queue
import select
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass

from pythonosc import osc_packet

from . import phrases
from . import protocol as P
from .drums import N_CLASSES
from .engine import Engine, Request
from .errors import BeatGuideError, InputError, UnknownModelError
from .grid import STEPS, STEPS_PER_BEAT
from .vocabulary import MAX_VARIATIONS

log = logging.getLogger("beatguide.osc")

RECV_BYTES = 65536  # the largest UDP payload; larger requests than P.MAX_BYTES are refused after parsing
SOCKET_BUFFER = 4 * 1024 * 1024
DROP_LOG_INTERVAL_S = 1.0


def is_loopback(host: str) -> bool:
    """Whether a peer address is loopback (127.0.0.0/8, ::1, or ::ffff:127.x.y.z)."""
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@dataclass
class _Job:
    msg: P.GenerateMessage
    reply_to: tuple
    received: float  # perf_counter at receipt
    released: bool = False  # no longer counted as queued (set just before its terminal reply)


class OscServer:
    """The server. ``start()`` binds nothing new: the socket is bound in the constructor (so a busy
    port fails early and ``port`` is known, port 0 picks a free one); ``close()`` stops it."""

    def __init__(
        self,
        engine: Engine,
        host: str = "127.0.0.1",
        port: int = P.DEFAULT_SERVER_PORT,
        *,
        threads: int = 1,
        queue_size: int = 32,
        allow_remote: bool = False,
    ):
        if not 0 <= int(port) <= 65535:
            raise InputError(f"the port must be 0-65535, got {port}")
        if int(threads) < 1:
            raise InputError(f"the worker thread count must be at least 1, got {threads}")
        if int(queue_size) < 1:
            raise InputError(f"the queue size must be at least 1, got {queue_size}")
        self.engine = engine
        self.names = list(engine.names)
        self.models = {name: engine.capabilities(name) for name in self.names}
        self.allow_remote = bool(allow_remote)
        self.threads = int(threads)
        self._queue: queue.Queue = queue.Queue(maxsize=int(queue_size))
        self._lock = threading.Lock()
        self._pending = self._served = self._errors = 0
        self._started = time.monotonic()
        self.last_datagram = self._started  # time.monotonic() of the last datagram received
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._receiver: threading.Thread | None = None
        self._drops = 0
        self._last_drop_log = 0.0
        self.sock = self._bind(host, int(port))
        self.family = self.sock.family
        self.host, self.port = self.sock.getsockname()[:2]
        self._wake_r, self._wake_w = socket.socketpair()
        if not is_loopback(self.host):
            log.warning(
                "listening on %s, not loopback: other machines may reach this port%s",
                self.host,
                "" if self.allow_remote else " (their datagrams are dropped: remote peers are not allowed)",
            )
        if self.allow_remote:
            log.warning(
                "remote peers allowed: accepting datagrams from any host; anyone who can reach "
                "%s:%d can use this server",
                self.host,
                self.port,
            )

    # -- lifecycle -----------------------------------------------------------------------------
    @staticmethod
    def _bind(host: str, port: int) -> socket.socket:
        try:
            family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        except (socket.gaierror, UnicodeError) as e:
            raise BeatGuideError(f"cannot listen on {host}:{port}: {e}") from None
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
                except OSError:
                    pass
            if hasattr(socket, "SIO_UDP_CONNRESET"):  # Windows: no ConnectionResetError from ICMP
                sock.ioctl(socket.SIO_UDP_CONNRESET, False)
            sock.bind(addr)
        except OSError as e:
            sock.close()
            raise BeatGuideError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
        return sock

    def warm_up(self) -> None:
        """One run of each model at 1 and at the most variations, so the first request is not slow."""
        import numpy as np

        score = np.zeros((STEPS, N_CLASSES), np.float32)
        score[::STEPS_PER_BEAT, 0] = 1
        for name in self.names:
            for n in (1, MAX_VARIATIONS):
                try:
                    self.engine.generate(Request(name, n, score=score))
                except BeatGuideError as e:
                    log.warning("warm-up of %s failed: %s", name, e)

    def start(self, warm_up: bool = True) -> OscServer:
        if warm_up:
            self.warm_up()
        self._started = time.monotonic()
        for i in range(self.threads):
            t = threading.Thread(target=self._work, name=f"bg-osc-worker-{i}", daemon=True)
            t.start()
            self._workers.append(t)
        self._receiver = threading.Thread(target=self._receive, name="bg-osc-receive", daemon=True)
        self._receiver.start()
        log.info(
            "serving %s on %s:%d (%d worker thread(s), queue %d)",
            ", ".join(self.names),
            self.host,
            self.port,
            self.threads,
            self._queue.maxsize,
        )
        return self

    def close(self, timeout: float = 10.0) -> None:
        """Stop receiving, let the workers finish what is queued, close the socket. Idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if self._receiver is not None:
            self._receiver.join(timeout)
        for _ in self._workers:
            self._queue.put(None)  # after whatever is queued: queued requests are still answered
        for t in self._workers:
            t.join(timeout)
        for s in (self.sock, self._wake_r, self._wake_w):
            s.close()
        log.info("stopped: %d served, %d errors", self._served, self._errors)

    def __enter__(self) -> OscServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def counters(self) -> dict:
        with self._lock:
            return {
                "queued": self._pending,
                "served": self._served,
                "errors": self._errors,
                "dropped": self._drops,
                "uptime_s": time.monotonic() - self._started,
            }

    # -- receive thread ------------------------------------------------------------------------
    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.sock, self._wake_r], [], [])
                if self._wake_r in ready or self._stop.is_set():
                    break
                data, peer = self.sock.recvfrom(RECV_BYTES)
                self.last_datagram = time.monotonic()
            except (InterruptedError, BlockingIOError, ConnectionResetError):
                continue
            except OSError as e:
                if self._stop.is_set():
                    break
                log.warning("receive failed: %s", e)
                time.sleep(0.01)
                continue
            try:
                self._datagram(data, peer, time.perf_counter())
            except Exception:  # a bug: never let it stop the server
                log.exception("internal error on a datagram from %s", _peer(peer))

    def _drop(self, why: str, peer) -> None:
        with self._lock:
            self._drops += 1
            now = time.monotonic()
            if now - self._last_drop_log < DROP_LOG_INTERVAL_S:
                return
            self._last_drop_log = now
            total = self._drops
        log.warning("dropped a datagram from %s: %s (%d dropped so far)", _peer(peer), why, total)

    def _reply_to(self, peer, port: int) -> tuple:
        """Where replies go: 127.0.0.1 (::1 on an IPv6 socket) at the reply port; a remote peer's own
        address when remote peers are allowed."""
        if not is_loopback(peer[0]):
            return (peer[0], port) + tuple(peer[2:])
        if self.family == socket.AF_INET6:
            return ("::1" if not peer[0].startswith("::ffff:") else "::ffff:127.0.0.1", port, 0, 0)
        return ("127.0.0.1", port)

    def _datagram(self, data: bytes, peer, received: float) -> None:
        if not self.allow_remote and not is_loopback(peer[0]):
            self._drop("not from loopback (remote peers are not allowed)", peer)
            return
        try:
            packet = osc_packet.OscPacket(data)
        except Exception as e:  # python-osc raises ParseError, and UnicodeDecodeError on bad strings
            self._drop(f"not OSC ({len(data)} bytes: {type(e).__name__})", peer)
            return
        for timed in packet.messages:
            try:
                address, args = timed.message.address, timed.message.params
            except Exception:
                self._drop("unreadable OSC message", peer)
                continue
            self._message(address, args, len(data), peer, received)

    def _message(self, address: str, args: list, size: int, peer, received: float) -> None:
        rid, port = P.read_header(args)
        if port is None:
            self._drop(f"{address!r}: {P.reply_port_problem(args)}", peer)
            return
        reply_to = self._reply_to(peer, port)
        try:
            if size > P.MAX_BYTES:
                raise P.BadArgsError(f"datagram larger than {P.MAX_BYTES} bytes")
            if address == P.PING:
                rid, _ = P.decode_header(args, address)
                self._send(P.pong(rid, self.models), reply_to)
                log.debug("ping id=%d from %s (%.2f ms)", rid, _peer(peer), _ms(received))
            elif address == P.STATUS:
                rid, _ = P.decode_header(args, address)
                c = self.counters
                self._send(P.status(rid, c["queued"], c["served"], c["errors"], c["uptime_s"]), reply_to)
                log.debug("status id=%d from %s (%.2f ms)", rid, _peer(peer), _ms(received))
            elif address == P.GENERATE:
                msg = P.decode_generate(args)
                rid = msg.request_id
                if msg.request.model not in self.names:
                    raise UnknownModelError("model not loaded (/bg/pong lists the loaded ones)")
                with self._lock:
                    try:
                        self._queue.put_nowait(_Job(msg, reply_to, received))
                        self._pending += 1
                    except queue.Full:
                        raise P.BusyError("request queue is full; try again") from None
            else:
                raise P.UnknownAddressError("address not served (see docs/osc-protocol.md)")
        except BeatGuideError as e:
            self._fail(rid, e, reply_to, address, peer, received, args)
        except Exception as e:  # a bug: answer it, log the trace, keep serving
            log.exception("internal error on %s from %s", address, _peer(peer))
            self._fail(rid, P.InternalError(f"{type(e).__name__}: {e}"), reply_to, address, peer, received)

    # -- workers -------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._run(job)
            except Exception:  # _run answers its own errors; this is a last resort
                log.exception("worker error")
            finally:
                self._release(job)

    def _release(self, job: _Job, served: bool = False) -> None:
        """Count a job as finished (before its terminal reply goes out, so a status sent after it agrees)."""
        with self._lock:
            if not job.released:
                job.released = True
                self._pending -= 1
            if served:
                self._served += 1

    def _run(self, job: _Job) -> None:
        msg, req = job.msg, job.msg.request
        started = time.perf_counter()
        try:
            result = phrases.generate(self.engine, req, msg.phrase)
            inferred = time.perf_counter()
            messages, total = P.result_messages(msg.request_id, result)
            datagrams = P.encode_all(messages)
        except BeatGuideError as e:
            self._release(job)
            self._fail(msg.request_id, e, job.reply_to, P.GENERATE, None, job.received)
            return
        except Exception as e:
            log.exception("internal error generating request %d", msg.request_id)
            self._release(job)
            self._fail(
                msg.request_id,
                P.InternalError(f"{type(e).__name__}: {e}"),
                job.reply_to,
                P.GENERATE,
                None,
                job.received,
            )
            return
        for d in datagrams:
            self._send_raw(d, job.reply_to)
        elapsed = _ms(job.received)
        self._release(job, served=True)
        self._send(
            P.done(
                msg.request_id,
                len(result.loops),
                total,
                elapsed,
                result.score_seed,
                result.groove_seed,
                msg.phrase.bars,
            ),
            job.reply_to,
        )
        log.info(
            "generate id=%d -> %s:%d model=%s n=%d notes=%d flags=%d: wait %.2f ms, infer %.2f ms, total %.2f ms",
            msg.request_id,
            job.reply_to[0],
            job.reply_to[1],
            req.model,
            req.variations,
            total,
            msg.flags,
            (started - job.received) * 1000,
            (inferred - started) * 1000,
            _ms(job.received),
        )

    # -- sending -------------------------------------------------------------------------------
    def _fail(self, rid, exc: BaseException, reply_to, address, peer, received, args=None) -> None:
        code = P.protocol_code(exc)
        with self._lock:
            self._errors += 1
        self._send(P.error(rid, code, exc), reply_to)
        detail = f" ({len(args)} args: {_types(args)})" if args is not None and code == "bad_args" else ""
        log.info(
            "%s id=%s -> %s:%d error %s: %s%s (%.2f ms)",
            address,
            -1 if rid is None else rid,
            reply_to[0],
            reply_to[1],
            code,
            exc,
            detail,
            _ms(received),
        )

    def _send(self, messages, reply_to) -> None:
        for m in messages:
            self._send_raw(P.encode(*m), reply_to)

    def _send_raw(self, datagram: bytes, reply_to) -> None:
        try:
            self.sock.sendto(datagram, reply_to)
        except OSError as e:  # a closed socket at shutdown, a full buffer, an unreachable port
            log.warning("reply to %s:%d failed: %s", reply_to[0], reply_to[1], e)


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def _peer(peer) -> str:
    return f"{peer[0]}:{peer[1]}" if peer else "?"


def _types(args) -> str:
    return "".join({int: "i", float: "f", str: "s", bytes: "b", bool: "T"}.get(type(a), "?") for a in args[:100])


ANNOUNCE = "beatguide: serving on {host} port {port}: {models} (Ctrl+C stops)"  # client.parse_announce reads it


def _stop_on_stdin_close(stop: threading.Event) -> None:
    """Set ``stop`` once standard input closes: a launcher that holds the pipe stops its server by dying."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError, AttributeError):  # no usable stdin: treat as closed
        pass
    log.info("standard input closed: stopping")
    stop.set()


def serve(
    models_dir,
    host: str = "127.0.0.1",
    port: int = P.DEFAULT_SERVER_PORT,
    *,
    threads: int = 1,
    queue_size: int = 32,
    allow_remote: bool = False,
    stop_on_stdin_close: bool = False,
    stop_when_idle: float = 0.0,
) -> None:
    """Load the models (a missing or corrupt one stops here with a BeatGuideError), serve until
    SIGINT or SIGTERM (or, with ``stop_on_stdin_close``, until standard input closes; with
    ``stop_when_idle`` > 0, once no datagram came for that many seconds: devices ping every few
    seconds, so a shared server lives while any device uses it), then stop cleanly. Once it answers
    it prints ``ANNOUNCE`` on stdout with the bound port (port 0 picks one)."""
    engine = Engine(models_dir, threads=1)
    server = OscServer(engine, host, port, threads=threads, queue_size=queue_size, allow_remote=allow_remote)
    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, on_signal)
        except (ValueError, OSError):  # not the main thread, or a platform without it
            pass
    try:
        server.start()
        if stop_on_stdin_close:
            threading.Thread(target=_stop_on_stdin_close, args=(stop,), name="bg-stdin", daemon=True).start()
        print(ANNOUNCE.format(host=server.host, port=server.port, models=", ".join(server.names)), flush=True)
        while not stop.wait(0.25):
            if stop_when_idle > 0 and time.monotonic() - server.last_datagram > stop_when_idle:
                log.info("no datagram for %g s: stopping", stop_when_idle)
                break
    finally:
        server.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
