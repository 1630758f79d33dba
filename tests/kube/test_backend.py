"""The API client a feature takes from the service's backend (kube9_desktop.kube.backend.api_client_of)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.exec import stream_client
from kube9_desktop.kube.kubeconfig import Kubeconfig
from kube9_desktop.kube.log_session import log_client
from kube9_desktop.kube.metrics import api_client
from kube9_desktop.kube.service import KubeService

ADMIN = "sim-admin"


@pytest.mark.parametrize(("get", "title"), [(api_client, "Needs the API backend"),
                                             (stream_client, "Streams unavailable"),
                                             (log_client, "Logs unavailable")])
async def test_the_kubectl_backend_has_no_api_client_and_says_what_needs_one(
        kubeconfig: Kubeconfig, make_service: Callable[..., KubeService], get: Any, title: str) -> None:
    svc = make_service(kubeconfig, backend="kubectl")
    with pytest.raises(KubeError) as caught:
        get(svc, ADMIN)
    assert caught.value.title == title and caught.value.context == ADMIN
    assert caught.value.hint == "Switch the backend to api in Settings."


async def test_logs_take_the_watch_client_the_others_the_list_client(
        kubeconfig: Kubeconfig, make_service: Callable[..., KubeService]) -> None:
    svc = make_service(kubeconfig)
    backend: Any = svc.backend
    listing, watching = await asyncio.to_thread(api_client, svc, ADMIN), await asyncio.to_thread(log_client, svc, ADMIN)
    assert listing is backend.client(ADMIN) and stream_client(svc, ADMIN) is listing
    assert watching is backend.watch_client(ADMIN) and watching is not listing
    assert (await asyncio.to_thread(watching.get_json, "/version"))["gitVersion"]
