"""The cluster pass: trained weight sharing (k-means codebooks whose shared values are fine-tuned)."""

from edgeshrink.passes.cluster.sharing import SPEC, ClusterConfig, run

__all__ = ["SPEC", "ClusterConfig", "run"]
