"""Kubeconfig loading and merging (no cluster needed)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kubeconfig import find_executable, load_kubeconfig


def _cfg(ctx: str, server: str, current: str | None = None, ns: str | None = None, **user: object) -> dict:
    c: dict = {"cluster": f"{ctx}-cluster", "user": f"{ctx}-user"}
    if ns:
        c["namespace"] = ns
    cfg: dict = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": f"{ctx}-cluster", "cluster": {"server": server}}],
        "users": [{"name": f"{ctx}-user", "user": dict(user) or {"token": "t"}}],
        "contexts": [{"name": ctx, "context": c}],
    }
    if current:
        cfg["current-context"] = current
    return cfg


def _write(p: Path, data: object) -> str:
    p.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return str(p)


def test_kubeconfig_env_merge_first_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = _cfg("one", "https://a.example:6443", current="one", ns="apps")
    a["clusters"].append({"name": "shared", "cluster": {"server": "https://first.example"}})
    b = _cfg("two", "https://b.example:6443", current="two")
    b["clusters"].append({"name": "shared", "cluster": {"server": "https://second.example"}})
    b["contexts"].append({"name": "one", "context": {"cluster": "shared", "user": "two-user"}})  # loses to a
    b["contexts"].append({"name": "three", "context": {"cluster": "shared", "user": "two-user"}})
    pa, pb = _write(tmp_path / "a", a), _write(tmp_path / "b", b)
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([pa, pb]))
    kc = load_kubeconfig()
    assert kc.problems == []
    assert kc.names() == ["one", "two", "three"]
    assert kc.current_context == "one"  # from the first file that sets it
    one = kc.context("one")
    assert (one.server, one.namespace, one.auth, one.source) == ("https://a.example:6443", "apps", "token", pa)
    assert kc.context("three").server == "https://first.example"  # first file's "shared" cluster wins
    assert kc.context("two").namespace == "default"
    assert kc.sources == [pa, pb]


def test_explicit_path_ignores_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pa = _write(tmp_path / "a", _cfg("one", "https://a.example", current="one"))
    pb = _write(tmp_path / "b", _cfg("two", "https://b.example", current="two"))
    monkeypatch.setenv("KUBECONFIG", pa)
    kc = load_kubeconfig(pb)
    assert kc.names() == ["two"] and kc.current_context == "two"
    # extra paths from settings merge after, first wins
    kc = load_kubeconfig(pb, extra_paths=[pa])
    assert kc.names() == ["two", "one"] and kc.current_context == "two"


def test_default_home_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".kube").mkdir()
    _write(tmp_path / ".kube" / "config", _cfg("home", "https://h.example", current="home"))
    kc = load_kubeconfig()
    assert kc.names() == ["home"] and kc.current_context == "home"


def test_broken_files_become_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = _write(tmp_path / "good", _cfg("ok", "https://ok.example", current="missing-ctx"))
    notyaml = _write(tmp_path / "bad-yaml", "clusters: [\n  - name: x\n   bad")
    shape = _write(tmp_path / "shape", "- just\n- a list\n")
    dangling = _cfg("dangling", "https://d.example")
    dangling["contexts"].append({"name": "nouser", "context": {"cluster": "dangling-cluster", "user": "ghost"}})
    dangling["contexts"].append({"name": "nocluster", "context": {"cluster": "ghost", "user": "dangling-user"}})
    pd = _write(tmp_path / "dangling", dangling)
    missing = str(tmp_path / "does-not-exist")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([good, notyaml, shape, missing, pd]))
    kc = load_kubeconfig()
    assert kc.names() == ["ok", "dangling"]
    text = "\n".join(p.message for p in kc.problems)
    assert all(p.kind is ErrorKind.KUBECONFIG for p in kc.problems)
    assert f"{notyaml}: is not valid YAML" in text
    assert f"{shape}: is not a kubeconfig" in text
    assert f"{missing}: the file does not exist" in text
    assert "'nouser' names user 'ghost'" in text and "'nocluster' names cluster 'ghost'" in text
    assert "current-context 'missing-ctx'" in text
    assert kc.current_context is None
    with pytest.raises(KubeError) as ei:
        kc.context("nouser")
    assert ei.value.kind is ErrorKind.KUBECONFIG and "ghost" in ei.value.message
    with pytest.raises(KubeError) as ei:
        kc.context("nope")
    assert ei.value.kind is ErrorKind.KUBECONFIG


def test_relative_paths_resolved_and_auth_kinds(tmp_path: Path) -> None:
    sub = tmp_path / "conf"
    sub.mkdir()
    cfg = {
        "apiVersion": "v1", "kind": "Config", "current-context": "c1",
        "clusters": [{"name": "cl", "cluster": {"server": "https://x", "certificate-authority": "ca.crt",
                                                "insecure-skip-tls-verify": True}}],
        "users": [
            {"name": "cert", "user": {"client-certificate": "u.crt", "client-key": "u.key"}},
            {"name": "tf", "user": {"tokenFile": "tok"}},
            {"name": "ex", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1",
                                             "command": "./bin/plugin"}}},
            {"name": "oidc", "user": {"auth-provider": {"name": "oidc", "config": {}}}},
            {"name": "basic", "user": {"username": "a", "password": "b"}},
        ],
        "contexts": [{"name": f"c-{u}", "context": {"cluster": "cl", "user": u}}
                     for u in ("cert", "tf", "ex", "oidc", "basic")] + [
            {"name": "c-none", "context": {"cluster": "cl"}}],
    }
    kc = load_kubeconfig(_write(sub / "config", cfg))
    assert [c.auth for c in kc.contexts] == ["client-cert", "token-file", "exec", "oidc", "basic", "none"]
    assert kc.context("c-ex").exec_command == str(sub / "bin" / "plugin")
    assert kc.context("c-cert").insecure is True
    cd = kc.config_for("c-cert")
    assert cd["clusters"][0]["cluster"]["certificate-authority"] == str(sub / "ca.crt")
    assert cd["users"][0]["user"]["client-key"] == str(sub / "u.key")
    assert kc.config_for("c-tf")["users"][0]["user"]["tokenFile"] == str(sub / "tok")
    assert "merged" not in repr(kc)  # repr never dumps the merged dict (it holds credentials)


def test_find_executable_searches_extra_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", "/nonexistent")
    bindir = tmp_path / ".krew" / "bin"
    bindir.mkdir(parents=True)
    plugin = bindir / "kubectl-oidc_login"
    plugin.write_text("#!/bin/sh\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    assert find_executable("kubectl-oidc_login") == str(plugin)
    assert find_executable("surely-not-installed-kube9") is None
    assert find_executable(str(plugin)) == str(plugin)


def test_binary_files_are_reported_and_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A binary (non-UTF-8) file, alone, among KUBECONFIG's files or among the settings' extra files, is one problem
    naming the file; the good files still load (it ended the app with a UnicodeDecodeError)."""
    good = _write(tmp_path / "good", _cfg("ok", "https://ok.example", current="ok"))
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(bytes(range(256)) * 16)
    alone = load_kubeconfig(str(garbage))
    assert alone.names() == [] and len(alone.problems) == 1
    assert alone.problems[0].message.startswith(f"{garbage}: is not a text file")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(garbage), good]))
    merged = load_kubeconfig()
    assert merged.names() == ["ok"] and [str(garbage) in p.message for p in merged.problems] == [True]
    extra = load_kubeconfig(good, extra_paths=[str(garbage)])
    assert extra.names() == ["ok"] and [str(garbage) in p.message for p in extra.problems] == [True]


def test_only_regular_files_of_sane_size_are_read(tmp_path: Path) -> None:
    """/dev/zero read until MemoryError; a FIFO would block the open forever; a huge file is refused unread."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    huge = tmp_path / "huge"
    with open(huge, "wb") as f:  # sparse: 17 MB of spaces' worth without writing them
        f.truncate(17 * 1024 * 1024)
    for path, why in (("/dev/zero", "not a regular file"), (str(fifo), "not a regular file"),
                      (str(tmp_path), "a directory"), (str(huge), "larger than 16 MB")):
        kc = load_kubeconfig(path)
        assert len(kc.problems) == 1 and kc.problems[0].message.startswith(f"{path}: is {why}")


def test_unknown_context_says_why_first(tmp_path: Path) -> None:
    """With --context, a missing, non-YAML or list-shaped file was reported only as "no context named 'x'"."""
    notyaml = _write(tmp_path / "bad.yaml", "clusters: [\n  - name: x\n   bad")
    listy = _write(tmp_path / "list.yaml", "- just\n- a list\n")
    missing = str(tmp_path / "missing.yaml")
    for path, why in ((notyaml, "is not valid YAML (line"), (listy, "its top level is a list"),
                      (missing, "the file does not exist")):
        with pytest.raises(KubeError) as ei:
            load_kubeconfig(path).context("x")
        msg = ei.value.message
        assert f"{path}: " in msg and why in msg and "no context named 'x'" in msg
        assert msg.index(why) < msg.index("no context named")


def test_large_kubeconfig_uses_the_c_loader() -> None:
    """libyaml's loader (when PyYAML has it) parses a 10 MB kubeconfig about ten times faster than the Python one."""
    from kube9_desktop.kube import kubeconfig

    assert kubeconfig._yaml_loader() is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)
