"""Find, merge and read kubeconfig files the way kubectl does, without connecting anywhere.

Precedence (kubectl's ``clientcmd`` loading rules):

* an explicit path (the ``--kubeconfig`` flag) is the only file read;
* else every file in ``KUBECONFIG`` (``os.pathsep``-separated) is merged: the first file to define a cluster,
  user
  or context of a given name wins, and ``current-context`` comes from the first file that sets it;
* else ``~/.kube/config``.

Extra paths from the app's settings are merged after those, with the same first-wins rule.

A broken file never raises: it becomes a :class:`~kube9_desktop.kube.errors.KubeError` in
:attr:`Kubeconfig.problems` and the good files still load. Relative file references
(``certificate-authority``,
``client-certificate``, ``client-key``, ``tokenFile``, a relative exec ``command``) are resolved against the
directory of the file that defines them, as kubectl does, so the merged dict can be handed to the official
loader.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import os
import shutil
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kube9_desktop.kube.errors import ErrorKind, KubeError

#: Auth methods a context can use, as shown in the UI.
AUTH_METHODS = ("token", "token-file", "client-cert", "exec", "oidc", "basic", "none")

# Keys whose values are file paths relative to the kubeconfig file that names them.
_CLUSTER_PATH_KEYS = ("certificate-authority",)
_USER_PATH_KEYS = ("client-certificate", "client-key", "tokenFile")


@dataclass(frozen=True)
class ContextInfo:
    """One kubeconfig context, as the context dropdown shows it.

    Attributes:
        name: The context name.
        cluster: The cluster entry it uses.
        server: The cluster's API server URL (``""`` if the cluster entry is missing).
        user: The user entry it uses (``""`` for none).
        namespace: The default namespace (``default`` unless the context sets one).
        insecure: Whether the cluster sets ``insecure-skip-tls-verify``.
        auth: How the user authenticates: one of :data:`AUTH_METHODS`.
        exec_command: The exec credential plugin's command, when ``auth == "exec"``.
        source: The kubeconfig file that defined the context.
        namespace_set: Whether the context names its namespace (else ``namespace`` is kubectl's ``default``).
    """

    name: str
    cluster: str
    server: str
    user: str
    namespace: str = "default"
    insecure: bool = False
    auth: str = "none"
    exec_command: str | None = None
    source: str = ""
    namespace_set: bool = True


@dataclass
class Kubeconfig:
    """The merged kubeconfig.

    Attributes:
        contexts: Every usable context, in file order.
        current_context: The current context (``None`` if unset or missing).
        merged: The merged kubeconfig dict (clusters, users, contexts lists). It holds credentials: never log
            it.
        sources: The files that were read (successfully or not), in precedence order.
        problems: What is wrong with the files, one error per problem (kind ``KUBECONFIG``).
    """

    contexts: list[ContextInfo] = field(default_factory=list)
    current_context: str | None = None
    merged: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    problems: list[KubeError] = field(default_factory=list)

    def __repr__(self) -> str:  # never show credentials in logs or tracebacks
        return (
            f"Kubeconfig(contexts={[c.name for c in self.contexts]!r}, "
            f"current_context={self.current_context!r}, "
            f"sources={self.sources!r}, problems={len(self.problems)})"
        )

    def context(self, name: str) -> ContextInfo:
        """The context ``name``; raises KubeError (``KUBECONFIG``) if there is no such usable context."""
        for ctx in self.contexts:
            if ctx.name == name:
                return ctx
        for problem in self.problems:
            if problem.context == name:
                raise problem
        # A skipped file is the likeliest reason the context is missing: say why first.
        skipped = [p.message for p in self.problems if not p.context]
        why = " ".join(skipped[:3]) + (f" (and {len(skipped) - 3} more problems)" if len(skipped) > 3 else "")
        raise KubeError(
            ErrorKind.KUBECONFIG,
            "Unknown context",
            (f"{why} So " if why else "") + f"{'t' if why else 'T'}he kubeconfig has no context named {name!r}.",
            hint="Pick another context, or check the kubeconfig files: " + ", ".join(self.sources),
            context=name,
        )

    def names(self) -> list[str]:
        """The context names."""
        return [c.name for c in self.contexts]

    def config_for(self, name: str) -> dict[str, Any]:
        """A minimal kubeconfig dict holding only context ``name`` and its cluster and user (deep copy)."""
        ctx = self.context(name)
        entry = _find(self.merged.get("contexts"), name)
        cluster = _find(self.merged.get("clusters"), ctx.cluster)
        user = _find(self.merged.get("users"), ctx.user) if ctx.user else None
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": name,
            "contexts": [copy.deepcopy(entry)],
            "clusters": [copy.deepcopy(cluster)],
            "users": [copy.deepcopy(user)] if user else [],
        }

    def user_dict(self, name: str) -> dict[str, Any]:
        """The ``user`` mapping of context ``name`` (deep copy; empty if none)."""
        ctx = self.context(name)
        user = _find(self.merged.get("users"), ctx.user) if ctx.user else None
        return copy.deepcopy((user or {}).get("user") or {})


def _find(entries: Any, name: str) -> dict[str, Any] | None:
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return None


def default_paths() -> list[str]:
    """The files kubectl would read without ``--kubeconfig``: ``KUBECONFIG`` entries, else
    ``~/.kube/config``."""
    env = os.environ.get("KUBECONFIG", "")
    paths = [p for p in env.split(os.pathsep) if p]
    if paths:
        # kubectl de-duplicates, keeping the first occurrence.
        return list(dict.fromkeys(paths))
    return [str(Path.home() / ".kube" / "config")]


def _problem(path: str, message: str, hint: str = "", context: str = "") -> KubeError:
    return KubeError(
        ErrorKind.KUBECONFIG,
        "Kubeconfig problem",
        f"{path}: {message}",
        hint=hint or "Fix or remove the file; the other kubeconfig files still load.",
        details={"path": path},
        context=context,
    )


def _resolve(base: Path, value: Any) -> Any:
    if isinstance(value, str) and value and not os.path.isabs(value) and not value.startswith("~"):
        return str(base / value)
    if isinstance(value, str) and value.startswith("~"):
        return os.path.expanduser(value)
    return value


#: kubectl's files are a few KB; a file past this is not a kubeconfig (and ``/dev/zero`` would read forever).
MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024

#: The YAML loader to use instead of the default (benchmarks/kubeconfig_load.py compares them); None: the default.
_YAML_LOADER: Any = None


def _yaml_loader() -> Any:
    """libyaml's loader, about ten times faster than the pure-Python one on a large file (that one when PyYAML was
    built without it). PyYAML is imported here, when a file is read (in a worker thread): the window's first
    paint does not wait for it."""
    import yaml

    return _YAML_LOADER or getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_text(path: str, p: Path, problems: list[KubeError], required: bool) -> str | None:
    """The file's text, or ``None`` with the reason in ``problems``: missing, not a regular file (a FIFO would block,
    ``/dev/zero`` never ends), too large, or not UTF-8 text (a binary file)."""
    try:
        st = p.stat()  # before opening: opening a FIFO for reading blocks until a writer comes
    except FileNotFoundError:
        if required:
            problems.append(_problem(path, "the file does not exist."))
        return None
    except OSError as exc:
        problems.append(_problem(path, f"cannot be read ({exc.strerror or exc})."))
        return None
    if not stat.S_ISREG(st.st_mode):
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        problems.append(_problem(path, f"is {what}, not a kubeconfig file."))
        return None
    try:
        # O_NONBLOCK: should the path have been swapped for a FIFO since the stat, open still returns at once.
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                problems.append(_problem(path, "is not a regular file, not a kubeconfig file."))
                return None
            raw = f.read(MAX_KUBECONFIG_BYTES + 1)
    except OSError as exc:
        problems.append(_problem(path, f"cannot be read ({exc.strerror or exc})."))
        return None
    if len(raw) > MAX_KUBECONFIG_BYTES:
        problems.append(_problem(path, f"is larger than {MAX_KUBECONFIG_BYTES // (1024 * 1024)} MB; "
                                       "kubeconfig files are a few KB."))
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(_problem(path, f"is not a text file (byte {exc.start} is not UTF-8); "
                                       "is it a binary or an encrypted file?"))
        return None


def _read_file(path: str, problems: list[KubeError], required: bool) -> dict[str, Any] | None:
    p = Path(os.path.expanduser(path))
    text = _read_text(path, p, problems, required)
    if text is None:
        return None
    import yaml

    try:
        data = yaml.load(text, Loader=_yaml_loader())  # a safe loader, C or Python
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problems.append(_problem(path, f"is not valid YAML{where}."))
        return None
    except (ValueError, RecursionError) as exc:  # e.g. a nesting too deep for the loader
        problems.append(_problem(path, f"is not valid YAML ({type(exc).__name__})."))
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        shape = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        problems.append(_problem(path, f"is not a kubeconfig: its top level is {shape}, not a mapping of clusters, "
                                       "users and contexts."))
        return None
    base = p.resolve().parent
    for section, inner, keys in (
        ("clusters", "cluster", _CLUSTER_PATH_KEYS),
        ("users", "user", _USER_PATH_KEYS),
    ):
        entries = data.get(section)
        if entries is None:
            continue
        if not isinstance(entries, list):
            problems.append(_problem(path, f"'{section}' must be a list."))
            data[section] = []
            continue
        good = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                problems.append(_problem(path, f"an entry in '{section}' has no name."))
                continue
            body = entry.get(inner)
            if body is None:
                body = entry[inner] = {}
            if not isinstance(body, dict):
                problems.append(
                    _problem(path, f"{section[:-1]} {entry['name']!r}: '{inner}' must be a mapping.")
                )
                continue
            for key in keys:
                if key in body:
                    body[key] = _resolve(base, body[key])
            exec_cfg = body.get("exec") if inner == "user" else None
            if isinstance(exec_cfg, dict):
                cmd = exec_cfg.get("command")
                # kubectl resolves a command containing a path separator relative to the kubeconfig file;
                # a bare name is looked up on PATH.
                if isinstance(cmd, str) and os.sep in cmd and not os.path.isabs(cmd):
                    exec_cfg["command"] = str(base / cmd)
            good.append(entry)
        data[section] = good
    contexts = data.get("contexts")
    if contexts is not None and not isinstance(contexts, list):
        problems.append(_problem(path, "'contexts' must be a list."))
        data["contexts"] = []
    elif contexts:
        good = []
        for entry in contexts:
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("name"), str)
                or not isinstance(entry.get("context") or {}, dict)
            ):
                problems.append(_problem(path, "an entry in 'contexts' has no name or no 'context' mapping."))
                continue
            entry.setdefault("context", {})
            entry["context"] = entry["context"] or {}
            entry["_source"] = str(p)
            good.append(entry)
        data["contexts"] = good
    return data


def auth_method(user: dict[str, Any]) -> str:
    """How a kubeconfig ``user`` mapping authenticates (one of :data:`AUTH_METHODS`)."""
    if not user:
        return "none"
    if isinstance(user.get("exec"), dict):
        return "exec"
    provider = user.get("auth-provider")
    if isinstance(provider, dict) and provider.get("name") == "oidc":
        return "oidc"
    if user.get("token"):
        return "token"
    if user.get("tokenFile"):
        return "token-file"
    if user.get("client-certificate") or user.get("client-certificate-data"):
        return "client-cert"
    if user.get("username") and user.get("password"):
        return "basic"
    return "none"


def load_kubeconfig(path: str | None = None, extra_paths: Sequence[str] = ()) -> Kubeconfig:
    """Load and merge kubeconfig files like kubectl; never raises for broken files.

    Args:
        path: An explicit kubeconfig file (``--kubeconfig``); when given, ``KUBECONFIG`` is ignored.
        extra_paths: More files (from settings), merged after the others.

    Returns:
        The merged kubeconfig, with any problems listed in :attr:`Kubeconfig.problems`.
    """
    problems: list[KubeError] = []
    if path:
        paths = [(path, True)]
    else:
        env_set = bool(os.environ.get("KUBECONFIG"))
        # A missing file listed in KUBECONFIG is reported (it is usually a typo); a missing default
        # ~/.kube/config too, since otherwise the user sees an empty app with no explanation.
        paths = [(p, True) for p in default_paths()]
        if not env_set:
            paths = [(paths[0][0], True)]
    paths += [(p, True) for p in extra_paths if p]
    seen: set[str] = set()
    merged: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "users": [],
        "contexts": [],
    }
    names: dict[str, set[str]] = {"clusters": set(), "users": set(), "contexts": set()}
    current: str | None = None
    sources: list[str] = []
    for p, required in paths:
        key = os.path.abspath(os.path.expanduser(p))
        if key in seen:
            continue
        seen.add(key)
        sources.append(p)
        data = _read_file(p, problems, required)
        if not data:
            continue
        if current is None and isinstance(data.get("current-context"), str) and data["current-context"]:
            current = data["current-context"]
        for section in ("clusters", "users", "contexts"):
            for entry in data.get(section) or []:
                if entry["name"] not in names[section]:  # first file to set a name wins
                    names[section].add(entry["name"])
                    merged[section].append(entry)
    merged["current-context"] = current or ""
    clusters = {e["name"]: e.get("cluster") or {} for e in merged["clusters"]}
    users = {e["name"]: e.get("user") or {} for e in merged["users"]}
    contexts: list[ContextInfo] = []
    for entry in merged["contexts"]:
        src = entry.pop("_source", "")
        ctx = entry["context"]
        name = entry["name"]
        cluster_name = ctx.get("cluster") or ""
        user_name = ctx.get("user") or ""
        if cluster_name not in clusters:
            problems.append(
                _problem(
                    src,
                    f"context {name!r} names cluster {cluster_name!r}, which is not defined.",
                    context=name,
                )
            )
            continue
        if user_name and user_name not in users:
            problems.append(
                _problem(
                    src, f"context {name!r} names user {user_name!r}, which is not defined.", context=name
                )
            )
            continue
        cluster = clusters[cluster_name]
        user = users.get(user_name, {})
        server = cluster.get("server") or ""
        if not server:
            problems.append(
                _problem(src, f"cluster {cluster_name!r} (context {name!r}) has no server.", context=name)
            )
            continue
        exec_cfg = user.get("exec") if isinstance(user.get("exec"), dict) else None
        contexts.append(
            ContextInfo(
                name=name,
                cluster=cluster_name,
                server=str(server),
                user=user_name,
                namespace=str(ctx.get("namespace") or "default"),
                insecure=bool(cluster.get("insecure-skip-tls-verify", False)),
                auth=auth_method(user),
                exec_command=str(exec_cfg.get("command")) if exec_cfg and exec_cfg.get("command") else None,
                source=src,
                namespace_set=bool(ctx.get("namespace")),
            )
        )
    if current and current not in {c.name for c in contexts}:
        if not any(p.context == current for p in problems):
            problems.append(
                _problem(
                    sources[0] if sources else "kubeconfig",
                    f"current-context {current!r} names a context that does not exist.",
                    context=current,
                )
            )
        current = None
    return Kubeconfig(
        contexts=contexts, current_context=current, merged=merged, sources=sources, problems=problems
    )


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection while a kubeconfig is parsed; what it built is then moved out of the collector's sight.

    The app collects on the GUI thread (ui/gc_driver.py), and a pass walks every object the parse has made so far:
    with a 10 MB file those passes held the GIL, and so the window, for seconds although the parse itself ran in a
    worker thread. A parsed kubeconfig holds no cycles, so nothing is lost by not looking; ``gc.freeze()`` keeps
    later full collections from walking it again (the data service freezes what exists at start-up likewise).
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(1 << 30, *thresholds[1:])  # the GUI thread's collector checks against these too
    try:
        yield
    finally:
        gc.freeze()
        gc.set_threshold(*thresholds)


async def load_kubeconfig_async(path: str | None = None, extra_paths: Sequence[str] = ()) -> Kubeconfig:
    """:func:`load_kubeconfig` in a worker thread, the collector paused meanwhile: the event loop (the window) keeps
    turning while a large file is read and parsed (10 MB took 7.5 s on the GUI thread)."""
    with collector_paused():
        return await asyncio.to_thread(load_kubeconfig, path, list(extra_paths))


def search_dirs() -> list[str]:
    """Directories searched for exec plugins after PATH (desktop launchers often have a minimal PATH)."""
    home = Path.home()
    return [
        "/usr/local/bin",
        str(home / ".local" / "bin"),
        str(home / "bin"),
        "/opt/homebrew/bin",
        str(home / ".krew" / "bin"),
        str(home / "google-cloud-sdk" / "bin"),
        "/usr/lib/google-cloud-sdk/bin",
        "/opt/google-cloud-sdk/bin",
        "/snap/google-cloud-cli/current/bin",
        "/snap/bin",
    ]


def find_executable(command: str) -> str | None:
    """Locate an exec plugin: an absolute/relative path as is, else PATH, then :func:`search_dirs`."""
    if not command:
        return None
    if os.sep in command:
        return command if os.path.isfile(command) and os.access(command, os.X_OK) else None
    found = shutil.which(command)
    if found:
        return found
    return shutil.which(command, path=os.pathsep.join(search_dirs()))
