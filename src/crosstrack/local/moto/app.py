"""moto's WSGI application, as the listeners serve it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]

# The environ key under which moto finds the original spelling of header names that carry
# underscores (werkzeug's server sets it; crosstrack's listener does the same).
PRESERVED_HEADER_NAMES_KEY: str = str(PRESERVED_HEADER_NAMES_ENVIRON_KEY)


def wsgi_app() -> WsgiApp:
    """Every moto service behind one WSGI application, dispatched by host and signature."""
    app: WsgiApp = DomainDispatcherApplication(create_backend_app)
    return app
