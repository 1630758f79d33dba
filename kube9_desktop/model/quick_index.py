"""Quick open's search over object names (Qt-free): tens of thousands of names per keystroke without a stall.

Names are kept lower-cased in one newline-joined string, so the per-keystroke scans run in C: ``str.find`` for
substring hits, and when no name contains the text, one compiled regex for subsequence hits (``frntd`` finds
``frontend``). Only the candidates found are ranked: prefix hits first, then hits at a word start, then other
substrings (shorter names first); subsequence hits are scored by rapidfuzz. A scorer over every name per keystroke
(rapidfuzz's ``partial_ratio`` over 50,000 names) took 100-200 ms on this project's CI machine; the scans take a few.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

#: Candidates ranked per tier at most (a one-letter query hits most names; the best are among the first few).
SCAN_CAP = 1000
#: Subsequence hits at names' starts that make scanning for hits further in unnecessary (a scan of every letter of
#: 50,000 names costs 10-20 ms; the names a typo was meant for start like the text).
START_ENOUGH = 5
#: Names starting with the text ranked at most (enough to pick the shortest few among thousands).
PREFIX_CAP = 200


@dataclass(frozen=True, slots=True)
class Entry:
    """One object quick open can go to.

    Attributes:
        name: The object's name.
        namespace: Its namespace (``None`` for cluster-scoped objects).
        kind: The kind key (``pods``, ``backups.stable.example.com``).
        path: Its tree path (base labels below the context root).
    """

    name: str
    namespace: str | None
    kind: str
    path: tuple[str, ...]

    @property
    def path_text(self) -> str:
        """``Namespaces/team-a/Workloads/Pods/web-1``."""
        return "/".join(self.path)


class QuickIndex:
    """Entries and their lower-cased names, searched by :meth:`search`."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._entries: list[Entry] = []
        self._seen: set[tuple[str, str | None, str]] = set()
        self._blob = ""
        self._by_name: dict[str, list[int]] = {}
        self._starts: list[int] = []
        self._dirty = False
        #: The last subsequence candidates per scan (``start``, ``any``): typing on narrows them.
        self._last_fuzzy: dict[str, tuple[str, dict[int, str] | None]] = {}
        self.add(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, entries: Iterable[Entry]) -> None:
        """Add entries (an object already present is kept once)."""
        for e in entries:
            key = (e.kind, e.namespace, e.name)
            if key not in self._seen:
                self._seen.add(key)
                self._entries.append(e)
                self._dirty = True

    def _build(self) -> None:
        names = [e.name.lower().replace("\n", " ") for e in self._entries]
        # A newline before every name: a prefix hit is a find of "\n" + text.
        self._blob = "\n" + "\n".join(names) + "\n"
        by_name: dict[str, list[int]] = {}
        for i, n in enumerate(names):
            by_name.setdefault(n, []).append(i)
        self._by_name = by_name
        starts, pos = [], 1
        for n in names:
            starts.append(pos)
            pos += len(n) + 1
        self._starts = starts
        self._dirty = False
        self._last_fuzzy = {}

    def _line(self, pos: int) -> int:
        return bisect.bisect_right(self._starts, pos) - 1

    def _subsequence(self, q: str, where: str, pattern: re.Pattern[str], skip: int) -> dict[int, str]:
        """Names matching ``pattern`` (``where``: at their ``start`` or ``any``where), at most SCAN_CAP; typing on
        narrows the previous text's complete set instead of scanning again."""
        last_q, last = self._last_fuzzy.get(where, ("", None))
        if last is not None and q.startswith(last_q):
            # The names holding the longer text's letters in order are among the shorter text's.
            probe = re.compile(pattern.pattern[skip:])
            found = {i: n for i, n in last.items() if (probe.match(n) if where == "start" else probe.search(n))}
        else:
            found = {}
            for m in pattern.finditer(self._blob):
                i = self._line(m.start() + skip)
                if i not in found:
                    found[i] = self._entries[i].name.lower()
                    if len(found) >= SCAN_CAP:
                        break
        # Remembered only when complete (a capped set could miss names the longer text matches).
        self._last_fuzzy[where] = (q, found if len(found) < SCAN_CAP else None)
        return dict(found)

    def search(self, query: str, limit: int = 20) -> list[Entry]:
        """The best ``limit`` entries for ``query`` (empty query: none)."""
        q = query.strip().lower()
        if not q or not self._entries:
            return []
        if self._dirty:
            self._build()
        blob, starts, entries = self._blob, self._starts, self._entries
        ranked: list[tuple[int, int, str, int]] = []
        # The name itself first (the same app in every namespace: "api" among thousands of "api-…" pods, which
        # would fill PREFIX_CAP before it), then names starting with the text: when there are enough of them (a
        # short text), they are the answer and the scan stops after PREFIX_CAP of them.
        exact = set(self._by_name.get(q, ())[:limit])
        ranked.extend((-1, len(q), entries[i].name, i) for i in exact)
        pos = blob.find("\n" + q)
        while pos >= 0:
            i = self._line(pos + 1)
            name = entries[i].name
            if i in exact:
                pos = blob.find("\n" + q, pos + 1)
                continue
            ranked.append((0, len(name), name, i))
            if len(ranked) >= PREFIX_CAP:
                break
            pos = blob.find("\n" + q, pos + 1)
        if len(ranked) >= limit:
            ranked.sort()
            return [entries[i] for *_, i in ranked[:limit]]
        prefixed = {i for *_, i in ranked}
        pos = blob.find(q)
        while pos >= 0 and len(ranked) < SCAN_CAP:
            i = self._line(pos)
            off = pos - starts[i]
            if i not in prefixed:
                name = entries[i].name
                ranked.append((1 if not name[off - 1].isalnum() else 2, len(name), name, i))
            # The next hit in a later line (a name counts once, at its first hit).
            pos = blob.find(q, starts[i + 1]) if i + 1 < len(starts) else -1
        if ranked:
            ranked.sort()
            return [entries[i] for *_, i in ranked[:limit]]
        # No name contains the text: names holding its letters in order (a typo, a skipped letter), scored by
        # rapidfuzz (only the candidates found, never every name). Possessive classes: no backtracking. Names that
        # start with the text's first letter are looked at first (a typo is rarely in the first letter): that scan
        # tries a match at line starts only, a few ms less than trying at every letter of 50,000 names; the names
        # holding the letters further in are scanned only when those are too few. rapidfuzz is imported here: the
        # window's first paint does not wait for it.
        from rapidfuzz import fuzz, process

        body = "".join(f"{re.escape(c)}[^\n{re.escape(q[n + 1])}]*+" for n, c in enumerate(q[:-1])) + re.escape(q[-1])
        fuzzy = self._subsequence(q, "start", re.compile("\n" + body), 1)
        if len(fuzzy) < min(limit, START_ENOUGH):
            fuzzy.update(self._subsequence(q, "any", re.compile(body), 0))
        # ratio (not partial_ratio): "bckp" is nearer "backup-db" than a long "backend-…" holding the same letters.
        best = process.extract(q, fuzzy, scorer=fuzz.ratio, limit=None)
        best.sort(key=lambda t: (-t[1], len(t[0]), t[0]))
        return [entries[i] for _name, _score, i in best[:limit]]
