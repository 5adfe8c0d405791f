"""Start, find and stop the stack's long-running processes by pid file."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


class StackError(RuntimeError):
    """The local stack cannot be brought into the requested state."""


@dataclass(frozen=True)
class Service:
    """A process of the local stack, identified by its pid file and a marker in its command line."""

    name: str
    pid_file: Path
    # A string its command line or environment contains, so a recycled pid is never mistaken for
    # it. (The environment survives the exec from a launcher script into java; the command line
    # of the script does not yet name the java process's arguments.)
    marker: str

    def pid(self) -> int | None:
        """The pid of the running process, or None (a stale pid file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        identity = _identity(pid)
        if not identity.strip() and _alive(pid):  # just exec'd: /proc is not filled in yet
            wait_until(lambda: bool(_identity(pid).strip()) or not _alive(pid), 5.0, 0.01)
            identity = _identity(pid)
        if self.marker in identity:
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def start(self, argv: Sequence[str], env: dict[str, str], log_file: Path) -> int:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as log:
            process = subprocess.Popen(
                list(argv),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives the CLI; `down` stops it by pid
            )
        self.pid_file.write_text(f"{process.pid}\n")
        return process.pid

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM, wait, then SIGKILL. Returns True if a process was stopped."""
        pid = self.pid()
        if pid is None:
            return False
        _signal(pid, signal.SIGTERM)
        if not wait_until(lambda: not _alive(pid), timeout_s):
            _signal(pid, signal.SIGKILL)
            wait_until(lambda: not _alive(pid), 10.0)
        self.pid_file.unlink(missing_ok=True)
        return True


def _cmdline(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    if _is_zombie(pid):
        return None
    return raw.replace(b"\0", b" ").decode(errors="replace")


def _identity(pid: int) -> str:
    """Command line and environment of a live process ('' when gone or a zombie)."""
    cmdline = _cmdline(pid)
    if cmdline is None:
        return ""
    try:
        environ = (
            Path(f"/proc/{pid}/environ").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        environ = ""
    return f"{cmdline} {environ}"


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _alive(pid: int) -> bool:
    return _cmdline(pid) is not None


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def wait_until(condition: Callable[[], bool], timeout_s: float, interval_s: float = 0.25) -> bool:
    """Poll `condition` until it holds or `timeout_s` passes; True if it held."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports the OS has just handed out as free on `host`."""
    return free_port_runs([1] * count, host)


def free_port_runs(lengths: Sequence[int], host: str = "127.0.0.1") -> list[int]:
    """For each length, the first of that many consecutive ports free on `host` (the runs do not
    overlap): a stack of several brokers binds consecutive ports."""
    with contextlib.ExitStack() as sockets:
        firsts: list[int] = []
        for length in lengths:
            for _attempt in range(100):
                probe = sockets.enter_context(socket.socket())
                probe.bind((host, 0))
                first = probe.getsockname()[1]
                rest = [sockets.enter_context(socket.socket()) for _ in range(length - 1)]
                try:
                    for offset, extra in enumerate(rest, start=1):
                        extra.bind((host, first + offset))
                except (OSError, OverflowError):  # taken, or past 65535
                    continue
                firsts.append(first)
                break
            else:
                raise OSError(f"no {length} consecutive free ports on {host}")
        return firsts


def require_free_ports(host: str, ports: dict[str, int]) -> None:
    busy = {name: port for name, port in ports.items() if port_in_use(host, port)}
    if busy:
        listing = ", ".join(f"{name}={port}" for name, port in busy.items())
        # "kafka_port (broker 2)" is set through kafka_port.
        hint = ", ".join(dict.fromkeys(f"CLICKSTREAM_{name.split()[0].upper()}" for name in busy))
        raise StackError(
            f"port already in use on {host}: {listing}. Stop whatever holds it or choose "
            f"another port ({hint})."
        )
