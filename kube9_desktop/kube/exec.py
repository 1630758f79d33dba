"""Shells and commands in containers: the ``pods/exec`` channel protocol over WebSocket (Qt-free).

Subprotocol ``v5.channel.k8s.io`` preferred (it can close stdin: message ``[255, 0]``), ``v4.channel.k8s.io``
accepted. Channels: 0 stdin, 1 stdout, 2 stderr, 3 status (a ``Status`` JSON: ``Success``, or ``Failure`` with
reason ``NonZeroExitCode`` and the code in the ``ExitCode`` cause), 4 resize (``{"Width": c, "Height": r}``).

An :class:`ExecSession` runs one reader thread (connect, then read until the stream ends); ``write``,
``resize`` and ``close`` may be called from any thread, and output and the end are reported through callbacks
on the reader thread (the window forwards them to the GUI thread with a queued signal).
"""

from __future__ import annotations

import logging
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from kube9_desktop.kube.backend import api_client_of
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.names import segment
from kube9_desktop.kube.status_errors import RequestInfo
from kube9_desktop.kube.wschannel import ChannelSocket, open_channel

if TYPE_CHECKING:  # types only: the client pulls in the kubernetes package (~0.5 s), which the window's
    # first paint must not wait for (the command families import this module)
    from kube9_desktop.kube.client import ContextClient

log = logging.getLogger(__name__)

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
#: The command a shell tab runs unless the user changes it: bash where the image has it, else sh.
DEFAULT_SHELL = ["/bin/sh", "-c", "command -v bash >/dev/null && exec bash || exec sh"]
#: What an exit status usually means (shells and container runtimes agree on these).
EXIT_MEANINGS = {
    1: "general error",
    2: "misuse of a shell command",
    126: "command cannot run",
    127: "command not found",
    130: "interrupted (Ctrl-C)",
    137: "killed (SIGKILL; out of memory?)",
    143: "terminated (SIGTERM)",
}


def exit_meaning(code: int) -> str:
    """``command not found`` for 127, ``signal 9`` for 137 when nothing better is known, else ""."""
    if code in EXIT_MEANINGS:
        return EXIT_MEANINGS[code]
    return f"signal {code - 128}" if 128 < code < 160 else ""


@dataclass(frozen=True)
class ExecSpec:
    """What to run where.

    Attributes:
        context: Kubeconfig context.
        namespace: The pod's namespace.
        pod: Pod name.
        container: Container name ("" lets the server pick the only one).
        command: argv.
        tty: Allocate a terminal (then stderr is merged into stdout by the server).
        stdin: Send input.
        cols: Initial terminal width.
        rows: Initial terminal height.
        attach: Attach to the container's main process instead of running ``command``.
        containers: The pod's containers (the window offers them in a picker).
    """

    context: str
    namespace: str
    pod: str
    container: str = ""
    command: tuple[str, ...] = tuple(DEFAULT_SHELL)
    tty: bool = True
    stdin: bool = True
    cols: int = 80
    rows: int = 24
    attach: bool = False
    containers: tuple[str, ...] = ()

    def kubectl(self) -> str:
        """The equivalent kubectl command line."""
        flags = "-it " if self.tty and self.stdin else "-i " if self.stdin else ""
        c = f" -c {self.container}" if self.container else ""
        verb = "attach" if self.attach else "exec"
        cmd = "" if self.attach else " -- " + " ".join(shlex.quote(a) for a in self.command)
        return f"kubectl --context {self.context} -n {self.namespace} {verb} {flags}{self.pod}{c}{cmd}"


@dataclass
class ExecResult:
    """How a session ended.

    Attributes:
        exit_code: The command's status (0 success); None when it never ran or the stream broke.
        message: One line for the user ("exited with code 127: command not found").
        error: The failure, when the command could not run or the connection failed.
        status: The raw Status JSON from the status channel, if any.
    """

    exit_code: int | None
    message: str
    error: KubeError | None = None
    status: dict[str, Any] = field(default_factory=dict)


def result_from_status(status: dict[str, Any], spec: ExecSpec) -> ExecResult:
    """Reads the status channel's ``Status`` into an :class:`ExecResult`."""
    if status.get("status") == "Success":
        return ExecResult(0, "exited with code 0", status=status)
    if status.get("reason") == "NonZeroExitCode":
        causes = (status.get("details") or {}).get("causes") or []
        code = next((c.get("message") for c in causes if c.get("reason") == "ExitCode"), None)
        try:
            n = int(code) if code is not None else 1
        except ValueError:
            n = 1
        meaning = exit_meaning(n)
        return ExecResult(n, f"exited with code {n}" + (f": {meaning}" if meaning else ""), status=status)
    message = str(status.get("message") or "the command failed")
    err = runtime_error(message, spec)
    return ExecResult(None, err.message, error=err, status=status)


def runtime_error(message: str, spec: ExecSpec) -> KubeError:
    """The container runtime could not start the command (no such executable, ...), worded for the user."""
    prog = spec.command[0] if spec.command else "the command"
    if "executable file not found" in message or "no such file or directory" in message:
        shell = spec.command and spec.command[0].rsplit("/", 1)[-1] in ("sh", "bash", "ash")
        if shell:
            return KubeError(
                ErrorKind.NOT_FOUND,
                "No shell found",
                f"Container {spec.container or '(default)'} of pod {spec.pod} has no shell ({prog} is not in the "
                "image; distroless images have none).",
                hint="Run a command the image has, or debug with an ephemeral container (kubectl debug).",
                context=spec.context,
                details={"status": message},
            )
        return KubeError(
            ErrorKind.NOT_FOUND,
            "Command not found",
            f"{prog} is not in container {spec.container or '(default)'} of pod {spec.pod}.",
            hint="Check the command name, or open a shell and look around.",
            context=spec.context,
            details={"status": message},
        )
    return KubeError(
        ErrorKind.SERVER,
        "Command failed to start",
        message[:400],
        hint="Check the container's state, then try again.",
        context=spec.context,
    )


def refine_open_error(err: KubeError, spec: ExecSpec) -> KubeError:
    """Exec-specific wording for a refused upgrade (container not running, kubelet unreachable)."""
    body = str((err.details or {}).get("body", "")) + " " + err.message
    where = f"container {spec.container or '(default)'} of pod {spec.pod} in {spec.namespace}"
    if "container not found" in body:
        return KubeError(
            ErrorKind.NOT_FOUND,
            "Container not running",
            f"The {where} is not running (not started yet, crashed or finished).",
            hint="Look at its logs and events; a shell opens once the container runs.",
            status=err.status,
            context=spec.context,
            details=err.details,
        )
    if "error dialing backend" in body or "dial tcp" in body:
        return KubeError(
            ErrorKind.UNREACHABLE,
            "Kubelet unreachable",
            f"The API server could not reach the kubelet of the node running pod {spec.pod}.",
            hint="The node may be down or its kubelet port (10250) blocked; check the node's status.",
            status=err.status,
            context=spec.context,
            details=err.details,
        )
    if err.kind is ErrorKind.FORBIDDEN:
        return KubeError(
            ErrorKind.FORBIDDEN,
            "Permission denied",
            f"You may not run commands in pods in {spec.namespace} (create pods/"
            f"{'attach' if spec.attach else 'exec'}).",
            hint=err.hint,  # the 403's own: the can-i command with --context (and --kubeconfig when needed)
            status=403,
            reason="Forbidden",
            context=spec.context,
            details=err.details,
        )
    return err


class ExecSession:
    """One exec/attach stream.

    Args:
        client: The context's client, or a function returning it (called on the reader thread: building a
            client may run a credential plugin, which must not block the GUI thread).
        spec: What to run.
        on_output: ``(channel, bytes)`` for stdout (1) and stderr (2), called on the reader thread.
        on_exit: Called once with the :class:`ExecResult`, on the reader thread.
        on_open: Called once the stream is connected (before any output), on the reader thread.
    """

    def __init__(
        self,
        client: ContextClient | Callable[[], ContextClient],
        spec: ExecSpec,
        on_output: Callable[[int, bytes], None],
        on_exit: Callable[[ExecResult], None],
        on_open: Callable[[], None] | None = None,
    ) -> None:
        self.client, self.spec = client, spec
        self.on_output, self.on_exit, self.on_open = on_output, on_exit, on_open
        self.sock: ChannelSocket | None = None
        self.result: ExecResult | None = None
        self._lock = threading.Lock()
        self._pending: list[bytes] = []
        self._stdin_closed = False  # asked before the stream opened: sent once it has
        self._closing = False
        self.size = (spec.cols, spec.rows)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"exec-{spec.pod}", daemon=True)

    def start(self) -> ExecSession:
        """Connects and reads in a background thread."""
        self.thread.start()
        return self

    # -- calls from any thread -----------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Sends stdin (buffered until connected)."""
        if not data:
            return
        with self._lock:
            if self.sock is None:
                self._pending.append(bytes([STDIN]) + data)
                return
            sock = self.sock
        sock.send(STDIN, data)

    def resize(self, cols: int, rows: int) -> None:
        """Sends the terminal's size (sent on connect when not connected yet)."""
        if cols <= 0 or rows <= 0:
            return
        with self._lock:
            self.size = (cols, rows)
            sock = self.sock
        if sock is not None and self.spec.tty:
            sock.send(RESIZE, orjson.dumps({"Width": cols, "Height": rows}))

    def close_stdin(self) -> None:
        """EOF on stdin (v5 only; with v4 the server learns it when the stream closes).

        Before the stream is open it is remembered and sent after the stdin written so far: a small file piped to
        a headless ``exec -i`` is read whole before the WebSocket opens, and its end must still reach the command.
        """
        with self._lock:
            sock = self.sock
            if sock is None:
                self._stdin_closed = True
                return
        if sock.protocol == PROTOCOLS[0]:
            sock.send(CLOSE, bytes([STDIN]))

    def close(self) -> None:
        """Ends the session (idempotent); the reader thread finishes soon after."""
        with self._lock:
            self._closing = True
            sock = self.sock
        if sock is not None:
            sock.close()

    def wait(self, timeout: float | None = None) -> ExecResult | None:
        """Waits for the end; the result, or None on timeout."""
        self.done.wait(timeout)
        return self.result

    # -- reader thread --------------------------------------------------------------------------------------
    def _query(self) -> list[tuple[str, str]]:
        s = self.spec
        q: list[tuple[str, str]] = []
        if not s.attach:
            q += [("command", c) for c in s.command]
        if s.container:
            q.append(("container", s.container))
        q += [("stdin", "true" if s.stdin else "false"), ("stdout", "true")]
        q.append(("stderr", "false" if s.tty else "true"))
        q.append(("tty", "true" if s.tty else "false"))
        return q

    def _run(self) -> None:
        s = self.spec
        sub = "attach" if s.attach else "exec"
        path = f"/api/v1/namespaces/{segment(s.namespace)}/pods/{segment(s.pod)}/{sub}"
        info = RequestInfo(verb="create", resource=f"pods/{sub}", namespace=s.namespace, name=s.pod)
        result: ExecResult
        try:
            if callable(self.client):
                self.client = self.client()
            sock = open_channel(self.client, path, self._query(), PROTOCOLS, info=info)
        except KubeError as exc:
            err = refine_open_error(exc, s)
            self._finish(ExecResult(None, err.one_line(), error=err))
            return
        # What was asked before the stream opened goes out under the lock, so a write or close_stdin arriving
        # meanwhile (they send as soon as they see the socket) comes after it, in the order it was asked.
        with self._lock:
            self.sock = sock
            pending, self._pending = self._pending, []
            if self._closing:
                sock.close()
            if s.tty:
                sock.send(RESIZE, orjson.dumps({"Width": self.size[0], "Height": self.size[1]}))
            for raw in pending:
                sock.send_raw(raw)
            if self._stdin_closed and sock.protocol == PROTOCOLS[0]:
                sock.send(CLOSE, bytes([STDIN]))
        if self.on_open is not None:
            self.on_open()
        status: dict[str, Any] | None = None
        while (msg := sock.recv()) is not None:
            ch, data = msg
            if ch in (STDOUT, STDERR):
                if data:
                    self.on_output(ch, data)
            elif ch == STATUS:
                try:
                    status = orjson.loads(data)
                except orjson.JSONDecodeError:
                    status = {"status": "Failure", "message": data.decode("utf-8", "replace")}
        sock.close()
        if status is not None:
            result = result_from_status(status, s)
        elif self._closing:
            result = ExecResult(None, "closed")
        else:
            err = KubeError(
                ErrorKind.UNREACHABLE,
                "Connection lost",
                f"The stream to pod {s.pod} ended without an exit status (the pod may have been deleted, or the "
                "connection dropped).",
                hint="Open a new shell once the pod is running.",
                context=s.context,
            )
            result = ExecResult(None, err.one_line(), error=err)
        self._finish(result)

    def _finish(self, result: ExecResult) -> None:
        self.result = result
        self.done.set()
        try:
            self.on_exit(result)
        except Exception:  # a view's callback must not kill the reader silently
            log.exception("exec on_exit callback failed")


def stream_client(service: Any, context: str) -> ContextClient:
    """The context's API client for streams; raises KubeError when the data layer has none (kubectl backend)."""
    return api_client_of(service, context, "Streams unavailable",
                         "Shells and port-forwards go through the API backend; the kubectl backend cannot open them.")
