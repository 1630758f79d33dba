"""Commands about commands: ``help``."""

from __future__ import annotations

import argparse

from kube9_desktop.commands.registry import REGISTRY, Invocation, Result, Selection, command


def _help_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("command", nargs="?", help="a command to describe")


#: Usages up to this long share their line with the help text in ``--run help``.
USAGE_WIDTH = 40


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
    # A command with many options has a long usage: it gets its own line instead of widening every row.
    width = max((len(u) for u in (c.usage() for c in REGISTRY.all()) if len(u) <= USAGE_WIDTH), default=0)
    lines = ["Commands (run with --run 'COMMAND ...'; objects as [context:]namespace/kind/name):"]
    for c in REGISTRY.all():
        usage = c.usage()
        if len(usage) > width:
            lines += [f"  {usage}", f"  {'':<{width}}  {c.help or c.title}"]
        else:
            lines.append(f"  {usage:<{width}}  {c.help or c.title}")
    return Result.success("\n".join(lines))
