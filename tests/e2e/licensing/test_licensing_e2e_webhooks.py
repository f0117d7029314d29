"""Partner webhook endpoints through the real Envoy edge, with the API key alone: REST paths, the secret shown
once, https/SSRF refusals as 400 with a reason, the delivery log and deletion."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.licensing.edge_partner import Partner, create_admin, keyed, onboard, partner_edge_stack, reason
from tests.support.stack import EdgeStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[EdgeStack]:
    with partner_edge_stack() as running:
        yield running


@pytest.fixture(scope="module")
def partner(stack: EdgeStack, http: httpx.Client) -> Partner:
    # BASIC: this module makes more keyed calls than the FREE quota of the partner stack allows per minute.
    return onboard(http, create_admin(stack, http), tier="LICENSE_TIER_BASIC")


def test_webhook_endpoints_over_rest_with_the_key_alone(http: httpx.Client, partner: Partner) -> None:
    key = keyed(partner.secret)
    hooks = "/v1/partners/me/webhookEndpoints"
    body = {
        "url": "http://127.0.0.1:9/hooks",
        "eventTypes": ["WEBHOOK_EVENT_TYPE_OPERATION_COMMITTED", "WEBHOOK_EVENT_TYPE_OPERATION_FAILED"],
        "description": "orders",
    }
    created = http.post(hooks, json=body, headers={**key, "Idempotency-Key": str(uuid.uuid4())})
    assert created.status_code == 200, created.text
    answer = created.json()
    endpoint = answer["webhookEndpoint"]
    assert answer["secret"].startswith("whsec_") and endpoint["secretPrefix"] == answer["secret"][:10]
    assert (endpoint["partnerId"], endpoint["state"]) == (
        partner.partner_id,
        "WEBHOOK_ENDPOINT_STATE_ENABLED",
    )

    listed = http.get(hooks, headers=key)
    assert listed.status_code == 200, listed.text
    assert [e["endpointId"] for e in listed.json()["webhookEndpoints"]] == [endpoint["endpointId"]]
    assert "secret" not in listed.text.replace("secretPrefix", "")
    log = http.get(f"{hooks}/{endpoint['endpointId']}/deliveries", headers=key)
    assert log.status_code == 200 and log.json().get("webhookDeliveries", []) == []

    rolled = http.post(
        f"{hooks}/{endpoint['endpointId']}:rollSecret", json={"gracePeriod": "3600s"}, headers=key
    )
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["secret"].startswith("whsec_") and rolled.json()["secret"] != answer["secret"]
    assert "previousSecretExpireTime" in rolled.json()["webhookEndpoint"]

    patched = http.patch(
        f"{hooks}/{endpoint['endpointId']}",
        params={"updateMask": "state,description"},
        json={"state": "WEBHOOK_ENDPOINT_STATE_DISABLED", "description": "paused"},
        headers=key,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["webhookEndpoint"]["state"], patched.json()["webhookEndpoint"]["description"]) == (
        "WEBHOOK_ENDPOINT_STATE_DISABLED",
        "paused",
    )
    unsafe = http.patch(
        f"{hooks}/{endpoint['endpointId']}",
        params={"updateMask": "url"},
        json={"url": "https://192.168.0.10/hooks"},
        headers=key,
    )
    assert (unsafe.status_code, reason(unsafe)) == (400, "WEBHOOK_URL_ADDRESS_REFUSED")

    deleted = http.delete(f"{hooks}/{endpoint['endpointId']}", headers=key)
    assert deleted.status_code == 200, deleted.text
    gone = http.get(f"{hooks}/{endpoint['endpointId']}", headers=key)
    assert (gone.status_code, reason(gone)) == (404, "WEBHOOK_ENDPOINT_NOT_FOUND")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.com/hooks", "WEBHOOK_URL_NOT_HTTPS"),
        ("https://10.0.0.8/hooks", "WEBHOOK_URL_ADDRESS_REFUSED"),
        ("https://169.254.169.254/latest/meta-data/", "WEBHOOK_URL_ADDRESS_REFUSED"),
    ],
)
def test_non_https_and_private_targets_are_400_with_a_reason(
    http: httpx.Client, partner: Partner, url: str, expected: str
) -> None:
    refused = http.post(
        "/v1/partners/me/webhookEndpoints",
        json={"url": url, "eventTypes": ["WEBHOOK_EVENT_TYPE_OPERATION_COMMITTED"]},
        headers=keyed(partner.secret),
    )
    assert (refused.status_code, reason(refused)) == (400, expected), refused.text
