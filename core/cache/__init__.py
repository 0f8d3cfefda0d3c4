"""The shared cache layer: named, bounded, TTL'd caches on top of aiocache."""

from .memory import BoundedMemoryCache
from .named import Cache, CacheStats, Ttl
from .registry import CacheRegistry, OrjsonSerializer, redis_options

__all__ = ["BoundedMemoryCache", "Cache", "CacheRegistry", "CacheStats", "OrjsonSerializer", "Ttl", "redis_options"]
