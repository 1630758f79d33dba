"""kube9-desktop: a fast, native desktop browser for Kubernetes clusters."""

__version__ = "0.1.0"
