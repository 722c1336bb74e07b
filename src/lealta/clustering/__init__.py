"""Customer segmentation with K-Means on RFM(P) features, behind ``lealta cluster``."""

from __future__ import annotations

from lealta.clustering.features import Features, build_features, standardise
from lealta.clustering.kmeans import ClusterResult, cluster_customers
from lealta.clustering.naming import (
    Population,
    Tertiles,
    build_profiles,
    describe_population,
    name_clusters,
)

__all__ = [
    "ClusterResult",
    "Features",
    "Population",
    "Tertiles",
    "build_features",
    "build_profiles",
    "cluster_customers",
    "describe_population",
    "name_clusters",
    "standardise",
]
