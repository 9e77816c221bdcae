"""The HTTP layer: app factory, cross-cutting routes, middleware and error handlers."""

from api_app.app import create_app

__all__ = ["create_app"]
