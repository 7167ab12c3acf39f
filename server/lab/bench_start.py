"""Server start-up benchmark: ``python server/lab/bench_start.py [--starts N] [--first] [--out FILE]``.

Starts ``beatguide serve`` (the command installed beside this Python, as the device's launcher
would) ``--starts`` times and measures, for each start:

- spawn to first ``/bg/pong``: the process is spawned with a free port and pinged every 10 ms from
  the moment it is spawned, so this is the wait a producer sees before the device says "ready";
- its resident memory (RSS) once it answers (all models loaded and warmed up), and again after
  one request to every model.

The first start after an install reads every file from disk for the first time (the nearest this
machine gets to a cold start without dropping the OS's file cache); the later ones show a warm
file cache.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import beatguide
import lab_cli
from beatguide.client import Client
from beatguide.errors import BeatGuideError
from bench_osc import free_port, typical_request


def serve_command() -> list[str]:
    """``beatguide`` from this environment's scripts folder, else ``python -m beatguide.cli``."""
    scripts = Path(sys.executable).parent
    for name in ("beatguide", "beatguide.exe"):
        if (scripts / name).is_file():
            return [str(scripts / name)]
    return [sys.executable, "-m", "beatguide.cli"]


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (``ps``, on Linux and macOS)."""
    out = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0]) / 1024


def one_start(cmd: list[str], timeout: float = 120.0) -> dict:
    port = free_port()
    with Client(port) as c:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd + ["--log-level", "WARNING", "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            models = None
            while models is None:
                if proc.poll() is not None:
                    raise RuntimeError(f"beatguide serve exited with {proc.returncode}: {proc.stderr.read()}")
                if time.perf_counter() - t0 > timeout:
                    raise TimeoutError(f"no /bg/pong within {timeout:g} s")
                try:
                    models = c.ping(timeout=0.01)
                except TimeoutError:
                    pass
            ready_s = time.perf_counter() - t0
            rss_ready = rss_mb(proc.pid)
            for name, caps in models.items():
                c.generate(name, **typical_request(caps, 1, seed=0))
            rss_used = rss_mb(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return {"ready_s": ready_s, "rss_ready": rss_ready, "rss_used": rss_used, "models": len(models)}


def markdown(starts: list[dict], cmd: list[str], env: dict) -> str:
    first, rest = starts[0], starts[1:] or starts
    med = lambda key: statistics.median(s[key] for s in rest)  # noqa: E731
    lines = [
        "# Server start-up",
        "",
        f"`python server/lab/bench_start.py --starts {len(starts)}{' --first' if env['first'] else ''}` on "
        f"{env['date']}, starting "
        f"`{Path(cmd[0]).name}{' ' + ' '.join(cmd[1:]) if len(cmd) > 1 else ''} serve` "
        f"from {env['install']}.",
        "",
        f"- Machine: {env['machine']}, {env['cpus']} CPU cores, load average {env['load']} at the start; "
        f"Python {env['python']}",
        f"- {first['models']} models loaded and warmed up before the first pong",
        "",
        "The server is spawned on a free port and pinged every 10 ms from the moment it is spawned; it "
        "answers once every model is loaded and has run once. Even the first start after an install finds "
        "the files in the OS's cache (pip has just written them); a start after a reboot also reads the "
        "models and onnxruntime from disk.",
        "",
        "| start | spawn to first pong (s) | RSS when ready (MB) | RSS after one request per model (MB) |",
        "|---|---:|---:|---:|",
    ]
    for i, s in enumerate(starts, 1):
        lines.append(
            f"| {i}{' (first after install)' if i == 1 and env['first'] else ''} | {s['ready_s']:.2f} | "
            f"{s['rss_ready']:.0f} | {s['rss_used']:.0f} |"
        )
    lines += [
        "",
        f"Median of the {'later ' if len(starts) > 1 else ''}starts: {med('ready_s'):.2f} s to the first "
        f"pong, {med('rss_ready'):.0f} MB resident when ready, {med('rss_used'):.0f} MB after use.",
        "",
    ]
    return "\n".join(lines)


def run(count: int = 5, first: bool = False) -> str:
    """Time ``count`` starts (``first``: the first is the first since the install); the markdown report."""
    if shutil.which("ps") is None:
        raise BeatGuideError("bench_start.py reads the server's memory with `ps`, which is not installed")
    cmd = serve_command()
    load = f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "unknown"
    starts = []
    for i in range(count):
        s = one_start(cmd)
        starts.append(s)
        print(
            f"start {i + 1}: first pong after {s['ready_s']:.2f} s, RSS {s['rss_ready']:.0f} MB when ready, "
            f"{s['rss_used']:.0f} MB after one request per model",
            flush=True,
        )
    where = Path(beatguide.__file__).resolve().parent
    env = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "first": first,
        "load": load,
        "install": "a wheel install (site-packages)" if "site-packages" in where.parts else "a source tree",
    }
    return markdown(starts, cmd, env)


def main(argv=None) -> int:
    ap = lab_cli.parser("bench_start.py", "Time beatguide serve from spawn to first pong; its memory.")
    ap.add_argument("--starts", type=lab_cli.at_least_one, default=5, help="server starts to time")
    ap.add_argument("--first", action="store_true", help="the first start is the first since the install")
    return lab_cli.report(ap, argv, lambda args: run(args.starts, args.first))


if __name__ == "__main__":
    raise SystemExit(main())
