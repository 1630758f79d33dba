"""Quick open's server search: names only, paged, kept for the box's life; exact-name lookups cancelled as the
user types; server matches listed below the loaded ones, marked. kubectl referees the names."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from kube9_desktop.headless import load_tree
from kube9_desktop.kube.kinds import KINDS, Kind
from kube9_desktop.kube.name_search import NameCatalogue
from kube9_desktop.ui.quick_open import SERVER_SHOWN, QuickOpen


def kubectl_names(sim: Any, resource: str) -> set[tuple[str, str]]:
    out = subprocess.run(["kubectl", "--kubeconfig", sim.kubeconfig, "--context", "sim-admin", "get", resource, "-A",
                          "--no-headers", "-o", "custom-columns=NS:.metadata.namespace,NAME:.metadata.name"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return {(ln.split()[0], ln.split()[1]) for ln in out.stdout.splitlines()}


def test_catalogue_pages_names_only_and_never_asks_a_page_twice(sim: Any, service_factory: Any, run: Any) -> None:
    pods = KINDS["pods"]

    async def whole(page: int) -> tuple[set[tuple[str, str | None]], int]:
        got: set[tuple[str, str | None]] = set()
        cat = NameCatalogue(service_factory(), "sim-admin", [pods], page_size=page)
        await cat.fill(lambda _k, names: got.update((ns, n) for n, ns in names))
        assert cat.complete and cat.bytes > 0
        return got, cat.requests

    names, requests = run(whole(50))
    assert names == kubectl_names(sim, "pods")
    assert len(names) // 50 <= requests <= len(names) // 50 + 1

    async def interrupted() -> tuple[int, int]:
        got: list[tuple[str, str | None]] = []
        cat = NameCatalogue(service_factory(), "sim-admin", [pods], page_size=50)
        fill = asyncio.ensure_future(cat.fill(lambda _k, names: got.extend(names)))
        while len(got) < 100:  # two pages in: the user closes the box (or types on)
            await asyncio.sleep(0.01)
        fill.cancel()
        await asyncio.gather(fill, return_exceptions=True)
        seen_before = len(got)
        got.clear()
        await cat.fill(lambda _k, names: got.extend(names))  # the next fill replays what it has, then pages on
        assert len(got) == len(names) and seen_before >= 100
        return cat.requests, len(set(got))

    again, distinct = run(interrupted())
    assert again == requests and distinct == len(names)


def test_exact_lookup_finds_a_whole_name_in_one_request_per_kind(sim: Any, service_factory: Any, run: Any) -> None:
    pod = sorted(kubectl_names(sim, "pods"))[-1]
    kinds = [KINDS["pods"], KINDS["deployments"], KINDS["services"]]

    async def go() -> tuple[list[tuple[str, str, str | None]], int]:
        found: list[tuple[str, str, str | None]] = []
        cat = NameCatalogue(service_factory(), "sim-admin", kinds)

        def on(kind: Kind, names: list[tuple[str, str | None]]) -> None:
            found.extend((kind.key, n, ns) for n, ns in names)

        assert await cat.exact(pod[1], on) == 1
        assert await cat.exact("Not A Name!", on) == 0  # no request for what no object can be named
        return found, cat.requests

    found, requests = run(go())
    assert found == [("pods", pod[1], pod[0])] and requests == len(kinds)


def test_box_lists_server_matches_below_loaded_ones_marked(sim: Any, make_window: Any, qtbot: Any, tmp_path: Path,
                                                           service_factory: Any, run: Any) -> None:
    w = make_window(service=service_factory())
    run(load_tree(w.model, 0, ["Namespaces/team-a/Workloads/Deployments"], expand_view=w.expand_node))
    deployments = {n for ns, n in kubectl_names(sim, "deployments") if ns == "team-a"}
    others = {n for ns, n in kubectl_names(sim, "deployments") if ns != "team-a"}
    name = sorted(deployments & others)[0]  # the same app deployed in several namespaces
    assert w.port.open_view("quick-open", name)
    box = next(b for b in QApplication.topLevelWidgets() if isinstance(b, QuickOpen) and b.isVisible())
    qtbot.waitUntil(box.fill_task.done, timeout=30000)  # every page's names in the index and the list
    assert box.catalogue is not None and box.catalogue.complete
    texts = [box.results.item(i).text() for i in range(box.results.count())]
    marked = [t.endswith("· server") for t in texts]
    # Loaded first, unmarked (the name itself ranks first: the deployment, then the service of that name).
    assert texts[0] == f"{name}    Namespaces/team-a/Workloads/Deployments/{name}", texts
    assert True in marked and marked == sorted(marked), texts  # every loaded match, then the server's
    assert len(set(texts)) == len(texts), texts  # a loaded object is not listed again from the server
    # The server's are the other namespaces' deployments of that name (as kubectl lists them), among others.
    elsewhere = {f"{name}    Namespaces/{ns}/Workloads/Deployments/{name}    · server"
                 for ns, n in kubectl_names(sim, "deployments") if n == name and ns != "team-a"}
    server = [t for t in texts if t.endswith("· server")]
    assert {t for t in server if "/Deployments/" in t} <= elsewhere
    if len(server) < SERVER_SHOWN:
        assert elsewhere <= set(server), texts
    else:  # the name itself ranks first: a full list of objects with that very name (of several kinds)
        assert all(t.split()[0] == name for t in server), texts
    box.grab().save(str(tmp_path / "quick_open_server.png"))
    box.close()


def test_each_keystroke_cancels_the_previous_lookup(sim: Any, make_window: Any, qtbot: Any,
                                                    service_factory: Any) -> None:
    w = make_window(service=service_factory())
    # The cluster-wide pod list answers slowly (a big cluster): the catalogue stays incomplete, lookups are slow.
    sim.set_faults([{"path": "^/api/v1/pods$", "latency_ms": 4000, "rate": 1.0}])
    try:
        assert w.port.open_view("quick-open", "")
        box = next(b for b in QApplication.topLevelWidgets() if isinstance(b, QuickOpen) and b.isVisible())
        for text in ("w", "we", "web"):  # typed faster than the pause: no lookup yet
            box.edit.setText(text)
        assert box.lookups == 0
        qtbot.waitUntil(lambda: box.lookups == 1, timeout=30000)
        first = box._lookup
        assert first is not None and not first.done()
        box.edit.setText("web-")  # the next keystroke cancels the lookup in flight
        qtbot.waitUntil(first.done, timeout=5000)
        assert first.cancelled()
        qtbot.waitUntil(lambda: box.lookups == 2, timeout=30000)
        assert box.catalogue is not None and not box.catalogue.complete
        box.close()
        qtbot.waitUntil(lambda: not box._tasks, timeout=10000)  # closing cancels the fill and the lookups
    finally:
        sim.clear_faults()
