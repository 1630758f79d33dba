"""Why is this failing? Rule-based explanations of a pod's or a workload's trouble (Qt-free).

:func:`~.facts.gather` reads what the rules need (status, events, previous logs, metrics), :func:`diagnose` runs the
rules (:data:`~.rules.RULES`, data + small functions) and :func:`format_text` prints the result in plain words with
the evidence and what to check next — what the window's diagnosis page shows and ``--run diagnose`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kube9_desktop.kube.diagnosable import KINDS
from kube9_desktop.kube.diagnose.model import Facts, Finding, Rule
from kube9_desktop.kube.diagnose.rules import RULES, run_rules
from kube9_desktop.kube.overview import Ref, pod_failure

__all__ = ["KINDS", "RULES", "Diagnosis", "Facts", "Finding", "Rule", "diagnose", "format_text"]


@dataclass
class Diagnosis:
    """The findings about one object (empty: nothing wrong found) and a one-line state."""

    ref: Ref
    state: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """No finding."""
        return not self.findings


def _state(f: Facts) -> str:
    st = f.status
    if f.ref.kind == "pods":
        fail = pod_failure(f.obj, f.now)
        if fail is not None:
            return fail[0]
        is_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])
        return f"{st.get('phase', 'Unknown')}" + ("" if is_ready or st.get("phase") == "Succeeded" else ", not ready")
    want = (f.spec.get("replicas") if f.spec.get("replicas") is not None else st.get("desiredNumberScheduled", 1))
    ready = st.get("readyReplicas", st.get("numberReady", 0)) or 0
    return f"{ready}/{want} ready"


def diagnose(facts: Facts) -> Diagnosis:
    """Run every rule on the facts."""
    return Diagnosis(facts.ref, _state(facts), run_rules(facts))


def format_text(d: Diagnosis) -> str:
    """The diagnosis in plain words (``--run diagnose``)."""
    out = [f"Diagnosis of {d.ref.address()}: {d.state}"]
    if d.healthy:
        out.append("No problem found: none of the rules (crash loop, OOM, image pull, scheduling, init containers, "
                   "readiness, eviction, stuck rollout) applies.")
        return "\n".join(out)
    for i, f in enumerate(d.findings, 1):
        where = "" if f.ref == d.ref else f" [{f.ref.address()}]"
        out.append("")
        out.append(f"{i}. {f.summary}{where}")
        if f.why:
            out.append(f"   Why: {f.why}")
        if f.evidence:
            out.append("   Evidence:")
            out += [f"     - {e}" for e in f.evidence]
        if f.log:
            out.append("   Previous log (last lines):")
            out += [f"     | {line}" for line in f.log]
        if f.next_steps:
            out.append("   Check next:")
            out += [f"     - {s}" for s in f.next_steps]
    return "\n".join(out)
