"""What a port-forward points at (kube9_desktop.kube.forward_target): the ports as the user types them.

Resolving a spec to a pod and port is exercised against kube9-sim in tests/streams/test_port_forward.py (pods,
Services, a Service's pod going away).
"""

from __future__ import annotations

import pytest

from kube9_desktop.kube.forward_target import parse_ports, web_scheme


def test_ports_are_read_as_kubectl_reads_them() -> None:
    assert parse_ports("0:80") == (0, "80")
    assert parse_ports("8080") == (8080, "8080")
    assert parse_ports(":http") == (0, "http")
    assert parse_ports("9000:http") == (9000, "http")
    for bad in ("70000:80", "0:", "1:0"):
        with pytest.raises(ValueError):
            parse_ports(bad)


def test_web_ports_and_their_scheme_for_open_in_browser() -> None:
    pod = {"spec": {"containers": [{"ports": [
        {"name": "https", "containerPort": 9443}, {"name": "http-metrics", "containerPort": 9100},
        {"name": "grpc", "containerPort": 8080}, {"name": "db", "containerPort": 5432},
    ]}]}}
    assert web_scheme(pod, 9443) == "https"  # an https port opened as http:// shows only the browser's error
    assert web_scheme(pod, 9100) == "http"
    assert web_scheme(pod, 8443) == "https" and web_scheme(pod, 443) == "https"
    assert web_scheme(pod, 8080) == "http" and web_scheme(pod, 80) == "http"
    assert web_scheme(pod, 5432) == ""
