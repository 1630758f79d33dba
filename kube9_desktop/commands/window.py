"""Commands about what the user sees: copy names and YAML, refresh, the command palette.

In the window each opens a view (``clipboard``, ``refresh``, ``palette``); headless ``--run`` prints the text a
window would copy, so ``--run 'copy-name team-a/pod/a team-a/pod/b'`` is still useful in scripts.
"""

from __future__ import annotations

import argparse

from kube9_desktop.commands.registry import Access, Invocation, Result, Selection, Target, command


def kubectl_get(targets: list[Target], output: str) -> str:
    """``kubectl get pods a b -n team-a -o name --context ctx`` for targets of one kind and namespace."""
    t = targets[0]
    kind = t.kind.plural + (f".{t.kind.group}" if t.kind.group else "")
    names = " ".join(x.name for x in targets)
    spaces = {x.namespace for x in targets}
    ns = f" -n {t.namespace}" if len(spaces) == 1 and t.namespace else ""
    return f"kubectl get {kind} {names}{ns} -o {output} --context {t.context}"


@command("copy-name", "Copy name", selection=Selection.MULTI, menu="Copy", shortcut="Ctrl+Shift+C",
         help="Copy the selected objects' names (one a line).",
         kubectl=lambda targets, _args: kubectl_get(targets, "name"))
async def copy_name(inv: Invocation) -> Result:
    """The names of the targets, one a line."""
    text = "\n".join(t.name for t in inv.targets)
    if inv.ui.open_view("clipboard", text):
        return Result.success()
    return Result.success(text)


@command("copy-address", "Copy address", selection=Selection.MULTI, menu="Copy",
         help="Copy the objects' addresses as --run and the command line take them (team-a/pods/api-1).")
async def copy_address(inv: Invocation) -> Result:
    """The ``namespace/kind/name`` of the targets, one a line."""
    text = "\n".join(t.address for t in inv.targets)
    if inv.ui.open_view("clipboard", text):
        return Result.success()
    return Result.success(text)


def _copy_yaml_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reveal", action="store_true", help="include a Secret's values in clear text")


@command("copy-yaml", "Copy YAML", selection=Selection.SINGLE, menu="Copy", params=_copy_yaml_params,
         needs=Access("get"), help="Copy the object's YAML as the server has it now (Secret values masked unless "
                                   "--reveal, which asks first).",
         kubectl=lambda targets, _args: kubectl_get(targets, "yaml"))
async def copy_yaml(inv: Invocation) -> Result:
    """Fetch the object fresh and copy (window) or print (headless) its YAML."""
    from kube9_desktop.kube.secret_mask import mask_secret
    from kube9_desktop.ui.details import is_secret_object, to_yaml

    t = inv.target
    obj = await inv.service.get(t.context, t.kind.key, t.namespace, t.name)
    if is_secret_object(obj):
        if t.kind.kind != "Secret":
            return Result.failure(f"The server answered the request for {t.describe()} with a Secret; not copied.")
        if not inv.args.reveal:
            obj = mask_secret(obj)
        elif not await inv.ui.confirm("The YAML contains the Secret's values in clear text; other programs can "
                                      "read the clipboard. Copy anyway?", destructive=False):
            return Result.failure("Not copied.")
    text = to_yaml(obj)
    if inv.ui.open_view("clipboard", text):
        return Result.success()
    return Result.success(text.rstrip("\n"))


@command("refresh", "Refresh everything", selection=Selection.NONE, menu="View", shortcut="F5", icon="refresh",
         help="Reload everything shown in this context (expansion and selection are kept).")
async def refresh(inv: Invocation) -> Result:
    """The window reloads what it shows; headless drops the cached lists of the context."""
    if inv.ui.open_view("refresh", None):
        return Result.success()
    inv.service.invalidate(inv.context)
    return Result.success(f"Cached lists of {inv.context} dropped.")


@command("reload", "Refresh", selection=Selection.MULTI, menu="View",
         help="Reload the selected objects' rows (the lists they are in) and their details.")
async def reload(inv: Invocation) -> Result:
    """Reload the targets' rows; headless, drop the cached lists they are in."""
    if inv.ui.open_view("refresh", list(inv.targets)):
        return Result.success()
    for t in inv.targets:
        inv.service.invalidate(t.context, t.kind.key, t.namespace)
    return Result.success(f"Cached lists of {len(inv.targets)} object(s) dropped.")


@command("apply-yaml", "Create / Apply from YAML…", selection=Selection.NONE, menu="Change",
         help="Paste YAML or open a file (several documents), see a server-side dry run, then apply (window).",
         kubectl=lambda _targets, _args: "kubectl apply --server-side --field-manager=kube9-desktop -f FILE")
async def apply_yaml(inv: Invocation) -> Result:
    """Open the Create / Apply pane."""
    if inv.ui.open_view("apply", None):
        return Result.success()
    return Result.failure("Create / Apply from YAML is part of the window; headless, use `apply FILE`.")


@command("palette", "Command palette", selection=Selection.NONE, menu="View", shortcut="Ctrl+Shift+P",
         palette=False, help="Search the commands that apply to the selection (window only).")
async def palette(inv: Invocation) -> Result:
    """Open the command palette."""
    if inv.ui.open_view("palette", None):
        return Result.success()
    return Result.failure("The command palette is part of the window; `--run help` lists the commands.")


@command("command-line", "Command line", selection=Selection.NONE, menu="View", shortcut=":", palette=False,
         help="Type a command line as --run takes it (scale team-a/deploy/api 5) (window only).")
async def command_line(inv: Invocation) -> Result:
    """Open the palette as a command line."""
    if inv.ui.open_view("palette", ":"):
        return Result.success()
    return Result.failure("The command line is part of the window; use --run 'COMMAND ...'.")
