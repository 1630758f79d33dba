"""The command registry, addresses and the runner's line parsing (no cluster needed: a real service object over a
kubeconfig that is never contacted)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from kube9_desktop.commands.address import parse_address, resolve_kind, split_context
from kube9_desktop.commands.registry import (
    Access,
    Command,
    CommandError,
    Invocation,
    Registry,
    Result,
    Selection,
    Target,
)
from kube9_desktop.commands.runner import parse_line, run_command, run_line, summarize
from kube9_desktop.kube.kinds import KINDS
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.service import KubeService

KUBECONFIG = {
    "apiVersion": "v1", "kind": "Config", "current-context": "dev",
    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
    "users": [{"name": "u", "user": {"token": "t"}}],
    "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "u"}},
                 {"name": "arn:aws:eks:eu-west-1:1:cluster/prod", "context": {"cluster": "c", "user": "u"}}],
}


@pytest.fixture()
def service(tmp_path: Path) -> KubeService:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(KUBECONFIG))
    return KubeService(load_kubeconfig(str(path)))


class Port:
    interactive = False

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.questions: list[str] = []
        self.told: list[str] = []

    async def confirm(self, question: str, *, destructive: bool = True, type_to_confirm: str | None = None,
                      **_options: Any) -> bool:
        self.questions.append(question)
        return self.answer

    async def ask_int(self, question: str, default: int, minimum: int = 0, maximum: int = 1_000_000) -> int | None:
        return default

    def tell(self, text: str) -> None:
        self.told.append(text)

    def open_view(self, view: str, payload: Any) -> bool:
        return False


class Denier:
    def __init__(self) -> None:
        self.asked: list[tuple[str, Access, str | None]] = []

    async def denied(self, context: str, access: Access, namespace: str | None) -> str | None:
        self.asked.append((context, access, namespace))
        return f"You may not {access.describe(namespace)}"


def make_registry() -> tuple[Registry, list[Invocation]]:
    reg = Registry()
    calls: list[Invocation] = []

    async def handler(inv: Invocation) -> Result:
        calls.append(inv)
        return Result.success(f"did {inv.command.id} on {len(inv.targets)}")

    def replicas(p: argparse.ArgumentParser) -> None:
        p.add_argument("replicas", type=int)

    reg.register(Command("scale", "Scale…", handler, kinds=frozenset({"deployments", "statefulsets"}),
                         params=replicas, needs=Access("update", subresource="scale")))
    reg.register(Command("delete", "Delete", handler, selection=Selection.MULTI, destructive=True,
                         needs=Access("delete"), shortcut="Del"))
    reg.register(Command("overview", "Overview", handler, selection=Selection.NONE))
    return reg, calls


@pytest.mark.parametrize("token,key", [("deploy", "deployments"), ("Deployment", "deployments"),
                                       ("deployments", "deployments"), ("deployments.apps", "deployments"),
                                       ("po", "pods"), ("pod", "pods"), ("svc", "services"), ("no", "nodes")])
def test_kinds_resolve_as_kubectl_resolves_them(token: str, key: str) -> None:
    assert resolve_kind(token, KINDS.values()).key == key


def test_an_unknown_kind_says_how_to_write_one() -> None:
    with pytest.raises(CommandError, match="unknown kind 'widgets'"):
        resolve_kind("widgets", KINDS.values())


def test_addresses_take_a_context_that_holds_colons_and_slashes() -> None:
    ctxs = ["dev", "arn:aws:eks:eu-west-1:1:cluster/prod"]
    assert split_context("arn:aws:eks:eu-west-1:1:cluster/prod:team-a/po/x", ctxs) == (
        "arn:aws:eks:eu-west-1:1:cluster/prod", "team-a/po/x")
    t = parse_address("arn:aws:eks:eu-west-1:1:cluster/prod:team-a/deploy/api", default_context="dev",
                      contexts=ctxs, kinds=KINDS.values())
    assert (t.context, t.namespace, t.kind.key, t.name) == ("arn:aws:eks:eu-west-1:1:cluster/prod", "team-a",
                                                            "deployments", "api")
    n = parse_address("node/worker-1", default_context="dev", contexts=ctxs, kinds=KINDS.values())
    assert (n.context, n.namespace, n.kind.key) == ("dev", None, "nodes")


@pytest.mark.parametrize("bad", ["team-a/pods", "a/b/c/d", "team-a//x", "nodes/x/y"])
def test_bad_addresses_are_refused_with_the_form_to_use(bad: str) -> None:
    with pytest.raises(CommandError):
        parse_address(bad, default_context="dev", contexts=["dev"], kinds=KINDS.values())


def test_registry_refuses_duplicate_ids_and_shortcuts() -> None:
    reg, _ = make_registry()

    async def h(inv: Invocation) -> Result:
        return Result.success()

    with pytest.raises(ValueError, match="twice"):
        reg.register(Command("scale", "x", h))
    with pytest.raises(ValueError, match="shortcut"):
        reg.register(Command("remove", "x", h, shortcut="Del"))


def test_applicable_follows_kinds_and_selection_size() -> None:
    reg, _ = make_registry()
    dep = Target("dev", KINDS["deployments"], "team-a", "api")
    pod = Target("dev", KINDS["pods"], "team-a", "p")
    assert [c.id for c in reg.applicable([dep])] == ["scale", "delete"]
    assert [c.id for c in reg.applicable([pod])] == ["delete"]
    assert [c.id for c in reg.applicable([dep, dep])] == ["delete"]
    assert [c.id for c in reg.applicable([])] == ["overview"]


def test_parse_line_reads_targets_and_arguments(service: KubeService) -> None:
    reg, _ = make_registry()
    cmd, targets, args = parse_line("scale team-a/deploy/api 5", service=service, context="dev", registry=reg)
    assert cmd.id == "scale" and targets[0].name == "api" and args.replicas == 5
    cmd, targets, _ = parse_line("delete team-a/po/a team-a/pod/b", service=service, context="dev", registry=reg)
    assert [t.name for t in targets] == ["a", "b"]
    with pytest.raises(CommandError, match="applies to deployments, statefulsets, not pods"):
        parse_line("scale team-a/po/a 3", service=service, context="dev", registry=reg)
    with pytest.raises(CommandError, match="replicas"):
        parse_line("scale team-a/deploy/api", service=service, context="dev", registry=reg)
    with pytest.raises(CommandError, match="invalid int"):
        parse_line("scale team-a/deploy/api five", service=service, context="dev", registry=reg)
    with pytest.raises(CommandError, match=r"unbalanced|quotation"):
        parse_line("scale 'team-a/deploy/api 5", service=service, context="dev", registry=reg)


def test_a_destructive_command_runs_only_when_confirmed(service: KubeService) -> None:
    reg, calls = make_registry()
    no, yes = Port(False), Port(True)
    r = asyncio.run(run_line("delete team-a/po/a team-a/po/b", service=service, context="dev", ui=no, registry=reg))
    assert not r.ok and not calls and no.questions == ["Delete 2 pods in team-a?"]
    r = asyncio.run(run_line("delete team-a/po/a", service=service, context="dev", ui=yes, registry=reg))
    assert r.ok and len(calls) == 1 and yes.questions == ["Delete pod a in team-a?"]


def test_a_denied_command_says_why_and_never_runs(service: KubeService) -> None:
    reg, calls = make_registry()
    denier = Denier()
    cmd, targets, args = parse_line("delete team-a/po/a", service=service, context="dev", registry=reg)
    r = asyncio.run(run_command(cmd, targets, args, service=service, context="dev", ui=Port(True), access=denier))
    assert not r.ok and r.message == "You may not delete pods in team-a" and not calls
    assert denier.asked[0][1] == Access("delete", "pods", "", "")


def test_summaries_read_like_questions() -> None:
    reg, _ = make_registry()
    dele = reg.get("delete")
    pods = [Target("dev", KINDS["pods"], "team-a", f"p{i}") for i in range(12)]
    assert summarize(dele, pods) == "Delete 12 pods in team-a"
    mixed = [*pods[:1], Target("dev", KINDS["services"], "team-b", "s")]
    assert summarize(dele, mixed) == "Delete 2 objects"


def test_run_help_lists_commands_headless() -> None:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "kube9_desktop", "--run", "help"], capture_output=True, text=True,
                       timeout=60, check=False)
    assert r.returncode == 0 and "help [command]" in r.stdout
    r = subprocess.run([sys.executable, "-m", "kube9_desktop", "--run", "no-such-command"], capture_output=True,
                       text=True, timeout=60, check=False)
    assert r.returncode == 2 and "unknown command 'no-such-command'" in r.stderr


def test_run_help_into_a_closed_pipe_ends_without_a_traceback() -> None:
    """``kube9-desktop --run help | head -1``: the reader stops early; the run ends with SIGPIPE's status, quietly."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line is written
    try:
        r = subprocess.run([sys.executable, "-m", "kube9_desktop", "--run", "help"], stdout=write,
                           stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    finally:
        os.close(write)
    assert r.returncode == 141 and "Traceback" not in r.stderr, r.stderr
