"""Commands about commands: ``help``."""

from __future__ import annotations

import argparse

from kube9_desktop.commands.registry import REGISTRY, Invocation, Result, Selection, command


def _help_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("command", nargs="?", help="a command to describe")


@command("help", "Help: list commands", selection=Selection.NONE, params=_help_params, menu="Help",
         help="List the commands, or describe one: help scale.")
async def help_command(inv: Invocation) -> Result:
    """List every command with its usage, or describe one."""
    if inv.args.command:
        cmd = REGISTRY.get(inv.args.command)
        lines = [f"{cmd.usage()}", f"  {cmd.help}" if cmd.help else ""]
        if cmd.kinds:
            lines.append(f"  applies to: {', '.join(sorted(cmd.kinds))}")
        if cmd.shortcut:
            lines.append(f"  shortcut: {cmd.shortcut}")
        if cmd.destructive:
            lines.append("  destructive: asks first (headless: --yes)")
        if cmd.params:
            parser = cmd.parser()
            parser.description = None
            lines.append(parser.format_help().split("\n", 1)[1].strip())
        return Result.success("\n".join(x for x in lines if x))
    width = max(len(c.usage()) for c in REGISTRY.all())
    lines = ["Commands (run with --run 'COMMAND ...'; objects as [context:]namespace/kind/name):"]
    for c in REGISTRY.all():
        lines.append(f"  {c.usage():<{width}}  {c.help or c.title}")
    return Result.success("\n".join(lines))
