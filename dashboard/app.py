"""The dashboard as a Panel script: `panel serve dashboard/app.py` (one experiment per browser session)."""

from dashboard.ui.factory import create_app
from dashboard.ui.message_bounds import bound_messages

bound_messages()
create_app().servable(title="nn-playground")
