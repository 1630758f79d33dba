"""The ``kubectl`` backend: the same fetch interface by spawning ``kubectl get ... -o json``.

Kept as a fallback (a cluster whose auth only kubectl understands) and as the benchmark baseline. Processes are
started with an argument list (never a shell); output is parsed with orjson in a worker thread and turned into the
same Rows as the API path by :func:`~kube9_desktop.kube.convert.row_from_object`; stderr is mapped to the same
:class:`~kube9_desktop.kube.errors.KubeError` kinds and wording.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson

from kube9_desktop.kube.backend import ContextStats, KubeOptions, StatsRecorder
from kube9_desktop.kube.convert import rows_from_list
from kube9_desktop.kube.errors import ErrorKind, KubeError, forbidden_error
from kube9_desktop.kube.kinds import KINDS, Kind, kind_from_crd
from kube9_desktop.kube.kubeconfig import Kubeconfig
from kube9_desktop.kube.redact import bounded_text, scrub
from kube9_desktop.kube.rows import ListRef, Page, WatchEvent
from kube9_desktop.kube.status_errors import kubectl_kubeconfig

#: Characters of kubectl's stderr looked at (what it relays from plugins and servers can be megabytes).
STDERR_KEEP = 64 * 1024

# Outputs above this size are parsed in a worker thread so the event loop (GUI) stays responsive.
_BIG_OUTPUT = 256 * 1024

#: kubectl processes running at once per CPU (and never more than ``options.workers``). Each kubectl is a Go
#: program that burns ~40 ms of CPU just starting; a Refresh of an open namespace used to spawn 40+ at once, which
#: on 2 cores starved the GUI thread for up to 0.9 s and made the whole Refresh no faster.
PROCESSES_PER_CPU = 2


_FORBIDDEN_RE = re.compile(
    r'cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)"| at the cluster scope)?'
)


def error_from_stderr(
    stderr: str,
    returncode: int,
    *,
    context: str,
    kind: Kind | None = None,
    namespace: str | None = None,
    verb: str = "list",
    command: str = "kubectl",
    server: str = "",
    kubeconfig: str | None = None,
) -> KubeError:
    """Map kubectl's stderr to the KubeError the API path would raise for the same failure.

    kubectl passes exec plugins' and servers' text through: it is bounded and redacted like theirs.
    ``kubeconfig`` is the file named with ``--kubeconfig`` in the ``auth can-i`` hint.
    """
    return scrub(_error_from_stderr(stderr[:STDERR_KEEP], returncode, context=context, kind=kind,
                                    namespace=namespace, verb=verb, command=command, server=server,
                                    kubeconfig=kubeconfig))


def _error_from_stderr(
    stderr: str,
    returncode: int,
    *,
    context: str,
    kind: Kind | None,
    namespace: str | None,
    verb: str,
    command: str,
    server: str,
    kubeconfig: str | None,
) -> KubeError:
    text = stderr.strip()
    first = bounded_text(text)
    low = text.lower()
    details: dict[str, Any] = {"stderr": first, "exit_status": returncode, "command": command}
    if "forbidden" in low:
        m = _FORBIDDEN_RE.search(text)
        if m:
            verb, resource, group, ns = m.group(1), m.group(2), m.group(3), m.group(4)
        else:
            resource, group, ns = (kind.plural, kind.group, namespace) if kind else ("resources", "", namespace)
        all_ns = bool(kind is not None and kind.namespaced and not namespace)
        return forbidden_error(verb, resource, group, ns, all_namespaces=all_ns, context=context, status=403,
                               reason="Forbidden", details=details, kubeconfig=kubeconfig)
    if "unauthorized" in low or "must be logged in" in low:
        return KubeError(
            ErrorKind.UNAUTHORIZED,
            "Not authorized",
            f"The server rejected the credentials for context {context} (expired or invalid).",
            hint="Re-authenticate or update the credentials in your kubeconfig, then press Refresh.",
            status=401,
            reason="Unauthorized",
            details=details,
            context=context,
        )
    if "x509" in low or "certificate" in low:
        return KubeError(
            ErrorKind.TLS,
            "Certificate problem",
            f"The server certificate for context {context} could not be verified.",
            hint="Set certificate-authority (or certificate-authority-data) for the cluster in the "
            "kubeconfig to the cluster's CA.",
            details=details,
            context=context,
        )
    if "refused" in low:
        server = server or "the server"
        return KubeError(
            ErrorKind.UNREACHABLE,
            "Cannot connect",
            f"Cannot connect to {server} (connection refused). Is the cluster running?",
            hint="Start the cluster or tunnel, or check the server address in the kubeconfig.",
            details=details,
            context=context,
        )
    if "no such host" in low or "name resolution" in low:
        return KubeError(
            ErrorKind.DNS,
            "Unknown host",
            f"The server of context {context} does not resolve (DNS).",
            hint="Check the server address in the kubeconfig, and your VPN/DNS settings.",
            details=details,
            context=context,
        )
    if "timeout" in low or "deadline exceeded" in low or "timed out" in low:
        return KubeError(
            ErrorKind.TIMEOUT,
            "Timed out",
            f"The server of context {context} did not answer in time.",
            hint="Check the network, or raise the timeouts in Settings.",
            details=details,
            context=context,
        )
    if "doesn't have a resource type" in low or "the server could not find the requested resource" in low:
        what = f"{kind.kubectl_resource}/{kind.version}" if kind else "this resource"
        return KubeError(
            ErrorKind.NOT_FOUND,
            "Not served",
            f"This cluster does not serve {what}.",
            hint="The API may be disabled, removed in this Kubernetes version, or its CRD deleted.",
            status=404,
            reason="NotFound",
            details=details,
            context=context,
        )
    if "not found" in low:
        return KubeError(
            ErrorKind.NOT_FOUND,
            "Not found",
            first or "Not found.",
            status=404,
            reason="NotFound",
            details=details,
            context=context,
        )
    if "context" in low and ("does not exist" in low or "no context" in low):
        return KubeError(ErrorKind.KUBECONFIG, "Kubeconfig problem", first, context=context, details=details)
    if "getting credentials" in low or "exec plugin" in low or "executable" in low:
        return KubeError(ErrorKind.EXEC_PLUGIN, "Credential plugin failed", first, context=context, details=details)
    return KubeError(
        ErrorKind.KUBECTL,
        "kubectl failed",
        first or f"kubectl exited with status {returncode}.",
        hint="Run the same command in a terminal to see more.",
        details=details,
        context=context,
    )


async def _reap(proc: asyncio.subprocess.Process) -> None:
    """Kill ``proc`` (if it still runs) and wait until the loop has seen it exit; a cancellation meanwhile is held
    back until then and raised after.

    A bare ``await asyncio.shield(proc.communicate())`` let a second cancellation through (the app's shutdown
    cancels every task left, a run already cancelled included): the task ended with kubectl's exit still on its
    way, and when that exit came after the loop had closed, asyncio's child watcher printed "Loop … that handles
    pid … is closed" (or qasync's "_SimpleTimer already deleted"). Waiting for the exit, not for the pipes' end:
    a child of kubectl (an exec credential plugin) may hold them open long after kubectl died.
    """
    if proc.returncode is None:
        # Not proc.kill(): Popen.send_signal() polls first, and that poll reaps a kubectl that has just exited
        # before asyncio's child watcher thread does, which then prints "Unknown child process pid …, will report
        # returncode 255" (traced in loaded runs of the --backend kubectl exit test). A signal to a process that
        # has exited but is not reaped yet does nothing.
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
    if await _complete(asyncio.ensure_future(proc.wait())):
        raise asyncio.CancelledError


async def _complete(fut: asyncio.Future[Any]) -> bool:
    """Wait until ``fut`` is done, holding back cancellations (a SIGKILLed kubectl exits at once); returns
    whether this task was cancelled meanwhile. ``fut``'s own result or exception stays in it."""
    cancelled = False
    while not fut.done():
        try:
            await asyncio.shield(fut)
        except asyncio.CancelledError:
            cancelled = True
        except Exception:  # fut failed: the caller reads it from fut
            break
    return cancelled


class KubectlBackend:
    """Lists and objects by spawning kubectl (backend name ``kubectl``).

    Args:
        kubeconfig_path: Passed as ``--kubeconfig`` when set (else kubectl's own KUBECONFIG rules apply).
        kubeconfig: The merged kubeconfig (context validation).
        options: ``kubectl`` executable, page size (``--chunk-size``), timeouts.
    """

    name = "kubectl"

    def __init__(self, kubeconfig_path: str | None, kubeconfig: Kubeconfig, options: KubeOptions) -> None:
        self.kubeconfig_path = kubeconfig_path
        self.kubeconfig = kubeconfig
        self.options = options
        self._counters: dict[str, StatsRecorder] = {}
        self._procs: set[asyncio.subprocess.Process] = set()
        #: kubectl processes being started (see _run_one); closed: no more are started (see aclose).
        self._spawning: set[asyncio.Future[asyncio.subprocess.Process]] = set()
        self._closed = False
        # Created on first use inside the running loop (a semaphore belongs to one loop).
        self._slots: asyncio.Semaphore | None = None
        self._slots_key: tuple[int, asyncio.AbstractEventLoop] | None = None

    def max_processes(self) -> int:
        """How many kubectl processes may run at once (all contexts together: they share the CPUs)."""
        return max(1, min(self.options.workers, PROCESSES_PER_CPU * (os.cpu_count() or 1)))

    def _slot(self) -> asyncio.Semaphore:
        key = (self.max_processes(), asyncio.get_running_loop())
        if self._slots is None or key != self._slots_key:
            # A new bound (Settings changed) applies to processes started from now on.
            self._slots, self._slots_key = asyncio.Semaphore(key[0]), key
        return self._slots

    def _c(self, context: str) -> StatsRecorder:
        return self._counters.setdefault(context, StatsRecorder())

    def _base_args(self, context: str) -> list[str]:
        exe = shutil.which(self.options.kubectl) or self.options.kubectl
        args = [exe]
        if self.kubeconfig_path:
            args += ["--kubeconfig", self.kubeconfig_path]
        args += ["--context", context, f"--request-timeout={int(max(1, self.options.read_timeout))}s"]
        return args

    async def _run(
        self,
        context: str,
        args: list[str],
        *,
        kind: Kind | None = None,
        namespace: str | None = None,
        verb: str = "list",
    ) -> Any:
        self.kubeconfig.context(context)  # a missing/broken context fails like the API path
        async with self._slot():
            return await self._run_one(context, self._base_args(context) + args, kind, namespace, verb)

    async def _run_one(self, context: str, full: list[str], kind: Kind | None, namespace: str | None,
                       verb: str) -> Any:
        counters = self._c(context)
        with counters.lock:
            counters.requests += 1
        started = time.perf_counter()
        if self._closed:  # the service is closing: a kubectl started now would outlive it
            raise KubeError(ErrorKind.KUBECTL, "Closed", "kubectl is no longer run: the app is closing.",
                            context=context)
        # Started in a task of its own, which no cancellation of this one reaches; aclose waits for it. Cancelled
        # while kubectl starts, asyncio cleans up with Popen.poll(), which can reap kubectl before asyncio's child
        # watcher thread does: that thread then prints "Unknown child process pid …, will report returncode 255"
        # (seen 1 in 5 loaded runs of the --backend kubectl exit test).
        spawn = asyncio.ensure_future(asyncio.create_subprocess_exec(
            *full, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        ))
        self._spawning.add(spawn)
        spawn.add_done_callback(self._spawning.discard)
        try:
            proc = await asyncio.shield(spawn)
        except asyncio.CancelledError:
            await _complete(spawn)
            if not spawn.cancelled() and spawn.exception() is None:
                await _reap(spawn.result())
            raise
        except OSError as exc:
            with counters.lock:
                counters.errors += 1
            raise KubeError(
                ErrorKind.KUBECTL,
                "kubectl not found",
                f"Cannot run {self.options.kubectl!r}: {exc.strerror or exc}.",
                hint="Install kubectl or set its path in Settings, or switch to the API backend.",
                context=context,
            ) from None
        self._procs.add(proc)
        try:
            # kubectl's own --request-timeout covers each request; this bounds the whole process
            # (paged lists make several requests).
            limit = self.options.connect_timeout + self.options.read_timeout * 4 + self.options.exec_timeout
            out, err = await asyncio.wait_for(proc.communicate(), timeout=limit)
        except TimeoutError:
            await _reap(proc)
            with counters.lock:
                counters.errors += 1
            raise KubeError(
                ErrorKind.TIMEOUT, "Timed out", f"kubectl did not finish within {limit:g} s.", context=context
            ) from None
        except asyncio.CancelledError:
            # The load was cancelled (context switch, shutdown): end kubectl and reap it before this task ends, even
            # if it is cancelled again meanwhile (see _reap). Left running, its exit reached the loop after it was
            # closed ("Loop … that handles pid … is closed", "_SimpleTimer already deleted").
            await _reap(proc)
            raise
        finally:
            self._procs.discard(proc)
        with counters.lock:
            counters.bytes_received += len(out)
            counters.latencies.append((time.perf_counter() - started) * 1000.0)
        if proc.returncode != 0:
            with counters.lock:
                counters.errors += 1
            raise error_from_stderr(
                err.decode("utf-8", "replace"),
                proc.returncode or 0,
                context=context,
                kind=kind,
                namespace=namespace,
                verb=verb,
                command=full[0],
                server=self.kubeconfig.context(context).server,
                kubeconfig=kubectl_kubeconfig(self.kubeconfig, context),
            )
        if len(out) > _BIG_OUTPUT:
            return await asyncio.get_running_loop().run_in_executor(None, orjson.loads, out)
        return orjson.loads(out)

    async def list_pages(self, ref: ListRef, kind: Kind) -> AsyncIterator[Page]:
        """The whole list as one page (kubectl joins its chunks itself)."""
        args = ["get", kind.kubectl_resource]
        if kind.namespaced:
            args += ["-n", ref.namespace] if ref.namespace else ["-A"]
        if ref.label_selector:
            args += ["-l", ref.label_selector]
        if ref.field_selector:
            args += ["--field-selector", ref.field_selector]
        args += ["-o", "json", f"--chunk-size={int(self.options.page_size)}"]
        data = await self._run(ref.context, args, kind=kind, namespace=ref.namespace)

        def build() -> Page:
            rows = rows_from_list(kind, data or {})
            return Page(
                rows=rows, resource_version=((data or {}).get("metadata") or {}).get("resourceVersion", ""), last=True
            )

        if len(data.get("items") or []) > 2000:
            page = await asyncio.get_running_loop().run_in_executor(None, build)
        else:
            page = build()
        yield page

    async def get_object(self, context: str, kind: Kind, namespace: str | None, name: str) -> dict[str, Any]:
        """One object as a plain dict; raises KubeError."""
        args = ["get", kind.kubectl_resource, name, "-o", "json"]
        if kind.namespaced and namespace:
            args += ["-n", namespace]
        data = await self._run(context, args, kind=kind, namespace=namespace, verb="get")
        return data if isinstance(data, dict) else {}

    async def server_version(self, context: str) -> str:
        """The server's gitVersion via ``kubectl version -o json``."""
        data = await self._run(context, ["version", "-o", "json"], verb="get")
        return str(((data or {}).get("serverVersion") or {}).get("gitVersion") or "")

    async def custom_kinds(self, context: str) -> list[Kind]:
        """Kinds defined by CRDs."""
        crd = KINDS["customresourcedefinitions"]
        data = await self._run(context, ["get", crd.kubectl_resource, "-o", "json"], kind=crd)
        out = [k for k in (kind_from_crd(i) for i in (data or {}).get("items") or []) if k is not None]
        return sorted(out, key=lambda k: k.key)

    async def watch(self, ref: ListRef, kind: Kind, resource_version: str) -> AsyncIterator[WatchEvent]:
        """Watching is only supported by the API backend."""
        raise KubeError(
            ErrorKind.KUBECTL,
            "Not supported",
            "Watching is not supported by the kubectl backend.",
            hint="Switch to the API backend in Settings.",
            context=ref.context,
        )
        yield  # pragma: no cover  (makes this an async generator)

    def stats(self, context: str) -> ContextStats:
        """Counters for ``context`` (requests = kubectl processes spawned)."""
        return self._c(context).snapshot()

    def set_options(self, options: KubeOptions) -> None:
        """Apply new options to future processes."""
        self.options = options

    def drop_context(self, context: str) -> None:
        """Nothing is kept per context except counters."""
        self._counters.pop(context, None)

    async def aclose(self) -> None:
        """Kill kubectl processes still running (or starting) and reap them; start no more."""
        self._closed = True
        for spawn in list(self._spawning):
            cancelled = await _complete(spawn)
            if not spawn.cancelled() and spawn.exception() is None:
                await _reap(spawn.result())
            if cancelled:
                raise asyncio.CancelledError
        for proc in list(self._procs):
            await _reap(proc)
        self._procs.clear()
