"""``python -m kube9_desktop`` starts the desktop app."""

import sys

from kube9_desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
