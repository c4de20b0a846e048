"""Tabs built when first opened: a new page costs the server only the tab it shows (a page's cost: docs/performance.md).

A tab not built yet holds a placeholder; opening it (or `get`) builds it once and puts it in place. A view that
draws only while its tab is open has a `follow(tabs)` method, called once the view is in place.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn


class LazyTabs:
    """`pn.Tabs` over named builders; the first tab is built at once, each other one when first opened."""

    def __init__(self, builders: dict[str, Callable[[], pn.viewable.Viewer]], **options) -> None:
        self._builders = builders
        self._titles = list(builders)
        self._built: dict[str, pn.viewable.Viewer] = {}
        self.tabs = pn.Tabs(*((title, pn.Spacer(name=title)) for title in self._titles), dynamic=True, **options)
        self.tabs.param.watch(self._on_active, "active")
        self.get(self._titles[self.tabs.active])

    def get(self, title: str) -> pn.viewable.Viewer:
        """The view of the tab `title`, built now if it was not yet."""
        if title not in self._built:
            view = self._built[title] = self._builders[title]()
            self.tabs[self._titles.index(title)] = (title, view)
            if hasattr(view, "follow"):
                view.follow(self.tabs)
        return self._built[title]

    def open(self, title: str) -> pn.viewable.Viewer:
        """Show the tab `title` (built now if it was not yet)."""
        view = self.get(title)
        self.tabs.active = self._titles.index(title)
        return view

    def built(self, title: str) -> pn.viewable.Viewer | None:
        """The view of `title` if its tab was built, else None."""
        return self._built.get(title)

    def _on_active(self, event) -> None:
        self.get(self._titles[event.new])
