"""Settings in the URL query, both ways: `?dataset=toy_xor&hidden=8,8&lr=0.01` presets a session on load,
and every change of a setting rewrites the query (only settings that differ from the defaults), so the address
bar always holds a link that reproduces the current settings.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import param

from ..session.experiment import SETTINGS, Experiment


def apply_query(experiment: Experiment, search: str) -> list[str]:
    """Apply the settings in a query string ('?lr=0.01&...'); refused values keep theirs. Returns the refusals."""
    query = dict(parse_qsl(search.lstrip("?"), keep_blank_values=True))
    if not query:
        return []
    problems = experiment.set_texts(query)
    if problems:
        experiment.param.update(message="Link settings: " + " ".join(problems), message_kind="warning")
    return problems


def query_text(experiment: Experiment) -> str:
    changed = experiment.changed_settings()
    return "?" + urlencode(changed, safe=",") if changed else ""


class UrlSync:
    """Keeps `location.search` (Panel's Location) and the experiment's settings in step."""

    def __init__(self, experiment: Experiment, location) -> None:
        self.experiment, self.location = experiment, location
        self._writing = False
        experiment.param.watch(self._write, list(SETTINGS))
        location.param.watch(self._read, "search")
        self._write()  # drop refused or default values from the address the page was opened with

    def _write(self, *events) -> None:
        text = query_text(self.experiment)
        if text != self.location.search:
            self._writing = True
            try:
                self.location.search = text
            finally:
                self._writing = False

    def _read(self, event: param.parameterized.Event) -> None:
        if self._writing:
            return
        if event.new != query_text(self.experiment):
            apply_query(self.experiment, event.new)
            self._write()  # show the settings as applied (refused values dropped)
