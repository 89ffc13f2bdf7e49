"""Turning several hits into one answer: score-weighted voting over clusters of nearby points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .look import Hit

# A hit with score 0 (grounders that give no confidence) still counts as one vote.
_VOTE_FLOOR = 0.05


@dataclass(frozen=True)
class Vote:
    best: Hit  # the highest-scored hit of the winning cluster: its point is a real answer, not an average
    support: int  # hits in the winning cluster
    total: int  # hits voted over
    weight: float  # the winning cluster's summed weight


def aggregate(hits: Sequence[Hit], radius: float) -> Vote:
    """The cluster with the largest summed score wins; hits within `radius` pixels of a cluster's seed join it.

    Seeds are taken strongest first, and a hit also joins a cluster whose seed box contains it, so two reads of one
    wide control (a long label) are one vote rather than two.
    """
    if not hits:
        raise ValueError("nothing to aggregate")
    ranked = sorted(hits, key=lambda hit: hit.score, reverse=True)
    clusters: list[list[Hit]] = []
    for hit in ranked:
        for cluster in clusters:
            seed = cluster[0]
            if seed.point.distance(hit.point) <= radius or (seed.box is not None and seed.box.contains(hit.point)):
                cluster.append(hit)
                break
        else:
            clusters.append([hit])
    weights = [sum(max(hit.score, _VOTE_FLOOR) for hit in cluster) for cluster in clusters]
    # max() keeps the first of equal weights, i.e. the cluster with the strongest seed.
    winner = max(range(len(clusters)), key=lambda i: weights[i])
    return Vote(clusters[winner][0], len(clusters[winner]), len(hits), weights[winner])
