"""Allows ``python -m kube9_desktop.sim``."""

from kube9_desktop.sim.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
