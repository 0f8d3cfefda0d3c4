"""How much a publisher asks for a page, and keeping those lookups safe."""

from .discovery import DiscoveryPolicy, LicenseDiscoverer, TollbitAccount
from .guard import PublicOnlyResolver

__all__ = ["DiscoveryPolicy", "LicenseDiscoverer", "PublicOnlyResolver", "TollbitAccount"]
