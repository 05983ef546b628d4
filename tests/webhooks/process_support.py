"""Find the processes a process started (from /proc, Linux): the worker process of `serve`."""

from __future__ import annotations

from pathlib import Path


def child_pids(pid: int) -> list[int]:
    """The live children of ``pid`` (empty where /proc is missing)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # it ended while we looked
            continue
        fields = text.rsplit(")", 1)[-1].split()  # after "pid (comm)": state, ppid, ...
        if len(fields) > 1 and fields[1] == str(pid) and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def worker_pids(serve_pid: int) -> list[int]:
    """The worker process(es) of a ``serve`` (multiprocessing's spawned children, not its resource tracker)."""
    out = []
    for pid in child_pids(serve_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"multiprocessing.spawn" in cmdline:
            out.append(pid)
    return out
