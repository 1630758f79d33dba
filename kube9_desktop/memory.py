"""Process-wide memory settings, applied once at start-up before any worker thread exists.

glibc gives every thread that allocates under contention its own malloc arena (up to eight per core). Our list
workers and watch readers parse pages in threads, so a few minutes of browsing spread freed memory over a dozen
arenas that are rarely returned to the system: the soak (``benchmarks/soak.py``) showed resident memory rising
7 % in 4 minutes with the default and 2 % with two arenas. Python's own allocator serves the small objects, so
the arenas only see page buffers and large lists: listing 50,000 pods took 1.34 s / 2.26 s with the default and
1.51 s / 2.06 s with two arenas (alternating runs of ``benchmarks/list_pods.py``; the noise exceeds the gap).
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # from glibc's <malloc.h>
ARENA_MAX = 2


def _libc() -> ctypes.CDLL:
    """glibc by its soname; else the C library ``ctypes.util.find_library`` names.

    ``find_library("c")`` runs ``ldconfig -p`` in a child process (~10 ms of wall time before the window's first
    paint, and its module ~7 ms of imports), for the name glibc has had on every Linux: asked first.
    """
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        from ctypes.util import find_library

        return ctypes.CDLL(find_library("c") or "libc.so.6")


def limit_malloc_arenas(arenas: int = ARENA_MAX) -> bool:
    """Cap glibc's malloc arenas at ``arenas``; a no-op elsewhere (macOS, Windows, musl).

    Only arenas created afterwards are affected, so call it before starting threads.

    Returns:
        Whether the cap was applied.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = _libc()
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = bool(mallopt(M_ARENA_MAX, arenas))
    log.debug("malloc arenas capped at %d: %s", arenas, ok)
    return ok


def stop_source_caching() -> bool:
    """Keep PySide6 from caching the source of every module imported after it.

    PySide6 checks each module imported after it for ``from __feature__ import`` by reading its source with
    ``inspect.getsource``, which keeps every line of every such module in ``linecache`` for the life of the process.
    Our data layer and its libraries (urllib3, ssl, the official client's parts) are imported lazily, so that was
    ~37 MB of source text held from the first list or log tab on (``benchmarks/logs_bench.py`` saw it as most of a
    log tab's memory). The check is the same — does the module's source mention PySide6? — read from the file,
    with nothing cached. Call it once PySide6 is imported.

    Returns:
        Whether the check was replaced (False when this PySide6 has no such check).
    """
    try:
        import shibokensupport.feature as feature  # PySide6's embedded support (no stubs: Any)
    except ImportError:
        return False
    if not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False

    # The standard library never imports PySide6: its ~100 modules imported after it (asyncio's, ssl, http ...) are
    # answered without reading their source (~4 ms of CPU before the window's first paint).
    stdlib = os.path.dirname(os.__file__) + os.sep
    packages = (stdlib + "site-packages" + os.sep, stdlib + "dist-packages" + os.sep)

    def uses_pyside(module: object) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return False
        if path.startswith(stdlib) and not path.startswith(packages):
            return False
        try:
            with open(path, "rb") as f:
                return b"PySide6" in f.read()
        except OSError:
            return False

    feature._mod_uses_pyside = uses_pyside
    return True
