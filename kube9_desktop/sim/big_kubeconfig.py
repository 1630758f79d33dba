"""A kubeconfig of many contexts (each with its cluster and a token user), for the tests and the benchmark of
loading a large kubeconfig (issue 9 item 20: 10 MB took 7.5 s on the GUI thread). No cluster answers at its
servers: it is read, never connected to."""

from __future__ import annotations

from pathlib import Path


def write_big_kubeconfig(path: Path, contexts: int) -> int:
    """Writes a kubeconfig of ``contexts`` contexts (``c0``… current ``c0``; about 560 bytes a context) to ``path``
    and returns its size in bytes."""
    token = "t" * 400
    parts = ["apiVersion: v1\nkind: Config\ncurrent-context: c0\nclusters:\n"]
    parts += [f"- name: cl{i}\n  cluster:\n    server: https://10.0.{i // 250}.{i % 250}:6443\n"
              for i in range(contexts)]
    parts.append("users:\n")
    parts += [f"- name: u{i}\n  user:\n    token: {token}{i}\n" for i in range(contexts)]
    parts.append("contexts:\n")
    parts += [f"- name: c{i}\n  context:\n    cluster: cl{i}\n    user: u{i}\n" for i in range(contexts)]
    path.write_text("".join(parts))
    return path.stat().st_size
