"""The Panel app: the page, its tabs (each a `pn.viewable.Viewer`), the sidebar, live updates and the server."""


def playground(**settings):
    """The app in a Jupyter notebook, with live training: `playground(dataset="toy_xor", hidden="8,8")`."""
    from .factory import playground as build

    return build(**settings)
