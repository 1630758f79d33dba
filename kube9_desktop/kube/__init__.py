"""Qt-free core: kubeconfig, pooled API clients, fetchers, cache and errors.

Nothing in this package imports Qt; only ``client.py`` imports the ``kubernetes`` package.
"""
