"""Just enough protobuf decoding for the few write requests kubectl sends as protobuf.

kubectl sends SelfSubjectAccessReview/SelfSubjectRulesReview bodies as ``application/vnd.kubernetes.protobuf``
(the ``k8s\\0`` envelope around a ``runtime.Unknown``). The sim answers in JSON, which client-go accepts.
"""

from __future__ import annotations

from typing import Any

MAGIC = b"k8s\x00"

Fields = dict[int, list[Any]]


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def parse(buf: bytes) -> Fields:
    """Splits a protobuf message into ``{field number: [values]}`` (bytes for length-delimited, int for varints).

    Raises:
        ValueError: On truncated or unsupported wire data.
    """
    out: Fields = {}
    i = 0
    try:
        while i < len(buf):
            key, i = _varint(buf, i)
            field, wire = key >> 3, key & 7
            if wire == 0:
                val, i = _varint(buf, i)
                out.setdefault(field, []).append(val)
            elif wire == 2:
                n, i = _varint(buf, i)
                out.setdefault(field, []).append(buf[i : i + n])
                i += n
            elif wire == 1:
                i += 8
            elif wire == 5:
                i += 4
            else:
                raise ValueError(f"unsupported wire type {wire}")
    except IndexError as e:
        raise ValueError("truncated protobuf") from e
    return out


def _str(f: Fields, n: int) -> str:
    v = f.get(n)
    return v[0].decode() if v else ""


def unwrap(body: bytes) -> bytes:
    """The raw object bytes inside the ``k8s\\0`` + runtime.Unknown envelope."""
    if not body.startswith(MAGIC):
        raise ValueError("missing protobuf magic")
    unknown = parse(body[len(MAGIC) :])
    raw = unknown.get(2)
    return raw[0] if raw else b""


def review_spec(kind: str, body: bytes) -> dict[str, Any]:
    """Decodes the ``spec`` of a SelfSubjectAccessReview or SelfSubjectRulesReview into its JSON form."""
    obj = parse(unwrap(body))
    spec = parse(obj[2][0]) if obj.get(2) else {}
    if kind == "SelfSubjectRulesReview":
        return {"namespace": _str(spec, 1)}
    out: dict[str, Any] = {}
    if spec.get(1):
        ra = parse(spec[1][0])
        names = ["namespace", "verb", "group", "version", "resource", "subresource", "name"]
        out["resourceAttributes"] = {k: _str(ra, i + 1) for i, k in enumerate(names) if _str(ra, i + 1)}
    if spec.get(2):
        nra = parse(spec[2][0])
        out["nonResourceAttributes"] = {"path": _str(nra, 1), "verb": _str(nra, 2)}
    return out


def _map(f: Fields, n: int, as_text: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in f.get(n, []):
        e = parse(entry)
        key = _str(e, 1)
        raw = e.get(2, [b""])[0]
        out[key] = raw.decode() if as_text else raw
    return out


def _meta(buf: bytes) -> dict[str, Any]:
    m = parse(buf)
    md: dict[str, Any] = {}
    for i, k in ((1, "name"), (2, "generateName"), (3, "namespace")):
        if _str(m, i):
            md[k] = _str(m, i)
    for i, k in ((11, "labels"), (12, "annotations")):
        if m.get(i):
            md[k] = _map(m, i)
    return md


#: Kinds whose protobuf bodies the sim reads (what ``kubectl create namespace|configmap|secret`` sends).
PROTO_KINDS = frozenset({"Namespace", "ConfigMap", "Secret"})


def object_from_proto(kind: str, body: bytes) -> dict[str, Any]:
    """A Namespace, ConfigMap or Secret sent as protobuf, in its JSON form; raises ValueError for other kinds."""
    if kind not in PROTO_KINDS:
        raise ValueError(f"kube9-sim reads protobuf bodies only for {', '.join(sorted(PROTO_KINDS))}; send JSON")
    obj = parse(unwrap(body))
    out: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": _meta(obj[1][0]) if obj.get(1) else {}}
    if kind == "ConfigMap":
        if obj.get(2):
            out["data"] = _map(obj, 2)
    elif kind == "Secret":
        import base64

        if obj.get(2):
            out["data"] = {k: base64.b64encode(v).decode() for k, v in _map(obj, 2, as_text=False).items()}
        if _str(obj, 3):
            out["type"] = _str(obj, 3)
    return out
