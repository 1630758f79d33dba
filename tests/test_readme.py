"""The README is a user's guide (issue 14 item 27): what the app is, how to install and start it, how to use it,
its settings, the simulated cluster and a short performance table with the command that produces it. How the
numbers are reached (what limits the window's stall, the collector's tuning, what was tried) is engineering and
lives in docs/performance.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

#: Words of the engineering notes moved out of the README: a user's guide needs none of them.
ENGINEERING = ("GIL", "GcDriver", "gc_policy", "Tried and dropped", "switch interval", "young collection",
               "gc.freeze", "stall_probe")


def sections(text: str) -> dict[str, str]:
    """Each ``##`` section's body by its heading (``###`` subsections stay in their section)."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def test_the_readme_has_the_parts_of_a_users_guide() -> None:
    intro = README.split("\n## ", 1)[0]
    assert intro.startswith("# kube9 Desktop\n")
    assert "make demo" in intro and "make test" in intro and "make run" in intro  # the commands, first
    assert "sudo apt install " in intro  # what the window needs to start
    got = sections(README)
    for heading in ("Pointing it at your clusters", "Using it", "Settings", "The simulated cluster", "Installing",
                    "Performance"):
        assert heading in got, (heading, list(got))


def test_the_performance_section_is_a_short_table_and_the_command_behind_it() -> None:
    perf = sections(README)["Performance"]
    assert "`make bench`" in perf and "`make bench-full`" in perf
    assert "docs/performance.md" in perf  # how each number is measured, and what was tried: there
    assert len([ln for ln in perf.splitlines() if ln.startswith("| ")]) >= 5
    assert len(perf.splitlines()) <= 60, "the engineering belongs in docs/performance.md"


def test_the_engineering_notes_stay_in_docs() -> None:
    found = [word for word in ENGINEERING if word.lower() in README.lower()]
    assert found == [], f"engineering notes in the README: {found}; move them to docs/performance.md"
    assert "GIL" in (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")  # ... where they went
