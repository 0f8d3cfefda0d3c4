"""The aiohttp application: factory, settings, middlewares and lifecycles."""

from .app import create_app
from .settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError", "create_app"]
