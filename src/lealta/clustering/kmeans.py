"""K-Means segmentation of customers on their RFM(P) features.

The number of clusters ``k`` is either given or chosen as the one with the highest mean
silhouette coefficient over ``k_range``.  The silhouette is always computed on the same
deterministic sample of at most ``sample_size`` customers, because its cost grows with the
square of the number of points (a full silhouette of 100k points takes a minute and over a GB).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn import config_context
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from lealta.clustering.features import FloatMatrix, IntArray, build_features
from lealta.clustering.naming import build_profiles
from lealta.errors import InvalidInput

MAX_K = 50
N_INIT = 10
# Below this many points the silhouette is too noisy to choose k by.
MIN_SAMPLE_SIZE = 100
# MB per chunk of pairwise distances in the silhouette: scikit-learn's default of 1 GB holds a
# whole 10k x 10k matrix, which measured 3x slower (cache misses) and costs the memory.
SILHOUETTE_WORKING_MEMORY_MB = 128
# Below this many customers K-Means runs on one thread: a Lloyd iteration is then well under a
# millisecond of work and OpenMP's per-iteration synchronisation costs more (measured on two
# shared cores: 1k rows 0.04 s on one thread, 0.07-0.45 s on two; 20k rows 0.18 s vs 0.3-1.5 s).
SINGLE_THREAD_BELOW = 20_000


@dataclass(frozen=True)
class ClusterResult:
    """The outcome of :func:`cluster_customers`.

    Attributes
    ----------
    labels
        One row per input customer, in input order: ``customer_id``, ``cluster``,
        ``cluster_name``.
    profiles
        One row per cluster, sorted by ``revenue_share`` descending (that is, by ``cluster``):
        ``cluster``, ``name``, ``customers``, ``customer_share`` (customers / all customers),
        ``revenue`` (sum), ``revenue_share`` (revenue / all revenue), ``mean_recency``,
        ``mean_frequency``, ``mean_monetary`` and, with payment, ``mean_payment`` (after
        imputation).
    k
        The number of clusters.
    silhouette
        Mean silhouette coefficient on the sample for every ``k`` tried; empty if none was.
    notes
        Warnings and remarks in plain words.
    """

    labels: pd.DataFrame
    profiles: pd.DataFrame
    k: int
    silhouette: dict[int, float]
    notes: list[str]


def cluster_customers(
    customers: pd.DataFrame,
    *,
    k: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    seed: int = 42,
    use_payment: bool = False,
    sample_size: int = 10_000,
) -> ClusterResult:
    """Segment customers with K-Means on standardised log RFM(P) features.

    Parameters
    ----------
    customers
        One row per customer: ``customer_id``, ``recency``, ``frequency``, ``monetary``,
        ``revenue`` and, with ``use_payment``, ``payment`` (``NaN`` filled with the median).
    k
        Number of clusters, ``2 <= k <= min(MAX_K, len(customers))``; ``None`` to choose it.
    k_range
        Inclusive ``(lowest, highest)`` ``k`` to try when ``k`` is None,
        ``2 <= lowest <= highest <= MAX_K``.
    seed
        Seeds K-Means and the silhouette sample: same data and seed give the same result.
    use_payment
        Cluster on the payment dimension too (RFMP).
    sample_size
        Most customers the silhouette is computed on, at least ``MIN_SAMPLE_SIZE``.

    Returns
    -------
    ClusterResult
        Clusters numbered by revenue share, 0 the highest; ties go to the larger cluster.

    Raises
    ------
    InvalidInput
        Invalid options, invalid customer data (see
        :func:`lealta.clustering.features.validate_customers`) or ``k`` above the number
        of customers.

    Notes
    -----
    ``k`` is capped at the number of distinct feature rows, since K-Means cannot make more
    clusters than that; the cap is reported in ``notes``.  If every customer has the same
    features the result is a single cluster.  Ties in silhouette go to the smaller ``k``.
    """
    _check_options(k, k_range, seed, sample_size)
    features = build_features(customers, use_payment=use_payment)
    notes = list(features.notes)
    n_customers = len(features.matrix)
    if k is not None and k > n_customers:
        raise InvalidInput(f"k={k} is more than the {n_customers} customers", field="k")
    candidates = _candidate_ks(k, k_range, _count_distinct(features.matrix), notes)
    if candidates:
        labels, scores = _search(features.matrix, candidates, seed, sample_size, notes)
    else:
        notes.append(f"all {n_customers:,} customers have identical features: one cluster")
        labels, scores = np.zeros(n_customers, dtype=np.int64), {}
    revenue = customers["revenue"].to_numpy(dtype=np.float64)
    labels = renumber(labels, revenue)
    profiles = build_profiles(labels, features, revenue)
    table = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "cluster": labels,
            "cluster_name": profiles["name"].to_numpy()[labels],
        }
    )
    return ClusterResult(table, profiles, len(profiles), scores, notes)


def _check_options(k: int | None, k_range: tuple[int, int], seed: int, sample_size: int) -> None:
    if k is not None and (not _is_int(k) or not 2 <= k <= MAX_K):
        raise InvalidInput(f"k must be a whole number from 2 to {MAX_K}, not {k!r}", field="k")
    if (
        not isinstance(k_range, tuple | list)
        or len(k_range) != 2
        or not all(_is_int(bound) for bound in k_range)
        or not 2 <= k_range[0] <= k_range[1] <= MAX_K
    ):
        raise InvalidInput(
            f"k_range must be (lowest, highest) with 2 <= lowest <= highest <= {MAX_K}, "
            f"not {k_range!r}",
            field="k_range",
        )
    if not _is_int(seed) or seed < 0:
        raise InvalidInput(f"seed must be a whole number >= 0, not {seed!r}", field="seed")
    if not _is_int(sample_size) or sample_size < MIN_SAMPLE_SIZE:
        raise InvalidInput(
            f"sample_size must be a whole number >= {MIN_SAMPLE_SIZE}, not {sample_size!r}",
            field="sample_size",
        )


def _is_int(value: object) -> bool:
    # bool is an int subclass, but k=True is a mistake rather than k=1.
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _count_distinct(matrix: FloatMatrix) -> int:
    """Return how many different rows ``matrix`` has."""
    return int((~pd.DataFrame(matrix).duplicated()).sum())


def _candidate_ks(
    k: int | None, k_range: tuple[int, int], distinct: int, notes: list[str]
) -> list[int]:
    """Return the ``k`` values to try, capped at ``distinct``; empty when ``distinct < 2``."""
    if distinct < 2:
        return []
    wanted = [k] if k is not None else list(range(k_range[0], k_range[1] + 1))
    feasible = [value for value in wanted if value <= distinct]
    if len(feasible) < len(wanted):
        notes.append(
            f"only {distinct} distinct customer profiles, so at most {distinct} clusters; "
            f"k above {distinct} was not tried"
        )
    return feasible or [distinct]


def _search(
    matrix: FloatMatrix, candidates: list[int], seed: int, sample_size: int, notes: list[str]
) -> tuple[IntArray, dict[int, float]]:
    """Fit every candidate ``k`` and keep the labels with the best sampled silhouette."""
    sample = sample_indices(len(matrix), sample_size, seed)
    scores: dict[int, float] = {}
    best_labels = np.zeros(len(matrix), dtype=np.int64)
    best_score = -np.inf
    for k in candidates:  # ascending, and only a strictly higher score wins: ties keep smaller k
        labels = fit_labels(matrix, k, seed)
        scores[k] = sampled_silhouette(matrix[sample], labels[sample], k, notes)
        if scores[k] > best_score:
            best_labels, best_score = labels, scores[k]
    return best_labels, scores


def sample_indices(n: int, sample_size: int, seed: int) -> IntArray:
    """Return ``min(n, sample_size)`` distinct row indices, sorted, drawn with ``seed``."""
    if n <= sample_size:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=sample_size, replace=False)).astype(np.int64)


def fit_labels(matrix: FloatMatrix, k: int, seed: int) -> IntArray:
    """Run K-Means (k-means++, ``N_INIT`` restarts, ``random_state=seed``); return labels.

    The caller guarantees at least ``k`` distinct rows, so scikit-learn finds ``k`` non-empty
    clusters and has no reason to warn about duplicate points.
    """
    model = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed)
    threads = 1 if len(matrix) < SINGLE_THREAD_BELOW else None
    with threadpool_limits(limits=threads, user_api="openmp"):
        return np.asarray(model.fit_predict(matrix), dtype=np.int64)


def sampled_silhouette(matrix: FloatMatrix, labels: IntArray, k: int, notes: list[str]) -> float:
    """Return the mean silhouette coefficient of the sampled points.

    The coefficient is undefined with fewer than two clusters in the sample; the score is then
    taken as 0 (no evidence for or against this ``k``) and a note says so.  When every sampled
    point is its own cluster it is 0 by Rousseeuw's convention for single-point clusters.
    """
    present = np.unique(labels).size
    if present < 2:
        notes.append(f"k={k}: the silhouette sample held one cluster only; scored as 0")
        return 0.0
    if present >= len(labels):
        return 0.0
    with config_context(working_memory=SILHOUETTE_WORKING_MEMORY_MB):
        return float(silhouette_score(matrix, labels))


def renumber(labels: IntArray, revenue: npt.NDArray[np.float64]) -> IntArray:
    """Renumber clusters so that 0 has the highest revenue, 1 the next, and so on.

    Ties in revenue go to the cluster with more customers, then to the lower old label, so the
    same labels always map to the same numbers.  ``revenue`` is per customer.
    """
    k = int(labels.max()) + 1
    totals = np.bincount(labels, weights=revenue, minlength=k)
    size = np.bincount(labels, minlength=k)
    order = sorted(range(k), key=lambda old: (-totals[old], -size[old], old))
    mapping = np.empty(k, dtype=np.int64)
    mapping[order] = np.arange(k, dtype=np.int64)
    return mapping[labels]
