"""Graph passes: one module each, registered here explicitly in the order a recipe usually runs them."""

from edgeshrink.passes import cluster, fuse, pack, prune, quantize, simplify, strip
from edgeshrink.passes.base import PassContext, PassSpec
from edgeshrink.passes.registry import Registry

REGISTRY = Registry([prune.SPEC, simplify.SPEC, fuse.SPEC, cluster.SPEC, quantize.SPEC, strip.SPEC, pack.SPEC])

__all__ = ["PassContext", "PassSpec", "REGISTRY", "Registry"]
