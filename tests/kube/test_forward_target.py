"""What a port-forward points at (kube9_desktop.kube.forward_target): the ports as the user types them.

Resolving a spec to a pod and port is exercised against kube9-sim in tests/streams/test_port_forward.py (pods,
Services, a Service's pod going away).
"""

from __future__ import annotations

import pytest

from kube9_desktop.kube.forward_target import parse_ports


def test_ports_are_read_as_kubectl_reads_them() -> None:
    assert parse_ports("0:80") == (0, "80")
    assert parse_ports("8080") == (8080, "8080")
    assert parse_ports(":http") == (0, "http")
    assert parse_ports("9000:http") == (9000, "http")
    for bad in ("70000:80", "0:", "1:0"):
        with pytest.raises(ValueError):
            parse_ports(bad)
