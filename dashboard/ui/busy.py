"""A "working" badge over the views from the moment a setting changes, or a file is uploaded, until the server has
handled it. The page shows it as soon as it sends a change, then sends a numbered `request`; the server handles a
session's messages in order (and waits for work handed to a thread, `parts.in_thread`), so its echo in `done` means
all sent before is handled. Not server-side: with Panel 1.9 a `loading` set and cleared in a callback reached the
page as on, off, on; `pn.state.busy` is one flag for all sessions; and under load a change waits behind others.
"""

from __future__ import annotations

from typing import ClassVar

import panel as pn
import param

from .parts import settled

SHOW_AFTER_MS = 150  # a change handled faster than this shows nothing (no flicker on a quiet server)
WATCHED = ("value", "active", "filename")  # the properties a user's input changes (widgets, choices, tabs, files)
# The events a user's input sends: a file's chunks (the uploads are FileDroppers, parts.file_dropper).
WATCHED_EVENTS = ("upload_event",)


class BusyBadge(pn.custom.JSComponent):
    """The badge (fixed at the top right of the window, over the views), shown from a change until it is handled."""

    request = param.Integer(default=0, doc="Set by the page after each change it sends.")
    done = param.Integer(default=0, doc="Set by the server to the last request it has handled.")

    _esm = f"""
export function render({{ model, el, view }}) {{
  const badge = document.createElement('div');
  badge.className = 'nnp-busy';
  badge.setAttribute('role', 'status');
  badge.innerHTML = '<span class="nnp-spinner"></span>Working…';
  badge.hidden = true;
  let timer = null;
  const settle = () => {{
    if (model.done < model.request) return;
    clearTimeout(timer);
    timer = null;
    badge.hidden = true;
  }};
  const sent = (event) => event.kind === 'MessageSent' && event.msg_data != null &&
                         {list(WATCHED_EVENTS)}.includes(event.msg_data.event_name);
  view.model.document.on_change((event) => {{
    if (!event.sync || event.model === view.model) return;
    if (!{list(WATCHED)}.includes(event.attr) && !sent(event)) return;
    model.request = model.request + 1;
    if (timer === null) timer = setTimeout(() => {{ if (model.done < model.request) badge.hidden = false; }},
                                           {SHOW_AFTER_MS});
  }});
  model.on('done', settle);
  return badge;
}}"""
    _stylesheets: ClassVar[list[str]] = ["""
.nnp-busy { position: fixed; top: 64px; right: 24px; z-index: 1000; padding: 6px 14px 6px 10px;
            background: #fff8e1; border: 1px solid #e0b84c; border-radius: 16px; font-size: 13px;
            box-shadow: 0 1px 4px rgba(0, 0, 0, 0.2); }
.nnp-spinner { display: inline-block; width: 12px; height: 12px; margin-right: 8px; vertical-align: -2px;
               border: 2px solid #e0b84c; border-top-color: transparent; border-radius: 50%;
               animation: nnp-spin 0.8s linear infinite; }
@keyframes nnp-spin { to { transform: rotate(360deg); } }
"""]

    def __init__(self, **params) -> None:
        super().__init__(**{"height": 0, "width": 0, "margin": 0, **params})

    @param.depends("request", watch=True)
    async def _handled(self) -> None:
        request = self.request
        await settled()
        self.done = max(self.done, request)
