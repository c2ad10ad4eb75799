"""The temporary Prefect API server, owned by the newswatch process that needs it.

Without ``PREFECT_API_URL``, Prefect starts a temporary API server (about 200 MB and a port)
in a child process the first time a flow needs its API, and stops it from an ``atexit`` hook.
That hook does not run when the process is ended by SIGTERM (Python's default action is to
die at once) or SIGKILL, and the server went on alone. So newswatch starts that server itself
and hands it to Prefect, which reuses the server object it keeps for "no port given":

- On a normal end, an error, Ctrl-C or SIGTERM, leaving ``prefect_server()`` stops it. SIGTERM
  takes the same orderly path as Ctrl-C (the flow run is cancelled and says so to the server,
  which is still up); a process still there ``GRACE_SECONDS`` later stops the server and ends,
  and a second SIGTERM does so at once.
- When the newswatch process dies without a word (SIGKILL, the OOM killer), the kernel kills
  the server: the server process sets Linux's ``PR_SET_PDEATHSIG`` to SIGKILL as the first
  thing it does, then checks that its parent is still the process that started it (the parent
  may have died in between). This was chosen over a watcher process or a poll in the parent:
  the kernel acts on every kind of death, at once, and there is no second process that could
  be killed first. It is set by the server's own code rather than through ``preexec_fn``,
  which is unsafe in a process that runs threads. Off Linux, the server instead looks at its
  parent's pid every second and ends itself when it changes.
- The server runs in a session (and process group) of its own: a Ctrl-C at the terminal
  reaches newswatch alone, which finishes with the server before stopping it, and stopping
  it signals its whole group.

``newswatch serve`` keeps its server for its whole life and starts it as ``prefect server
start`` does, not as a temporary server: Prefect runs its scheduler (and its other services:
late runs, cancellations) only in such a server, and without one no scheduled run would ever
be created. A single ``ingest`` schedules nothing and starts the lighter temporary kind.

When the operator points Prefect at a server of their own (``PREFECT_API_URL``, in the
environment or a Prefect profile), newswatch starts nothing. The server is started before
Prefect's engine and the flows are imported, so its start-up overlaps theirs.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib.util import find_spec
from types import FrameType

from pipeline.errors import NewswatchError

# How long a SIGTERM'd run may take to end in order before it stops the server and ends.
GRACE_SECONDS = 10.0
# How long Prefect's log and event senders may take to empty their queues at the end.
DRAIN_SECONDS = 5.0
# How long the server may take to stop on SIGTERM before it is killed.
STOP_SECONDS = 5.0
# Prefect waits 20 s by its own count, which leaves out each health request: on a loaded machine
# a first start (which creates Prefect's scratch database) takes longer in wall time.
MIN_STARTUP_SECONDS = 60.0
# The server exits with uvicorn's STARTUP_FAILURE when its port was taken meanwhile.
PORT_TAKEN = 3
PORT_ATTEMPTS = 3
# What Prefect's own temporary server is started with (no UI; it knows it is temporary, so it
# runs none of the services such as the scheduler).
SERVER_ENVIRONMENT = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}
# What serve's server is started with: a server of the usual kind, whose services run.
SCHEDULING_SERVER_ENVIRONMENT = {"PREFECT_UI_ENABLED": "0"}
PR_SET_PDEATHSIG = 1


@dataclass
class TemporaryServer:
    """A Prefect API server in a child process of this one, on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    schedules: bool = False
    stopped: bool = field(default=False)

    @property
    def api_url(self) -> str:
        """The API address Prefect's clients use."""
        return f"http://127.0.0.1:{self.port}/api"

    def stop(self) -> None:
        """Stop the server and everything in its process group; safe to call again."""
        if self.stopped:
            return
        self.stopped = True
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_SECONDS)
        # Whatever is left of its group: the server if it hung, any process it started.
        _signal_group(self.process.pid, signal.SIGKILL)
        self.process.wait()


@contextmanager
def prefect_server() -> Iterator[str | None]:
    """Run the block with a temporary Prefect server of this process (its API address), or
    with none (None) when the operator runs their own; it is stopped when the block ends, also
    on Ctrl-C or SIGTERM. Enter before importing the flows (their start-up overlaps)."""
    server = _start()
    if server is None:
        yield None
        return
    with _orderly_sigterm(server) as terminated:
        try:
            yield _adopt(server)
        except BaseException as exc:
            # During a flow run Prefect's own SIGTERM handler has the signal: it raises this.
            prefect_exceptions = sys.modules.get("prefect.exceptions")
            if prefect_exceptions and isinstance(exc, prefect_exceptions.TerminationSignal):
                terminated.append(exc.signal)
            raise
        finally:
            _drain_prefect_workers()
            server.stop()
            _release()


def keep_prefect_server() -> str | None:
    """Start a Prefect server that runs the scheduler for the rest of this process (``newswatch
    serve``), stopped at exit or on SIGTERM; None when the operator runs their own server."""
    server = _start(schedules=True)
    if server is None:
        return None
    atexit.register(server.stop)
    if threading.current_thread() is threading.main_thread():
        # Until Prefect's runner takes SIGTERM over (it exits in order too), exit in order.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    api_url = _adopt(server)
    # The runs Prefect starts in processes of their own use this server rather than each
    # starting one more (this process read its settings already: it keeps its own way).
    os.environ["PREFECT_API_URL"] = api_url
    return api_url


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _start(schedules: bool = False) -> TemporaryServer | None:
    """The server, started (running Prefect's scheduler when ``schedules``); None when Prefect
    is told of another one or already runs one."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    known = sys.modules.get("prefect.server.api.server")
    if known is not None:
        running = known.SubprocessASGIServer._instances.get(None)
        if running is not None and running.running:
            return None
    server = TemporaryServer(_spawn(port := _free_port(), schedules), port, schedules)
    # A Prefect profile may name the operator's server: only known once Prefect's settings load
    # (a second's import the server's own start overlaps).
    from prefect.settings import get_current_settings

    if get_current_settings().api.url:
        server.stop()
        return None
    return server


def _spawn(port: int, schedules: bool) -> subprocess.Popen[bytes]:
    """Start the server process (this module's ``__main__``) on ``port``."""
    spec = find_spec("prefect")
    origin = spec.origin if spec is not None else None
    app_dir = [] if origin is None else ["--app-dir", os.path.dirname(os.path.dirname(origin))]
    command = [sys.executable, "-m", __name__, str(os.getpid()), *app_dir]
    command += ["--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "error", "--lifespan", "on"]
    # Neither kind inherits the other's marks.
    inherited = {k: v for k, v in os.environ.items() if k not in SERVER_ENVIRONMENT}
    chosen = SCHEDULING_SERVER_ENVIRONMENT if schedules else SERVER_ENVIRONMENT
    environment = {**inherited, **chosen}
    return subprocess.Popen(
        command,
        env=environment,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def _adopt(server: TemporaryServer) -> str:
    """Make ``server`` the temporary server Prefect's clients use; they wait for it to answer
    when they first need it (not here: the flows' import goes on meanwhile)."""
    from prefect.server.api.server import SubprocessASGIServer

    class OwnedServer(SubprocessASGIServer):
        """Prefect's temporary server object, standing for newswatch's server."""

        def start(self, timeout: int | None = None) -> None:
            if not self.running:
                _wait_until_up(server)
                self.port = server.port
                self.server_process = server.process
                self.running = True

        def stop(self) -> None:
            server.stop()
            self.server_process = None
            self.running = False
            if SubprocessASGIServer._instances.get(None) is self:
                del SubprocessASGIServer._instances[None]

    # Prefect keeps its servers by port and asks for the one of no port (None) when it needs
    # a temporary server: this one takes that place.
    SubprocessASGIServer._instances.pop(None, None)
    OwnedServer()
    return server.api_url


def _wait_until_up(server: TemporaryServer) -> None:
    """Return once the server answers; start it anew on another port if its port was taken."""
    from prefect.settings import get_current_settings

    configured = get_current_settings().server.ephemeral.startup_timeout_seconds
    timeout = max(float(configured), MIN_STARTUP_SECONDS)
    attempts = 1
    deadline = time.monotonic() + timeout
    while not _healthy(server.api_url):
        code = server.process.poll()
        if code == PORT_TAKEN and attempts < PORT_ATTEMPTS:
            attempts += 1
            server.port = _free_port()
            server.process = _spawn(server.port, server.schedules)
        elif code is not None:
            raise NewswatchError(f"the temporary Prefect server exited with code {code}")
        elif time.monotonic() > deadline:
            raise NewswatchError(
                f"the temporary Prefect server did not answer within {timeout:.0f} s"
            )
        time.sleep(0.1)


def _drain_prefect_workers() -> None:
    """Send the logs and events Prefect still holds while the server is up (at exit, too late)."""
    for module_name, worker_name in (
        ("prefect.logging.handlers", "APILogWorker"),
        ("prefect.events.worker", "EventsWorker"),
    ):
        module = sys.modules.get(module_name)
        if module is not None:
            getattr(module, worker_name).drain_all(timeout=DRAIN_SECONDS)


def _release() -> None:
    """Have Prefect forget the stopped server (a later flow in this process starts anew)."""
    module = sys.modules.get("prefect.server.api.server")
    if module is not None and (owned := module.SubprocessASGIServer._instances.get(None)):
        owned.stop()


def _healthy(api_url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@contextmanager
def _orderly_sigterm(server: TemporaryServer) -> Iterator[list[int]]:
    """Within the block, SIGTERM ends the process as Ctrl-C does, then it exits 143; the block
    adds to the list it is given a SIGTERM it learnt of otherwise."""
    terminated: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield terminated  # signal handlers belong to the main thread; the kernel covers a kill
        return
    timers: list[threading.Timer] = []

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if terminated:
            _give_up(server, signum)
        terminated.append(signum)
        timer = threading.Timer(GRACE_SECONDS, _give_up, (server, signum))
        timer.daemon = True
        timer.start()
        timers.append(timer)
        interrupt = signal.getsignal(signal.SIGINT)
        # Inside asyncio.run this cancels the flow's task, as a Ctrl-C does.
        if callable(interrupt):
            interrupt(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield terminated
    finally:
        signal.signal(signal.SIGTERM, previous)
        for timer in timers:
            timer.cancel()
        if terminated:
            server.stop()
            raise SystemExit(128 + signal.SIGTERM)


def _give_up(server: TemporaryServer, signum: int) -> None:
    """Stop the server and end the process now (it did not end in order in time)."""
    server.stop()
    os._exit(128 + signum)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _free_port() -> int:
    """A port on 127.0.0.1 free now (the server retries another if it is taken meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent(parent: int) -> None:
    """In the server process: end when ``parent`` (newswatch) does, however it ends."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
        if armed:
            # The parent may have died before the call: then nothing would ever fire.
            if os.getppid() != parent:
                os._exit(1)
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _serve(arguments: list[str]) -> None:
    """The server process: ``PARENT_PID UVICORN_ARGUMENTS...``."""
    _die_with_parent(int(arguments[0]))
    sys.argv = ["uvicorn", *arguments[1:]]
    from uvicorn.main import main

    main()


if __name__ == "__main__":
    _serve(sys.argv[1:])
