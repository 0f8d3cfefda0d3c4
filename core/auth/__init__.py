"""Who is calling: identity providers and the cached token validator."""

from .identity import IdentityProvider, Principal, TokenGrant
from .ledewire import LedeWireIdentity
from .local import LocalIdentity
from .passwords import PasswordHasher
from .tokens import TokenValidator

__all__ = ["IdentityProvider", "LedeWireIdentity", "LocalIdentity", "PasswordHasher", "Principal", "TokenGrant", "TokenValidator"]
