"""``python -m bench.memory_profile --deals 100000 300000``: what a backfill's memory is made of.

A diagnosis tool beside the memory scenario (:mod:`bench.scenarios.memory`), not a benchmark:
for each size it starts the HubSpot sandbox in its own process (no latency, no limits), runs
``setup``, then runs ``onboard-sync sync`` in a child process that reports its RSS at the
points where a run's memory can pile up: after the imports, when the deal pull starts (the
connector built and the run-start check done: what a sync costs before it reads a deal), when the
first chunk starts (the pull is staged), after every ``--every`` chunks, when the account
fields are planned (every chunk evaluated) and when the engine returns. With ``--trace`` the
child also runs under ``tracemalloc`` and prints, at the first chunk and at the account-field
planning, the allocations grown since the imports, largest first, grouped by traceback
(``--frames`` deep); tracemalloc slows the run down several times and its own bookkeeping
counts in RSS, so the RSS figures of a ``--trace`` run are not the scenario's figures.

With ``--watch MB`` a thread of the child prints the main thread's stack (and RSS split into
anonymous and file-backed pages) each time RSS passes its last high by that many MB: a sudden
allocation anywhere in the run, not only at the stages above. The parent samples the child's
``/proc`` status every 50 ms until it exits (interpreter shutdown included) and prints the last
two seconds, then the ``ru_maxrss`` that ``os.wait4`` reports, the figure the memory scenario uses.
The child writes the JSON report to a temporary file, as the scenario's child does.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import tracemalloc
from pathlib import Path
from typing import Any


def _status_mb(pid: int | str = "self") -> dict[str, float]:
    """The memory lines of ``/proc/PID/status`` (Linux) in MB: VmRSS, VmHWM, RssAnon, RssFile."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def _rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB."""
    fields = _status_mb()
    return fields["VmRSS"], fields["VmHWM"]


def _watch(step_mb: float, interval: float) -> None:
    """Print the main thread's stack each time RSS passes its last high by ``step_mb`` (a daemon
    thread of the child): where a sudden allocation happens, at any point of the run."""
    main_id = threading.main_thread().ident
    high = _status_mb()["VmRSS"]
    started = time.perf_counter()
    while True:
        time.sleep(interval)
        fields = _status_mb()
        if fields["VmRSS"] < high + step_mb:
            continue
        high = fields["VmRSS"]
        frame = sys._current_frames().get(main_id or 0)
        stack = traceback.format_stack(frame, limit=12) if frame is not None else []
        print(
            f"[{time.perf_counter() - started:7.1f}s] watch: RSS {fields['VmRSS']:7.1f} MB "
            f"(anon {fields['RssAnon']:.1f}, file {fields['RssFile']:.1f}); main thread in:",
            file=sys.stderr,
        )
        for entry in stack:
            print("      " + entry.strip().replace("\n", "\n      "), file=sys.stderr)
        sys.stderr.flush()


class _Probe:
    """The child's reporter: RSS lines on stderr, tracemalloc tops at the chosen points."""

    def __init__(self, trace: bool, frames: int, top: int, every: int) -> None:
        self.trace, self.frames, self.top, self.every = trace, frames, top, every
        self.started = time.perf_counter()
        self.baseline: tracemalloc.Snapshot | None = None
        self.chunks = 0

    def say(self, where: str) -> None:
        rss, peak = _rss_mb()
        traced = ""
        if self.trace:
            current, high = tracemalloc.get_traced_memory()
            traced = f" traced {current / 2**20:7.1f} MB (peak {high / 2**20:7.1f})"
        elapsed = time.perf_counter() - self.started
        print(
            f"[{elapsed:7.1f}s] {where:<28} RSS {rss:7.1f} MB (peak {peak:7.1f}){traced}", file=sys.stderr, flush=True
        )

    def start_tracing(self) -> None:
        if self.trace:
            tracemalloc.start(self.frames)
            self.baseline = tracemalloc.take_snapshot()

    def dump(self, where: str) -> None:
        if not self.trace or self.baseline is None:
            return
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [
                tracemalloc.Filter(False, tracemalloc.__file__),
                tracemalloc.Filter(False, "<frozen importlib._bootstrap*"),
            ]
        )
        stats = snapshot.compare_to(self.baseline, "traceback")
        print(f"--- {where}: top {self.top} grown since the imports, by traceback", file=sys.stderr)
        for stat in stats[: self.top]:
            print(f"{stat.size_diff / 2**20:8.2f} MB {stat.count_diff:+10,d} blocks", file=sys.stderr)
            for line in stat.traceback.format(limit=self.frames, most_recent_first=True)[::2]:
                print(f"      {line.strip()}", file=sys.stderr)
        sys.stderr.flush()


def child(config: str, trace: bool, frames: int, top: int, every: int, watch: float) -> None:
    """Run ``sync --json`` on ``config`` in this process, with the probe's hooks on the engine."""
    probe = _Probe(trace, frames, top, every)
    if watch:
        threading.Thread(target=_watch, args=(watch, 0.05), daemon=True).start()
    probe.say("interpreter")
    import onboard_sync.connectors.hubspot.plugin
    import onboard_sync.reconcile  # noqa: F401
    import onboard_sync.sync.engine as engine
    import onboard_sync.sync.plan as plan
    from onboard_sync.cli import main
    from onboard_sync.store import database

    if trace:  # tracemalloc slows every thread down: let a writer wait as long as it must
        sqlite_events = database._sqlite_events
        database._sqlite_events = lambda engine, _ms, **kw: sqlite_events(engine, 600_000, **kw)  # type: ignore[assignment]

    probe.say("imports")
    probe.start_tracing()
    run_chunk, plan_accounts, run = engine.Engine._evaluate_chunk, plan.AccountFields.plan, engine.Engine.run
    read_pages = engine.Engine.read_pages
    planned, pulling = [False], [False]

    def pages_hook(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not pulling[0]:
            pulling[0] = True
            probe.say("deal pull starts")
        return read_pages(self, *args, **kwargs)

    def chunk_hook(self: Any, *args: Any, **kwargs: Any) -> Any:
        if probe.chunks == 0:
            probe.say("first chunk (pull staged)")
            probe.dump("first chunk (pull staged)")
        elif probe.chunks % every == 0:
            probe.say(f"chunk {probe.chunks}")
        probe.chunks += 1
        return run_chunk(self, *args, **kwargs)

    def plan_hook(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not planned[0]:
            planned[0] = True
            probe.say(f"account fields ({probe.chunks} chunks)")
            probe.dump("account fields planned (every chunk evaluated)")
        return plan_accounts(self, *args, **kwargs)

    def run_hook(self: Any, *args: Any, **kwargs: Any) -> Any:
        report = run(self, *args, **kwargs)
        probe.say("engine returned")
        return report

    engine.Engine._evaluate_chunk = chunk_hook  # type: ignore[method-assign]
    plan.AccountFields.plan = plan_hook  # type: ignore[method-assign]
    engine.Engine.run = run_hook  # type: ignore[method-assign]
    engine.Engine.read_pages = pages_hook  # type: ignore[method-assign]
    sys.stdout = tempfile.TemporaryFile("w")  # noqa: SIM115  (as the scenario's child: a file, then dropped)
    try:
        main(["sync", "--json", "--config", config])
    except SystemExit as exit_:
        print(f"sync exited {exit_.code}", file=sys.stderr)
    probe.say("after the report")
    print(f"ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB", file=sys.stderr)
    print(
        f"children's ru_maxrss {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.1f} MB", file=sys.stderr
    )


def profile(deals: int, args: argparse.Namespace) -> None:
    from bench.measure import run_cli
    from bench.sandbox_proc import SandboxProcess, SandboxSpec
    from bench.scenarios.memory import UNLIMITED
    from onboard_sync.cli.demo import TOKEN_ENV, write_demo_config

    spec = SandboxSpec(deals=deals, latency=0.0, rate_limit=None, search_rate=None)
    print(f"=== {deals:,} deals: seeding the sandbox", file=sys.stderr, flush=True)
    with SandboxProcess(spec) as sb, tempfile.TemporaryDirectory(prefix="bench-memprof-") as tmp:
        folder = Path(tmp)
        config = write_demo_config(folder, sb.base_url)
        config.write_text(
            config.read_text() + f"requests_per_second = {UNLIMITED}\nsearch_requests_per_second = {UNLIMITED}\n"
        )
        root = str(Path(__file__).resolve().parent.parent)
        env = {
            **os.environ,
            TOKEN_ENV: sb.token,
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        }
        run_cli(folder, {TOKEN_ENV: sb.token}, "setup")
        sb("clear")
        facts = sb("facts")
        print(f"=== {facts['won']:,} won; syncing", file=sys.stderr, flush=True)
        cmd = [sys.executable, "-m", "bench.memory_profile", "--child", str(config), "--frames", str(args.frames)]
        cmd += ["--top", str(args.top), "--every", str(args.every), "--watch", str(args.watch)]
        cmd += ["--trace"] if args.trace else []
        proc = subprocess.Popen(cmd, env=env, cwd=folder)
        samples: list[tuple[float, dict[str, float]]] = []
        highest = 0.0
        started = time.perf_counter()
        while True:  # the child's RSS up to its exit, interpreter shutdown included
            pid, _, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            with contextlib.suppress(OSError, ValueError, KeyError):
                samples = [*samples[-40:], (time.perf_counter() - started, _status_mb(proc.pid))]
                highest = max(highest, samples[-1][1]["VmRSS"])
            time.sleep(0.05)
        for at, fields in samples[-40:]:
            print(f"  parent saw at {at:7.1f}s: {fields}", file=sys.stderr)
        peak = usage.ru_maxrss / 1024
        print(f"=== highest RSS sampled {highest:.1f} MB; wait4 ru_maxrss {peak:.1f} MB", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_profile", description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, nargs="*", default=[100_000], help="sandbox sizes (default 100,000)")
    parser.add_argument("--trace", action="store_true", help="tracemalloc tops (slow)")
    parser.add_argument("--frames", type=int, default=6, help="traceback depth of the tops")
    parser.add_argument("--top", type=int, default=25, help="entries of each top")
    parser.add_argument("--every", type=int, default=50, help="print RSS every N chunks")
    parser.add_argument("--watch", type=float, default=0.0, help="print the stack at each RSS rise of this many MB")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.trace, args.frames, args.top, args.every, args.watch)
        return
    for deals in args.deals:
        profile(deals, args)


if __name__ == "__main__":
    main()
