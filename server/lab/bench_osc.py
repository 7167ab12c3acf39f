"""OSC round-trip benchmark: ``python server/lab/bench_osc.py [--models DIR] [--out FILE]``.

Starts ``beatguide serve`` (a subprocess by default, as the device sees it; ``--in-process`` runs it
in this interpreter), then over UDP loopback:

- round trip per model: send ``/bg/generate``, wait for ``/bg/done``; 1 and 8 variations; p50 / p99;
- steady load: 4 concurrent clients, each with one request in flight;
- burst: 4 clients each firing requests back to back without waiting (more than the queue holds):
  every request must get exactly one terminal reply, ``done`` or ``busy``.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import lab_cli
from beatguide import protocol as P
from beatguide.client import Client, parse_announce, wait_until_up
from beatguide.demo import tasks

# ------------------------------------------------------------------------------------------------
# Typical requests


def typical_request(capabilities: dict, variations: int, seed: int) -> dict:
    """Keyword arguments of ``generate_args`` for a model's typical task (its richest benchmark task)."""
    return {**list(tasks(capabilities).values())[-1], "variations": variations, "seed": seed}


# ------------------------------------------------------------------------------------------------
# Server


class ServerProcess:
    """``beatguide serve`` in a subprocess (or in this process), ready when it answers a ping."""

    def __init__(self, models: list[Path], threads: int = 1, queue: int = 32, in_process: bool = False):
        """``models``: folders searched before the usual ones (``beatguide serve --models``)."""
        self.in_process = in_process
        if in_process:
            from beatguide.engine import Engine
            from beatguide.model_paths import model_dirs
            from beatguide.osc_server import OscServer

            self.server = OscServer(Engine(model_dirs(models)), port=0, threads=threads, queue_size=queue).start()
            self.port = self.server.port
            self.proc = None
        else:
            cmd = [
                sys.executable,
                "-m",
                "beatguide.cli",
                "--log-level",
                "WARNING",
                "serve",
                "--port",
                "0",
                "--threads",
                str(threads),
                "--queue",
                str(queue),
            ]
            for folder in models:
                cmd += ["--models", str(folder)]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            port = parse_announce(self.proc.stdout.readline())  # the free port it bound, once it serves
            if port is None:
                raise RuntimeError(f"beatguide serve exited with status {self.proc.wait()}: {self.proc.stderr.read()}")
            self.port = port
        self.models = wait_until_up(self.port, 60.0, proc=self.proc)  # {name: capabilities}
        self.names = sorted(self.models)

    def close(self) -> None:
        if self.proc is None:
            self.server.close()
            return
        self.proc.terminate()  # SIGTERM: a clean stop
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------------
# Measurements


def pct(xs, q) -> float:
    return float(np.percentile(np.asarray(xs, float), q)) if len(xs) else float("nan")


def round_trips(port: int, model: str, caps: dict, variations: int, runs: int, warmup: int = 10) -> dict:
    rtt, server, notes = [], [], []
    with Client(port) as c:
        for i in range(warmup + runs):
            args = P.generate_args(i, c.port, model, **typical_request(caps, variations, seed=i))
            t0 = time.perf_counter()
            r = c.request(P.GENERATE, args)
            dt = (time.perf_counter() - t0) * 1000
            if r.error:
                raise RuntimeError(f"{model}: {r.error}")
            if i >= warmup:
                rtt.append(dt)
                server.append(r.done[2])
                notes.append(r.done[1] / variations)
            c.replies.replies.pop(i, None)
    return {
        "model": model,
        "variations": variations,
        "runs": runs,
        "p50": pct(rtt, 50),
        "p99": pct(rtt, 99),
        "mean": float(np.mean(rtt)),
        "max": float(np.max(rtt)),
        "server_p50": pct(server, 50),
        "notes": float(np.mean(notes)),
    }


def steady_load(port: int, models: dict, clients: int = 4, per_client: int = 200) -> dict:
    """``clients`` threads, each with one 1-variation request in flight, rotating over the models."""
    lat: list[float] = []
    errors: list = []
    lock = threading.Lock()
    names = sorted(models)

    def run(k: int):
        mine, errs = [], []
        with Client(port) as c:
            for i in range(per_client):
                rid = k * 1_000_000 + i
                model = names[(i + k) % len(names)]
                args = P.generate_args(rid, c.port, model, **typical_request(models[model], 1, seed=rid))
                t0 = time.perf_counter()
                try:
                    r = c.request(P.GENERATE, args)
                except TimeoutError as e:
                    errs.append(str(e))
                    continue
                mine.append((time.perf_counter() - t0) * 1000)
                if r.error:
                    errs.append(r.error)
                c.replies.replies.pop(rid, None)
        with lock:
            lat.extend(mine)
            errors.extend(errs)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "clients": clients,
        "requests": clients * per_client,
        "ok": len(lat) - len(errors),
        "errors": len(errors),
        "p50": pct(lat, 50),
        "p99": pct(lat, 99),
        "max": float(np.max(lat)) if lat else float("nan"),
        "throughput": len(lat) / wall,
    }


def burst(port: int, model: str, caps: dict, clients: int = 4, per_client: int = 25, variations: int = 1) -> dict:
    """Each client sends ``per_client`` requests back to back, then collects: done / busy / lost."""
    counts = {"done": 0, "busy": 0, "other": 0, "lost": 0, "extra": 0}
    lat: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def run(k: int):
        with Client(port) as c:
            sent = {}
            rids = [k * 1_000_000 + i for i in range(per_client)]
            payloads = [
                P.encode(P.GENERATE, P.generate_args(rid, c.port, model, **typical_request(caps, variations, seed=rid)))
                for rid in rids
            ]
            barrier.wait()
            for rid, d in zip(rids, payloads):
                sent[rid] = time.perf_counter()
                c.send_raw(d)
            got, mine, local = {}, [], dict.fromkeys(counts, 0)
            deadline = time.monotonic() + 30
            while len(got) < len(rids) and time.monotonic() < deadline:
                msg = c.recv(1.0)
                if msg is None:
                    continue
                if msg[0] in (P.DONE, P.ERROR):
                    rid = msg[1][0]
                    if rid in got or rid not in sent:
                        local["extra"] += 1
                        continue
                    got[rid] = msg
                    if msg[0] == P.DONE:
                        local["done"] += 1
                        mine.append((time.perf_counter() - sent[rid]) * 1000)
                    elif msg[1][1] == "busy":
                        local["busy"] += 1
                    else:
                        local["other"] += 1
            local["lost"] = len(rids) - len(got)
        with lock:
            for key, v in local.items():
                counts[key] += v
            lat.extend(mine)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "model": model,
        "clients": clients,
        "requests": clients * per_client,
        **counts,
        "p50": pct(lat, 50),
        "p99": pct(lat, 99),
    }


# ------------------------------------------------------------------------------------------------
# Report


@dataclass
class OscBenchConfig:
    """What ``bench_osc.py`` runs: the models folder, and the sizes of each measurement."""

    models: list = field(default_factory=list)  # folders searched first (beatguide.model_paths)
    runs: int = 200  # timed round trips per model and variation count
    clients: int = 4
    steady: int = 100  # requests per client under steady load
    burst: int = 25  # requests per client in the burst
    threads: int = 1  # server worker threads
    queue: int = 32  # server queue
    in_process: bool = False  # run the server in this process
    notes: list = field(default_factory=list)  # lines for the report's notes


def markdown(env: dict, rows: list[dict], steady: dict, bursts: list[dict], args: OscBenchConfig) -> str:
    out = [
        "# OSC round-trip benchmark",
        "",
        f"`python server/lab/bench_osc.py{''.join(f' --models {m}' for m in args.models)} --runs {args.runs}` on {env['date']}.",
        "",
        "Client and server on one machine over UDP loopback: the client sends `/bg/generate` and stops the clock "
        "when `/bg/done` arrives (every `/bg/notes` and aux message comes before it). The server runs as "
        f"{'a thread of the benchmark process' if args.in_process else '`beatguide serve` in its own process'} "
        f"with `--threads {args.threads} --queue {args.queue}` and log level WARNING.",
        "",
        f"- Machine: {env['machine']}, {env['cpus']} CPU cores; Python {env['python']}, onnxruntime {env['ort']}",
        f"- Models: {env['models_note']}",
        f"- Load during the run: {env['load']}",
        "",
        "Targets: p50 <= 5 ms (1 variation), <= 15 ms (8 variations), p99 <= 20 ms.",
        "",
        "## Round trip, one client",
        "",
        "| model | variations | runs | notes / variation | p50 ms | p99 ms | mean ms | max ms | server p50 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['model']} | {r['variations']} | {r['runs']} | {r['notes']:.0f} | {r['p50']:.2f} | "
            f"{r['p99']:.2f} | {r['mean']:.2f} | {r['max']:.2f} | {r['server_p50']:.2f} |"
        )
    out += [
        "",
        "`server p50` is the `elapsed_ms` of `/bg/done`: receipt of the request to the send of `done`.",
        "",
        f"## Steady load: {steady['clients']} concurrent clients",
        "",
        f"Each client keeps one 1-variation request in flight, rotating over the models "
        f"({steady['requests']} requests in all).",
        "",
        "| clients | requests | ok | errors | p50 ms | p99 ms | max ms | requests / s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {steady['clients']} | {steady['requests']} | {steady['ok']} | {steady['errors']} | "
        f"{steady['p50']:.2f} | {steady['p99']:.2f} | {steady['max']:.2f} | {steady['throughput']:.0f} |",
        "",
        "## Burst: more requests than the queue holds",
        "",
        "Each client sends its requests back to back without waiting. Every request must get exactly one "
        "terminal reply: `done`, or `busy` when the queue is full (`lost` and `extra` must be 0).",
        "",
        "| model | clients | requests | done | busy | other errors | lost | extra | p50 ms (done) | p99 ms (done) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for b in bursts:
        out.append(
            f"| {b['model']} | {b['clients']} | {b['requests']} | {b['done']} | {b['busy']} | {b['other']} | "
            f"{b['lost']} | {b['extra']} | {b['p50']:.2f} | {b['p99']:.2f} |"
        )
    out.append("")
    if env.get("notes"):
        out += ["## Notes", ""] + [f"- {n}" for n in env["notes"]] + [""]
    return "\n".join(out)


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
        return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores at the start"
    except OSError:
        return "unknown"


def run(args: OscBenchConfig) -> str:
    """Run the benchmark (progress on stdout) and return its markdown report."""
    import onnxruntime

    env = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "ort": onnxruntime.__version__,
        "load": _load(),
        "notes": args.notes,
        "models_note": "the shipped ones" if not args.models else "from the `--models` folders first",
    }
    srv = ServerProcess(args.models, args.threads, args.queue, args.in_process)
    try:
        rows = []
        for model in srv.names:
            for n in (1, 8):
                r = round_trips(srv.port, model, srv.models[model], n, args.runs)
                rows.append(r)
                print(
                    f"{model:>10} x{n}: p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms  "
                    f"(server p50 {r['server_p50']:.2f} ms)",
                    flush=True,
                )
        steady = steady_load(srv.port, srv.models, args.clients, args.steady)
        print(
            f"steady {args.clients} clients: p50 {steady['p50']:.2f} ms  p99 {steady['p99']:.2f} ms  "
            f"{steady['throughput']:.0f} req/s  errors {steady['errors']}",
            flush=True,
        )
        bursts = []
        for model in srv.names:
            b = burst(srv.port, model, srv.models[model], args.clients, args.burst)
            bursts.append(b)
            print(
                f"burst {model}: done {b['done']} busy {b['busy']} other {b['other']} lost {b['lost']} "
                f"extra {b['extra']}",
                flush=True,
            )
    finally:
        srv.close()
    return markdown(env, rows, steady, bursts, args)


def main(argv=None) -> int:
    ap = lab_cli.parser("bench_osc.py", "Time requests to beatguide serve over UDP loopback.", models=True)
    ap.add_argument(
        "--runs", type=lab_cli.at_least_one, default=200, help="timed round trips per model and variation count"
    )
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients under steady load and in the burst")
    ap.add_argument("--steady", type=int, default=100, help="requests per client under steady load")
    ap.add_argument("--burst", type=int, default=25, help="requests per client in the burst")
    ap.add_argument("--threads", type=int, default=1, help="server worker threads (beatguide serve --threads)")
    ap.add_argument("--queue", type=int, default=32, help="server queue (beatguide serve --queue)")
    ap.add_argument("--in-process", action="store_true", help="run the server in this process")
    ap.add_argument("--note", action="append", default=[], help="a line for the report's notes (repeatable)")

    def measure(a) -> str:
        return run(
            OscBenchConfig(
                a.models or [], a.runs, a.clients, a.steady, a.burst, a.threads, a.queue, a.in_process, a.note
            )
        )

    return lab_cli.report(ap, argv, measure)


if __name__ == "__main__":
    raise SystemExit(main())
