"""The tree's column widths: Name takes the spare width, the other columns fit the rows on screen (their titles
elide before a name does).

Qt's ``ResizeToContents`` mode does this too, but it re-measures every fitted column on every layout the view makes:
opening a 10,000-pod namespace in the window cost about 16,000 ``multiData`` calls into Python (600 before) and its
longest stall went from ~65 ms to ~850 ms. Here the columns are ``Fixed`` and fitted at most every
:data:`FIT_DELAY_MS`, after the view has painted something new (rows inserted, changed, scrolled into view).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QHeaderView, QTreeView

#: How long after a paint the columns are fitted (coalesces a burst of inserts into one measurement).
FIT_DELAY_MS = 150
#: The same while the tree loads: a long list's pages repaint its count every ~100 ms while the rows on screen stay
#: the same, and each fit (4-9 ms of the GUI thread at load 11-14) that fell right after a paint made their loop
#: turn the longest of the load.
FIT_BUSY_DELAY_MS = 1000


#: The narrowest a fitted column is made when space is short (a few characters and the elision mark).
MIN_COLUMN = 48
#: The narrowest a column whose cells are short or empty is made (its title elides): Qt's default minimum (26 px
#: here) kept an empty "Available" column 8 px wider than its cells, which at 800 px was what the longest pod
#: names lacked.
MIN_SECTION = 12


def name_width(wanted: int, viewport: int) -> int:
    """The width Name keeps before other columns get theirs: its rows' width, up to two fifths of the view (at least
    200 px). A 1280 px window with the details pane open showed names as "…" (the fitted columns took it all); with a
    third, pod names five levels deep still lost their distinguishing tail (the view now elides the middle)."""
    return min(wanted, max(200, viewport * 2 // 5))


def name_floor(wanted: int, viewport: int) -> int:
    """The narrowest Name is made to give the other columns their widths: a third of the view (at least 200 px).
    At 2/5 a 1280 px window with the details pane open (a 746 px view) left the pods' CPU and Memory figures 24 px
    short, elided to "36…2%"; pod names elide in the middle and keep their distinguishing tail at a third."""
    return min(wanted, max(200, viewport // 3))


def share(wanted: dict[int, int], room: int, keep: Sequence[int] = (), floor: int = MIN_COLUMN) -> dict[int, int]:
    """Widths for columns wanting ``wanted`` in ``room`` pixels: all they want if it fits, else water-filling
    (narrow columns keep their width, the wide ones share the rest equally, none under ``floor`` unless it wants
    less: an empty column widened to the floor took what a name lacked).

    Columns in ``keep`` get their width first (up to half the room): a status elided to "Cra…Off" hid the one word
    a user scans the column for, while a roles or image column reads fine shortened."""
    if sum(wanted.values()) <= room:
        return dict(wanted)
    out: dict[int, int] = {}
    for col in keep:
        if col in wanted:
            out[col] = max(min(floor, wanted[col]), min(wanted[col], room // 2))
            room -= out[col]
    wanted = {col: w for col, w in wanted.items() if col not in out}
    left, cols = room, sorted(wanted, key=wanted.__getitem__)
    for i, col in enumerate(cols):
        fair = left // (len(cols) - i)
        out[col] = max(min(floor, wanted[col]), min(wanted[col], fair))
        left -= out[col]
    return out


def fit_widths(cells: dict[int, int], titles: dict[int, int], name_wanted: int, viewport: int,
               keep: Sequence[int] = ()) -> tuple[int, dict[int, int]]:
    """Name's width and the fitted columns' when the rows on screen need ``cells`` and the header ``titles``.

    What gives way, in order, while the columns do not all fit: the titles wider than their column's cells (they
    elide, the tooltip has them: with Pods and Deployments open, the empty "Up-to-date" and "Available" cells of
    the pod rows kept their titles' 170 px and the pod names showed as "sche…j8mk"), then Name, down to
    :func:`name_floor`, then the widest cells (:func:`share`).

    Args:
        cells: Each fitted column's width for its cells on screen.
        titles: Each fitted column's width for its title.
        name_wanted: Name's width for its cells on screen (with the indentation).
        viewport: The view's width.
        keep: Columns that keep their width when the cells do not fit (see :func:`share`).

    Returns:
        The width Name gets at least, and each fitted column's width.
    """
    room = viewport - name_wanted
    if sum(cells.values()) <= room:  # the names whole: the titles share what is left
        extra = {col: max(0, titles[col] - cells[col]) for col in cells}
        given = share(extra, room - sum(cells.values()), floor=0)
        return name_wanted, {col: cells[col] + given[col] for col in cells}
    name = name_width(name_wanted, viewport)
    if sum(cells.values()) > viewport - name:  # Name gives up to name_floor() before cells are elided
        name = max(name_floor(name_wanted, viewport), viewport - sum(cells.values()))
    return name, share(cells, viewport - name, keep)


class ColumnFitter(QObject):
    """Keeps ``stretch`` taking the spare width and ``fitted`` as wide as their contents on screen.

    Args:
        tree: The view.
        stretch: The column that takes the spare width (Name).
        fitted: The columns sized to their contents.
        keep: Fitted columns that keep their width when space is short (Status, the usage figures; see
            :func:`share`).
        busy: Whether the tree is loading (fits then wait :data:`FIT_BUSY_DELAY_MS`).
    """

    def __init__(self, tree: QTreeView, stretch: int, fitted: Sequence[int], keep: Sequence[int] = (),
                 busy: Callable[[], bool] | None = None) -> None:
        super().__init__(tree)
        self.busy = busy
        self.tree = tree
        self.fitted = tuple(fitted)
        self.keep = tuple(keep)
        self.stretch = stretch
        self.fits = 0  # measurements made (tests and benchmarks)
        self.resizes = 0  # fits that changed a width (the window puts the repaint after it off a turn)
        self._name_fixed = False  # Name has a fixed width because the other columns overflow the view
        header = tree.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(MIN_SECTION)
        # A title wider than its column's cells is cut to them (fit_widths): "Avail…" says it was cut, a clipped
        # "Av" does not (the tooltip has the whole title).
        header.setTextElideMode(Qt.TextElideMode.ElideRight)
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        for col in self.fitted:
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FIT_DELAY_MS)
        self._timer.timeout.connect(self.fit)
        tree.viewport().installEventFilter(self)
        self._fitting = False
        header.sectionResized.connect(self._section_resized)

    def _section_resized(self, col: int, old: int, new: int) -> None:
        """A fitted column shown again (the usage columns once figures arrive, a kind's columns) comes back at its
        last or the default width: fit now, or Name stretched into what was left (~150 px at 800 px) until the
        next fit, up to :data:`FIT_BUSY_DELAY_MS` later."""
        if old == 0 and new > 0 and col in self.fitted and not self._fitting:
            self.fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A paint means something new may be on screen: fit once the burst is over."""
        if event.type() == QEvent.Type.Paint and not self._timer.isActive():
            self._timer.start(FIT_BUSY_DELAY_MS if self.busy is not None and self.busy() else FIT_DELAY_MS)
        return False

    @property
    def pending(self) -> bool:
        """Whether a fit is scheduled."""
        return self._timer.isActive()

    def fit(self) -> None:
        """Size each fitted column to the rows on screen and its header (no change, no layout); when they do not
        all fit beside the names, the titles elide to the cells' width first, then the widest cells are narrowed
        (their text elides, the tooltip has it) so Name keeps :func:`name_floor` (see :func:`fit_widths`)."""
        self._fitting = True
        try:
            self._fit()
        finally:
            self._fitting = False

    def _fit(self) -> None:
        self.fits += 1
        header = self.tree.header()
        shown = tuple(col for col in self.fitted if col < header.count() and not header.isSectionHidden(col))
        hints = self.widths(shown)
        cells = {col: max(hints[col], MIN_SECTION) for col in shown}  # the header makes none narrower
        titles = {col: header.sectionSizeHint(col) for col in shown}
        viewport = self.tree.viewport().width()
        name, widths = fit_widths(cells, titles, hints[self.stretch], viewport, self.keep)
        resized = False
        for col, width in widths.items():
            if header.sectionSize(col) != width:
                header.resizeSection(col, width)
                resized = True
        # Columns that cannot all fit even at their narrowest (a CRD printing nine columns) would squeeze a
        # stretching Name to nothing: Name keeps its width and the view scrolls sideways instead.
        overflow = sum(widths.values()) > viewport - name
        if overflow != self._name_fixed:
            self._name_fixed = overflow
            mode = QHeaderView.ResizeMode.Fixed if overflow else QHeaderView.ResizeMode.Stretch
            header.setSectionResizeMode(self.stretch, mode)
            resized = True
        if overflow and header.sectionSize(self.stretch) != name:
            header.resizeSection(self.stretch, name)
            resized = True
        self.resizes += resized

    def widths(self, columns: tuple[int, ...]) -> dict[int, int]:
        """``sizeHintForColumn`` of ``columns`` and of Name: from the row painter's texts when it paints the rows
        (Qt's asks the delegate for every cell, a call into Python each; see :mod:`~kube9_desktop.ui.row_widths`),
        else Qt's."""
        painter = getattr(self.tree, "row_painter", None)
        fast = painter.widths.measure((self.stretch, *columns)) if painter is not None else None
        if fast is not None:
            return fast
        return {col: self.tree.sizeHintForColumn(col) for col in (self.stretch, *columns)}

    def stop(self) -> None:
        """No more fitting (the window is closing)."""
        self._timer.stop()
        self.tree.viewport().removeEventFilter(self)
        self.tree.header().sectionResized.disconnect(self._section_resized)
