"""What a port-forward points at: the spec the user typed, its ports, and the pod and port it resolves to (Qt-free).

A :class:`ForwardSpec` names a pod or a Service and a port (a number or a name). :class:`Target` resolves it as
kubectl does: a pod's container port by number or by name; for a Service, its selector, a running and ready pod
(the oldest), and the service port's ``targetPort``, by number or by the container port's name. The running
forward (``kube/portforward.py``) asks it again when its pod goes away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.names import segment
from kube9_desktop.kube.status_errors import RequestInfo

if TYPE_CHECKING:  # types only: the client pulls in the kubernetes package (~0.5 s), which the window's
    # first paint must not wait for (the command families import this module)
    from kube9_desktop.kube.client import ContextClient

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class ForwardSpec:
    """What to forward.

    Attributes:
        context: Kubeconfig context.
        namespace: Namespace.
        kind: ``pods`` or ``services``.
        name: Pod or Service name.
        remote_port: Port number or name (a Service port, or a container port of the pod).
        local_port: Local port; 0 picks a free one.
        address: Local address to bind (127.0.0.1 unless the user typed another).
    """

    context: str
    namespace: str
    kind: str
    name: str
    remote_port: str
    local_port: int = 0
    address: str = LOOPBACK

    def kubectl(self, local: int | None = None) -> str:
        """The equivalent kubectl command line."""
        what = "pod" if self.kind == "pods" else "svc"
        addr = f" --address {self.address}" if self.address != LOOPBACK else ""
        port = local if local is not None else self.local_port
        return (
            f"kubectl --context {self.context} -n {self.namespace} port-forward {what}/{self.name} "
            f"{port}:{self.remote_port}{addr}"
        )


def parse_ports(text: str) -> tuple[int, str]:
    """``8080``, ``0:80``, ``:http``, ``9000:http`` → (local port, remote port or name); raises ValueError."""
    local_s, sep, remote = text.partition(":")
    if not sep:
        local_s, remote = text, text
    remote = remote.strip()
    if not remote:
        raise ValueError(f"no remote port in {text!r}")
    local = int(local_s) if local_s.strip() else 0
    if not 0 <= local < 65536:
        raise ValueError(f"local port {local} out of range")
    if not sep and not remote.isdigit():
        local = 0
    if remote.isdigit() and not 0 < int(remote) < 65536:
        raise ValueError(f"remote port {remote} out of range")
    return local, remote


def is_loopback(address: str) -> bool:
    """Whether binding this address keeps the forward on this machine."""
    return address in ("127.0.0.1", "localhost", "::1") or address.startswith("127.")


def web_scheme(pod: dict[str, Any], port: int) -> str:
    """``https`` or ``http`` when the pod's port looks like a web server's (for Open in browser), else "".

    By its container port's name (``https``, ``http``, ``http-metrics`` ...) first, then by the usual numbers
    (443/8443 TLS, 80/8080 plain): an ``https`` port opened as ``http://`` only shows the browser's error.
    """
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            name = str(p.get("name", ""))
            if p.get("containerPort") == port and name.startswith("http"):
                return "https" if name.startswith("https") else "http"
    return {443: "https", 8443: "https", 80: "http", 8080: "http"}.get(port, "")


def _ready(pod: dict[str, Any]) -> bool:
    st = pod.get("status") or {}
    if st.get("phase") != "Running" or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])


def container_port(pod: dict[str, Any], name_or_number: str) -> int | None:
    """A container port of the pod by name, or the number itself."""
    if name_or_number.isdigit():
        return int(name_or_number)
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == name_or_number:
                return int(p["containerPort"])
    return None


class Target:
    """Resolves a spec to (pod, container port) as kubectl does; raises KubeError."""

    def __init__(self, client: ContextClient, spec: ForwardSpec) -> None:
        self.client, self.spec = client, spec

    def _get(self, path: str, query: list[tuple[str, Any]] | None = None, **info: Any) -> Any:
        return self.client.get_json(path, query or [], info=RequestInfo(namespace=self.spec.namespace, **info))

    def resolve(self, avoid: str | None = None) -> tuple[str, int, dict[str, Any]]:
        """(pod name, pod port, pod object); ``avoid`` skips a pod known to be going away."""
        s = self.spec
        ns = segment(s.namespace)
        if s.kind == "pods":
            pod = self._get(f"/api/v1/namespaces/{ns}/pods/{segment(s.name)}", resource="pods", name=s.name)
            port = container_port(pod, s.remote_port)
            if port is None:
                raise self._error("No such port", f"Pod {s.name} has no container port named {s.remote_port}.")
            if (pod.get("status") or {}).get("phase") != "Running":
                phase = (pod.get("status") or {}).get("phase", "unknown")
                raise self._error("Pod not running", f"Pod {s.name} is {phase}; only a running pod can forward.")
            return s.name, port, pod
        svc = self._get(f"/api/v1/namespaces/{ns}/services/{segment(s.name)}", resource="services", name=s.name)
        spec = svc.get("spec") or {}
        sport = next(
            (
                p
                for p in spec.get("ports") or []
                if str(p.get("port")) == s.remote_port or (p.get("name") and p.get("name") == s.remote_port)
            ),
            None,
        )
        if sport is None:
            raise self._error("No such port", f"Service {s.name} does not have a service port {s.remote_port}.")
        selector = spec.get("selector") or {}
        if not selector:
            raise self._error("No pods", f"Service {s.name} has no selector, so no pod to forward to.")
        sel = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        pods = self._get(f"/api/v1/namespaces/{ns}/pods", [("labelSelector", sel)], verb="list", resource="pods")
        items = [p for p in pods.get("items") or [] if _ready(p) and p["metadata"]["name"] != avoid]
        if not items:
            raise self._error("No ready pod", f"No running and ready pod behind service {s.name} ({sel}).")
        # kubectl picks by readiness then age; the oldest ready pod is the stable choice.
        items.sort(key=lambda p: (p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"]))
        pod = items[0]
        target = sport.get("targetPort", sport.get("port"))
        port = container_port(pod, str(target)) if target not in (None, 0, "") else int(sport["port"])
        if port is None:
            raise self._error("No such port", f"Pod {pod['metadata']['name']} has no container port named {target}.")
        return pod["metadata"]["name"], port, pod

    def _error(self, title: str, message: str) -> KubeError:
        return KubeError(
            ErrorKind.NOT_FOUND, title, message, hint="Check the object and port.", context=self.spec.context
        )

    def pod_exists(self, pod: str) -> bool | None:
        """Whether the pod still exists and is not terminating (None when the server could not say)."""
        try:
            obj = self._get(
                f"/api/v1/namespaces/{segment(self.spec.namespace)}/pods/{segment(pod)}", resource="pods", name=pod
            )
        except KubeError as exc:
            return False if exc.kind is ErrorKind.NOT_FOUND else None
        return not (obj.get("metadata") or {}).get("deletionTimestamp")
