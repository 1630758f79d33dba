"""Table columns and cells of the kinds added for "every kind" (RBAC, policy, networking, coordination ...) and of
the sim's custom resources, printed like kube-apiserver v1.19's printers (``kubectl get`` shows these columns).

Registered into :mod:`kube9_desktop.sim.tables` at import (that module is past its size budget).
"""

from __future__ import annotations

from typing import Any

from kube9_desktop.sim import tables
from kube9_desktop.sim.more_objects import DATABASE_COLUMNS
from kube9_desktop.sim.tables import _NAME_COL, NONE, Ages, Cells, _age, _col, _created, _selector

_CREATED_AT = _col("Created At", "", "date")


def _name(o: dict[str, Any]) -> str:
    return str(o["metadata"]["name"])


def _created_at(o: dict[str, Any]) -> tuple[Cells, Ages]:
    return [_name(o), o["metadata"]["creationTimestamp"]], ()


def _serviceaccount(o: dict[str, Any]) -> tuple[Cells, Ages]:
    return [_name(o), len(o.get("secrets") or []), None], ((2, _created(o)),)


def _endpoints(o: dict[str, Any]) -> tuple[Cells, Ages]:
    addrs = []
    for sub in o.get("subsets") or []:
        for a in sub.get("addresses") or []:
            for p in sub.get("ports") or [{}]:
                addrs.append(f"{a.get('ip')}:{p.get('port')}" if p else a.get("ip", ""))
    shown = ",".join(addrs[:3]) + (f" + {len(addrs) - 3} more..." if len(addrs) > 3 else "")
    return [_name(o), shown or NONE, None], ((2, _created(o)),)


def _endpointslice(o: dict[str, Any]) -> tuple[Cells, Ages]:
    ports = ",".join(str(p.get("port")) for p in o.get("ports") or []) or NONE
    addrs = [a for e in o.get("endpoints") or [] for a in e.get("addresses") or []]
    shown = ",".join(addrs[:3]) + (f" + {len(addrs) - 3} more..." if len(addrs) > 3 else "")
    return [_name(o), o.get("addressType", ""), ports, shown or NONE, None], ((4, _created(o)),)


def _quota(o: dict[str, Any]) -> tuple[Cells, Ages]:
    hard = (o.get("spec") or {}).get("hard") or {}
    used = (o.get("status") or {}).get("used") or {}
    req = ", ".join(f"{k}: {used.get(k, '0')}/{v}" for k, v in sorted(hard.items()) if not k.startswith("limits."))
    lim = ", ".join(f"{k}: {used.get(k, '0')}/{v}" for k, v in sorted(hard.items()) if k.startswith("limits."))
    return [_name(o), None, req, lim], ((1, _created(o)),)


def _binding(o: dict[str, Any]) -> tuple[Cells, Ages]:
    ref = o.get("roleRef") or {}
    subjects = o.get("subjects") or []

    def of(kind: str) -> str:
        names = [(f"{s.get('namespace')}/{s['name']}" if kind == "ServiceAccount" else s["name"])
                 for s in subjects if s.get("kind") == kind]
        return ", ".join(names)

    return [_name(o), f"{ref.get('kind')}/{ref.get('name')}", None, of("User"), of("Group"),
            of("ServiceAccount")], ((2, _created(o)),)


def _networkpolicy(o: dict[str, Any]) -> tuple[Cells, Ages]:
    sel = _selector((o.get("spec") or {}).get("podSelector"))
    return [_name(o), NONE if sel == NONE else sel, None], ((2, _created(o)),)


def _hpa(o: dict[str, Any]) -> tuple[Cells, Ages]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    target = spec.get("targetCPUUtilizationPercentage")
    current = st.get("currentCPUUtilizationPercentage")
    targets = f"{current if current is not None else '<unknown>'}%/{target}%" if target else "<none>"
    return [_name(o), f"{ref.get('kind')}/{ref.get('name')}", targets, spec.get("minReplicas", 1),
            spec.get("maxReplicas", 0), st.get("currentReplicas", 0), None], ((6, _created(o)),)


def _pdb(o: dict[str, Any]) -> tuple[Cells, Ages]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    return [_name(o), str(spec.get("minAvailable", "N/A")), str(spec.get("maxUnavailable", "N/A")),
            st.get("disruptionsAllowed", 0), None], ((4, _created(o)),)


def _lease(o: dict[str, Any]) -> tuple[Cells, Ages]:
    return [_name(o), (o.get("spec") or {}).get("holderIdentity", ""), None], ((2, _created(o)),)


def _ingressclass(o: dict[str, Any]) -> tuple[Cells, Ages]:
    spec = o.get("spec") or {}
    params = spec.get("parameters")
    shown = f"{params.get('kind')}/{params.get('name')}" if params else NONE
    return [_name(o), spec.get("controller", ""), shown, None], ((3, _created(o)),)


def _priorityclass(o: dict[str, Any]) -> tuple[Cells, Ages]:
    return [_name(o), o.get("value", 0), bool(o.get("globalDefault", False)), None], ((3, _created(o)),)


def _backup(o: dict[str, Any]) -> tuple[Cells, Ages]:
    # The additionalPrinterColumns of backups.stable.example.com (sim/more_objects.py); a field the object lacks
    # is a null cell, as kube-apiserver's JSONPath printer leaves it.
    spec, st = o.get("spec") or {}, o.get("status") or {}
    return [_name(o), spec.get("schedule"), st.get("phase"), spec.get("retentionDays"), None], ((4, _created(o)),)


def _database(o: dict[str, Any]) -> tuple[Cells, Ages]:
    # DATABASE_COLUMNS of sim/more_objects.py, each a plain field path; a missing field is a null cell.
    cells: Cells = [_name(o)]
    for col in DATABASE_COLUMNS:
        value: Any = o
        for key in col["jsonPath"].lstrip(".").split("."):
            value = value.get(key) if isinstance(value, dict) else None
        cells.append(value)
    cells.append(None)
    return cells, ((len(cells) - 1, _created(o)),)


def _clusterpolicy(o: dict[str, Any]) -> tuple[Cells, Ages]:
    spec = o.get("spec") or {}
    return [_name(o), spec.get("action"), spec.get("severity"), None], ((3, _created(o)),)


_BINDING_COLS = [
    _NAME_COL, _col("Role", "RoleRef to the role"), _age(), _col("Users", "Users in the binding", priority=1),
    _col("Groups", "Groups in the binding", priority=1),
    _col("ServiceAccounts", "ServiceAccounts in the binding", priority=1),
]

COLUMNS: dict[str, list[dict[str, Any]]] = {
    "ServiceAccount": [_NAME_COL, _col("Secrets", "Secrets is the list of secrets allowed to be used by pods "
                                                  "running using this ServiceAccount.", "string"), _age()],
    "Endpoints": [_NAME_COL, _col("Endpoints", "Endpoints of the service."), _age()],
    "EndpointSlice": [_NAME_COL, _col("AddressType", "The type of addresses carried by this EndpointSlice."),
                      _col("Ports", "Ports of the EndpointSlice."), _col("Endpoints", "Endpoints of the slice."),
                      _age()],
    "ResourceQuota": [_NAME_COL, _age(), _col("Request", "Request represents a minimum amount of cpu/memory "
                                                         "that a container may consume."),
                      _col("Limit", "Limits control the maximum amount of cpu/memory that a container may use "
                                    "independent of contention on the node.")],
    "LimitRange": [_NAME_COL, _CREATED_AT],
    "Role": [_NAME_COL, _CREATED_AT],
    "ClusterRole": [_NAME_COL, _CREATED_AT],
    "RoleBinding": _BINDING_COLS,
    "ClusterRoleBinding": _BINDING_COLS,
    "NetworkPolicy": [_NAME_COL, _col("Pod-Selector", "Selects the pods to which this NetworkPolicy object "
                                                      "applies."), _age()],
    "HorizontalPodAutoscaler": [
        _NAME_COL, _col("Reference", "Reference to target resource"),
        _col("Targets", "Current and target metric values"),
        _col("MinPods", "Lower limit for the number of pods.", "string"),
        _col("MaxPods", "Upper limit for the number of pods.", "integer"),
        _col("Replicas", "Current number of replicas of pods managed by this autoscaler.", "integer"), _age()],
    "PodDisruptionBudget": [
        _NAME_COL, _col("Min Available", "The minimum number of pods that must be available."),
        _col("Max Unavailable", "The maximum number of pods that may be unavailable."),
        _col("Allowed Disruptions", "Calculated number of pods that may be disrupted at this time.", "integer"),
        _age()],
    "Lease": [_NAME_COL, _col("Holder", "Name of the Lease holder"), _age()],
    "IngressClass": [_NAME_COL, _col("Controller", "Controller that is responsible for handling this class"),
                     _col("Parameters", "A reference to a resource with additional parameters"), _age()],
    "PriorityClass": [_NAME_COL, _col("Value", "The value of this priority class.", "integer"),
                      _col("Global-Default", "globalDefault specifies whether this PriorityClass should be "
                                             "considered as the default priority.", "boolean"), _age()],
    "Backup": [_NAME_COL, _col("Schedule", "When the backup runs"), _col("Phase", "Last run's phase"),
               _col("Retention", "Days kept", "integer"), _age()],
    "ClusterPolicy": [_NAME_COL, _col("Action", "What a violation does"), _col("Severity", ""), _age()],
    "Database": [_NAME_COL, *(_col(c["name"], "", c["type"], c.get("priority", 0)) for c in DATABASE_COLUMNS),
                 _age()],
}

CELLS = {
    "ServiceAccount": _serviceaccount,
    "Endpoints": _endpoints,
    "EndpointSlice": _endpointslice,
    "ResourceQuota": _quota,
    "LimitRange": _created_at,
    "Role": _created_at,
    "ClusterRole": _created_at,
    "RoleBinding": _binding,
    "ClusterRoleBinding": _binding,
    "NetworkPolicy": _networkpolicy,
    "HorizontalPodAutoscaler": _hpa,
    "PodDisruptionBudget": _pdb,
    "Lease": _lease,
    "IngressClass": _ingressclass,
    "PriorityClass": _priorityclass,
    "Backup": _backup,
    "ClusterPolicy": _clusterpolicy,
    "Database": _database,
}

tables.COLUMNS.update(COLUMNS)
tables._CELLS.update(CELLS)
