"""Commands on any object: delete, edit (YAML), apply (server-side, from a file or stdin)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from kube9_desktop.commands.common import failed, grouped, joined, kubectl
from kube9_desktop.commands.registry import (
    REGISTRY,
    Access,
    CommandError,
    Invocation,
    Result,
    Selection,
    Target,
    command,
)
from kube9_desktop.commands.runner import known_kinds, summarize
from kube9_desktop.kube.errors import KubeError

# kube.edit and kube.manifests (the YAML round trip) and kube.writes (with orjson and the status errors) are imported
# when a command edits, applies or names its field manager: the families are imported before the window's first
# paint.


# -- delete ----------------------------------------------------------------------------------------------------------
def _delete_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("--grace-period", type=int, default=None, metavar="N",
                   help="seconds the pods get to stop (default: each pod's own)")
    p.add_argument("--force", action="store_true",
                   help="remove at once, without waiting for the kubelet (a pod stuck Terminating)")


def _grace(args: argparse.Namespace) -> int | None:
    grace: int | None = args.grace_period
    return 0 if args.force and grace is None else grace


def delete_line(targets: list[Target], args: argparse.Namespace) -> str:
    """``kubectl delete pods/a pods/b -n team-a --context c [--grace-period=N] [--force]``."""
    grace = _grace(args)
    flags = [f"--grace-period={grace}"] if grace is not None else []
    if args.force:
        flags.append("--force")
    return joined(kubectl("delete", *[f"{t.kind.kubectl_resource}/{t.name}" for t in ts], *flags, namespace=ns,
                          context=ts[0].context) for ns, ts in grouped(targets))


def delete_question(targets: Sequence[Target]) -> tuple[str, str | None]:
    """The delete confirmation: a namespace takes everything in it, so its name must be typed."""
    spaces = [t.name for t in targets if t.kind.key == "namespaces"]
    if not spaces:
        return summarize(REGISTRY.get("delete"), targets) + "?", None
    names = " ".join(spaces)
    what = f"namespace {names}" if len(spaces) == 1 else f"{len(spaces)} namespaces ({names})"
    others = len(targets) - len(spaces)
    more = f" and {others} other object{'s' if others != 1 else ''}" if others else ""
    pronoun = "it" if len(spaces) == 1 else "them"
    return f"Delete {what}{more} and everything in {pronoun}? Type {names} to confirm.", names


@command("delete", "Delete…", selection=Selection.MULTI, destructive=True, shortcut="Del", icon="delete",
         needs=Access("delete"), params=_delete_params, menu="Change", kubectl=delete_line, question=delete_question,
         help="Delete objects (their dependents follow); a namespace asks for its name to be typed.")
async def delete(inv: Invocation) -> Result:
    """Delete every target (propagation Background), one request each; failures are reported per object."""
    grace = _grace(inv.args)
    if grace is not None and grace < 0:
        raise CommandError("delete: --grace-period must be 0 or more")
    writes = inv.service.writes
    done: list[str] = []
    problems: list[str] = []
    for t in inv.targets:
        try:
            obj = await writes.delete(inv.context, t.kind, t.namespace, t.name, grace_period=grace,
                                      propagation="Background")
        except KubeError as err:
            problems.append(failed(t, err))
            if len(inv.targets) > 1:
                inv.ui.tell(f"Not deleted: {failed(t, err)}")
            continue
        md = obj.get("metadata") or {}
        note = ""
        if obj.get("kind") != "Status" and md.get("deletionTimestamp") and grace != 0:
            secs = md.get("deletionGracePeriodSeconds")
            note = f" (terminating, {secs} s grace period)" if secs is not None else " (terminating)"
        done.append(f"Deleted {t.describe()}{note}.")
        if len(inv.targets) > 1:
            inv.ui.tell(done[-1])
    line = delete_line(inv.targets, inv.args)
    if problems:
        head = f"Deleted {len(done)} of {len(inv.targets)}; not deleted:" if done else "Nothing deleted:"
        return Result.failure("\n".join([head, *problems]), kubectl=line)
    message = done[0] if len(done) == 1 else f"Deleted {len(done)} objects."
    return Result.success(message, kubectl=line)


def _forced() -> argparse.Namespace:
    """``delete``'s arguments for ``--force`` (grace period 0)."""
    return argparse.Namespace(grace_period=0, force=True)


def force_delete_question(targets: Sequence[Target]) -> tuple[str, str | None]:
    """Says what forcing means: the API forgets the pod at once, its containers may still run on the node."""
    them = "it is" if len(targets) == 1 else "they are"
    return (f"{summarize(REGISTRY.get('force-delete'), targets)}? {them.capitalize()} removed at once, without "
            "waiting for the containers to stop (they may keep running on the node for a while).", None)


# The window's Delete asks no options: this is how a pod stuck Terminating is removed from the menus and the palette
# (``delete --force`` on the command line is the same).
@command("force-delete", "Force delete…", kinds=frozenset({"pods"}), selection=Selection.MULTI, destructive=True,
         shortcut="Shift+Del", icon="delete", needs=Access("delete"), menu="Change", question=force_delete_question,
         kubectl=lambda ts, _a: delete_line(ts, _forced()),
         help="Remove pods at once, without waiting for them to stop (a pod stuck Terminating): delete --force.")
async def force_delete(inv: Invocation) -> Result:
    """``delete`` with grace period 0 and ``--force``."""
    return await delete(dataclasses.replace(inv, args=_forced()))


# -- edit ------------------------------------------------------------------------------------------------------------
def _edit_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reveal", action="store_true", help="print a Secret's values in clear text (asks first)")
    p.add_argument("--from", dest="source", metavar="FILE",
                   help="replace the object with this YAML (the resourceVersion in it is the precondition; "
                        "'-' reads stdin); without it the object's YAML is printed for editing")


def edit_line(targets: list[Target], args: argparse.Namespace) -> str:
    """``kubectl edit deployments.apps/api -n team-a --context c``."""
    t = targets[0]
    return kubectl("edit", f"{t.kind.kubectl_resource}/{t.name}", namespace=t.namespace, context=t.context)


@command("edit", "Edit YAML…", shortcut="E", icon="edit", needs=Access("update"), params=_edit_params,
         menu="Change", kubectl=edit_line,
         help="Edit an object's YAML; applied with the resourceVersion it was opened at.")
async def edit_command(inv: Invocation) -> Result:
    """Window: the YAML editor. Headless: print the YAML, or put ``--from FILE`` back (409/422 explained)."""
    from kube9_desktop.kube import edit

    t = inv.target
    line = edit_line(inv.targets, inv.args)
    if inv.args.source is None:
        if inv.ui.open_view("edit", t):
            return Result.success(kubectl=line)
        if inv.args.reveal and t.kind.kind == "Secret" and not await inv.ui.confirm(
                "The YAML shows the Secret's values in clear text. Print it anyway?", destructive=False):
            return Result.failure("Not shown.")
        doc = await edit.load(inv.service, t.context, t.kind, t.namespace, t.name, reveal=inv.args.reveal)
        return Result.success(doc.text.rstrip("\n"), kubectl=line, data=doc)
    text = await _read_source(inv.args.source)
    outcome = await edit.save(inv.service, t.context, t.kind, t.namespace, t.name, text)
    if outcome.ok:
        return Result.success(outcome.message, kubectl=line, data=outcome)
    return Result.failure(outcome.text(), kubectl=line, data=outcome)


async def _read_source(source: str) -> str:
    if source == "-":
        return await asyncio.to_thread(sys.stdin.read)
    try:
        return await asyncio.to_thread(Path(source).read_text, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {source}: {getattr(exc, 'strerror', None) or exc}") from None


# -- apply -----------------------------------------------------------------------------------------------------------
def _apply_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="a YAML file (several documents allowed), or '-' for stdin")
    p.add_argument("--force-conflicts", action="store_true",
                   help="take over fields other managers own (only when you mean to)")
    p.add_argument("--dry-run", action="store_true", help="only show what would change")
    p.add_argument("-n", "--namespace", default=None, help="namespace for documents that name none")


def apply_line(targets: list[Target], args: argparse.Namespace, context: str | None = None) -> str:
    """``kubectl apply --server-side --field-manager=kube9-desktop -f FILE [--force-conflicts]``."""
    from kube9_desktop.kube.writes import FIELD_MANAGER

    flags = ["--force-conflicts"] if args.force_conflicts else []
    if args.dry_run:
        flags.append("--dry-run=server")
    return kubectl("apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", args.file, *flags,
                   namespace=args.namespace, context=context)


# No ``needs``: what apply may do depends on each document's kind and namespace; a refused document is reported
# with the server's 403, worded like every other refusal.
@command("apply", "Apply YAML file", selection=Selection.NONE, icon="apply", params=_apply_params, menu="Change",
         kubectl=apply_line,
         help="Server-side apply of a YAML file: a dry run is shown first, then the change is made.")
async def apply_command(inv: Invocation) -> Result:
    """Dry run every document (``dryRun=All``), show the outcome, then apply (fieldManager=kube9-desktop)."""
    from kube9_desktop.kube import edit, manifests

    args = inv.args
    line = apply_line([], args, inv.context)
    if args.file != "-" and inv.ui.open_view("apply", {"path": args.file, "namespace": args.namespace}):
        return Result.success(kubectl=line)
    text = await _read_source(args.file)
    try:
        docs = manifests.parse_documents(text)
    except manifests.ManifestError as err:
        where = f" (line {err.line})" if err.line else ""
        return Result.failure(f"{args.file}{where}: {err}", exit_code=2, kubectl=line)
    if not docs:
        return Result.failure(f"{args.file}: no objects in it", exit_code=2, kubectl=line)
    kinds = known_kinds(inv.service, inv.context)
    if any("." in str(d.get("apiVersion", "")).split("/")[0] for d in docs):
        try:
            kinds += await inv.service.custom_kinds(inv.context)
        except KubeError:
            pass  # built-in kinds still apply; an unknown one is reported per document
    namespace = args.namespace or _default_namespace(inv)
    plan = await edit.apply_all(inv.service, inv.context, docs, kinds, namespace=namespace, dry_run=True,
                                force=args.force_conflicts, text=text)
    for step in plan:
        inv.ui.tell("dry run: " + step.line())
    if not all(s.ok for s in plan):
        bad = [s for s in plan if not s.ok]
        conflict = any(s.status == 409 for s in bad)
        hint = "\nAdd --force-conflicts to take those fields over." if conflict and not args.force_conflicts else ""
        return Result.failure(f"Nothing applied: {len(bad)} of {len(plan)} objects would fail.{hint}",
                              kubectl=line, data=plan)
    if args.dry_run:
        return Result.success(f"Dry run: {len(plan)} objects checked, nothing changed.", kubectl=line, data=plan)
    if not await inv.ui.confirm(f"Apply {len(plan)} object{'s' if len(plan) != 1 else ''} as shown?",
                                destructive=False):
        return Result.failure("Not applied (not confirmed).", kubectl=line, data=plan)
    done = await edit.apply_all(inv.service, inv.context, docs, kinds, namespace=namespace, dry_run=False,
                                force=args.force_conflicts, text=text)
    for step in done:
        inv.ui.tell(step.line())
    if not all(s.ok for s in done):
        return Result.failure(f"Applied {sum(s.ok for s in done)} of {len(done)} objects.", kubectl=line, data=done)
    return Result.success(f"Applied {len(done)} object{'s' if len(done) != 1 else ''}.", kubectl=line, data=done)


def _default_namespace(inv: Invocation) -> str:
    try:
        return inv.service.kubeconfig.context(inv.context).namespace or "default"
    except KubeError:
        return "default"

