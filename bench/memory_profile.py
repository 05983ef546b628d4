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
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any


def _rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc (Linux)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


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


def child(config: str, trace: bool, frames: int, top: int, every: int) -> None:
    """Run ``sync --json`` on ``config`` in this process, with the probe's hooks on the engine."""
    probe = _Probe(trace, frames, top, every)
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
    run_chunk, plan_accounts, run = engine.Engine._run_chunk, plan.AccountFields.plan, engine.Engine.run
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

    engine.Engine._run_chunk = chunk_hook  # type: ignore[method-assign]
    plan.AccountFields.plan = plan_hook  # type: ignore[method-assign]
    engine.Engine.run = run_hook  # type: ignore[method-assign]
    engine.Engine.read_pages = pages_hook  # type: ignore[method-assign]
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (the report's JSON is not needed here)
    try:
        main(["sync", "--json", "--config", config])
    except SystemExit as exit_:
        print(f"sync exited {exit_.code}", file=sys.stderr)
    probe.say("after the report")
    print(f"ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB", file=sys.stderr)


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
        cmd += ["--top", str(args.top), "--every", str(args.every)] + (["--trace"] if args.trace else [])
        subprocess.run(cmd, env=env, cwd=folder, check=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_profile", description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, nargs="*", default=[100_000], help="sandbox sizes (default 100,000)")
    parser.add_argument("--trace", action="store_true", help="tracemalloc tops (slow)")
    parser.add_argument("--frames", type=int, default=6, help="traceback depth of the tops")
    parser.add_argument("--top", type=int, default=25, help="entries of each top")
    parser.add_argument("--every", type=int, default=50, help="print RSS every N chunks")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.trace, args.frames, args.top, args.every)
        return
    for deals in args.deals:
        profile(deals, args)


if __name__ == "__main__":
    main()
