"""The malloc arena cap (kube9_desktop.memory), checked in a fresh interpreter through glibc's own report."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = r"""
import ctypes, re, sys, tempfile, threading
if sys.argv[1] == "cap":
    from kube9_desktop.memory import limit_malloc_arenas
    assert limit_malloc_arenas()
def work():
    keep = [bytearray(3000) for _ in range(2000)]  # above Python's small-object size: glibc malloc serves it
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
with tempfile.NamedTemporaryFile(suffix=".xml") as f:
    fp = libc.fopen(f.name.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    print(len(re.findall(r'<heap nr="\d+">', open(f.name).read())))
"""


def arenas(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, timeout=60)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc arenas exist on Linux only")
def test_worker_threads_share_two_malloc_arenas() -> None:
    assert arenas("default") > 2  # each new thread gets its own arena up to 8 per core: what the cap is for
    assert arenas("cap") <= 2
