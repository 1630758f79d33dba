"""YAML as the user edits it: parsing with line numbers, masked Secrets, merge patches, field lines, diffs."""

from __future__ import annotations

import pytest

from kube9_desktop.kube import manifests
from kube9_desktop.kube.manifests import MASK, ManifestError

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: team-a
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: app
        image: nginx
      - name: side
        image: busybox
"""


def test_parse_documents_multi_and_list() -> None:
    text = DEPLOY + "---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n" \
                    "    name: a\n---\n# only a comment\n"
    docs = manifests.parse_documents(text)
    assert [d["kind"] for d in docs] == ["Deployment", "ConfigMap"]


@pytest.mark.parametrize(("text", "line", "words"), [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a\n", 5, "YAML error"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n   bad: indent\n", 5, "YAML error"),
    ("- a\n- b\n", None, "not an object"),
    ("kind: ConfigMap\nmetadata:\n  name: a\n", None, "no apiVersion"),
    ("apiVersion: v1\nkind: ConfigMap\n", None, "metadata.name"),
])
def test_bad_yaml_says_what_and_where(text: str, line: int | None, words: str) -> None:
    with pytest.raises(ManifestError) as info:
        manifests.parse_documents(text)
    assert words in str(info.value)
    if line is not None:
        assert info.value.line == line


def test_secret_masked_values_are_put_back() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"c2VjcmV0"}}'}},
              "data": {"password": "c2VjcmV0", "user": "YWRtaW4="}}
    shown = manifests.mask_secret(secret)
    text = manifests.to_yaml(shown)
    assert "c2VjcmV0" not in text and "YWRtaW4=" not in text and MASK in text
    edited = manifests.parse_one(text.replace("user: " + MASK, "user: bmV3"))
    back = manifests.unmask_secret(edited, secret)
    assert back["data"] == {"password": "c2VjcmV0", "user": "bmV3"}
    assert "c2VjcmV0" in back["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    edited["data"]["other"] = MASK
    with pytest.raises(ManifestError, match=r"data\.other is masked"):
        manifests.unmask_secret(edited, secret)


def test_merge_patch_round_trip() -> None:
    before = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2]}
    after = {"a": 1, "b": {"c": 5}, "e": [1], "f": "new"}
    patch = manifests.merge_patch(before, after)
    assert patch == {"b": {"c": 5, "d": None}, "e": [1], "f": "new"}
    assert manifests.apply_merge_patch(before, patch) == after
    # Mine on top of theirs: their other changes stay.
    theirs = {"a": 7, "b": {"c": 2, "d": 3}, "e": [1, 2]}
    assert manifests.apply_merge_patch(theirs, patch) == {"a": 7, "b": {"c": 5}, "e": [1], "f": "new"}


@pytest.mark.parametrize(("field", "line"), [
    ("spec.replicas", 7),
    ("metadata.name", 4),
    ("spec.template.spec.containers[1].image", 14),
    ("spec.template.spec.containers[0].name", 11),
    ("spec.template.spec.containers[0].resources.limits", 11),  # absent: the nearest ancestor's line
])
def test_field_line(field: str, line: int) -> None:
    assert manifests.field_line(DEPLOY, field) == line


def test_field_line_in_a_later_document() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n" + DEPLOY
    assert manifests.field_line(text, "spec.replicas", document=1) == 12


def test_comparable_diff_ignores_server_fields() -> None:
    a = {"metadata": {"name": "x", "resourceVersion": "1", "managedFields": [{}]}, "spec": {"replicas": 3}}
    b = {"metadata": {"name": "x", "resourceVersion": "9"}, "spec": {"replicas": 4}}
    diff = manifests.unified_diff(manifests.to_yaml(manifests.comparable(a)),
                                  manifests.to_yaml(manifests.comparable(b)), "then", "now")
    assert "-  replicas: 3" in diff and "+  replicas: 4" in diff and "resourceVersion" not in diff
    assert manifests.unified_diff("same\n", "same\n", "a", "b") == ""
