"""The dashboard as a Panel script: `panel serve dashboard/app.py` (one experiment per browser session)."""

from dashboard.ui.factory import create_app

create_app().servable(title="nn-playground")
