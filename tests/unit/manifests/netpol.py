"""A small evaluator of Kubernetes NetworkPolicy semantics, for the manifest tests.

It answers "may pod A open a TCP connection to pod B's port P?" the way an enforcing CNI does:
a pod selected by no policy of a direction is open in that direction; a selected pod allows
exactly what some rule of some selecting policy allows (the union), and a connection needs both
the source's egress and the destination's ingress. Only the selector forms the manifests use
are supported (matchLabels; a namespaceSelector and podSelector in one peer are ANDed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    """One side of a connection.

    Attributes:
        labels: The pod's labels (empty for an address outside the cluster).
        namespace: Its namespace's labels (`kubernetes.io/metadata.name` at least); None outside.
        external: An address outside the cluster (a managed database, the internet).
    """

    labels: dict[str, str] = field(default_factory=dict)
    namespace: dict[str, str] | None = None
    external: bool = False


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, f"unsupported selector {selector}"
    return selector.get("matchLabels", {}).items() <= labels.items()


def _peer_matches(peer: dict[str, Any], other: Endpoint, own_namespace: dict[str, str]) -> bool:
    if "ipBlock" in peer:
        assert not peer["ipBlock"].get("except"), "ipBlock except is not modelled"
        # 0.0.0.0/0 covers every outside address; a narrower block is not assumed to.
        return other.external and peer["ipBlock"]["cidr"] in ("0.0.0.0/0", "::/0")
    if other.external or other.namespace is None:
        return False
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], other.namespace):
            return False
    elif other.namespace != own_namespace:
        return False  # a bare podSelector means the policy's own namespace
    return _selects(peer.get("podSelector", {}), other.labels)


def _port_matches(ports: list[dict[str, Any]] | None, port: int) -> bool:
    if not ports:
        return True
    return any(p.get("protocol", "TCP") == "TCP" and p.get("port") in (None, port) for p in ports)


def _allowed(
    policies: list[dict[str, Any]], pod: Endpoint, other: Endpoint, port: int, direction: str
) -> bool:
    kind, key, peers_key = ("Ingress", "ingress", "from") if direction == "in" else ("Egress", "egress", "to")
    assert pod.namespace is not None
    selecting = [
        p for p in policies
        if kind in p["spec"].get("policyTypes", ["Ingress"]) and _selects(p["spec"]["podSelector"], pod.labels)
    ]  # fmt: skip
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key)
            if peers and not any(_peer_matches(peer, other, pod.namespace) for peer in peers):
                continue
            if _port_matches(rule.get("ports"), port):
                return True
    return False


def connects(
    policies: list[dict[str, Any]], namespace: dict[str, str], source: Endpoint, target: Endpoint, port: int
) -> bool:
    """Whether `source` may connect to `target` on TCP `port`.

    `policies` are those of the namespace labelled `namespace`; an endpoint elsewhere (outside
    the cluster, or in another namespace such as Prometheus's) is not restricted by them.
    """
    egress = source.namespace != namespace or _allowed(policies, source, target, port, "out")
    ingress = target.namespace != namespace or _allowed(policies, target, source, port, "in")
    return egress and ingress
