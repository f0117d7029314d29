"""One whole mesh for the SDK journeys (Python and TypeScript), with a super-admin and a bootstrapped system."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import ledger_rules as rules
from tests.support.edge_rest import create_super_admin
from tests.support.stack import EdgeStack, running_edge_stack

SDK_PYTHON = Path(__file__).resolve().parents[3] / "sdk" / "python" / "src"
# The SDK is tested from its source tree (its `gx` is the same generated code as gen/python).
if str(SDK_PYTHON) not in sys.path:
    sys.path.insert(0, str(SDK_PYTHON))

from google.protobuf import timestamp_pb2  # noqa: E402
from gx.licensing.v1 import licensing_pb2, licensing_service_pb2  # noqa: E402
from gx.wallet.v1 import admin_service_pb2  # noqa: E402
from gx_client import Client  # noqa: E402

PASSWORD = "Sdk journey pass 2026!"
_MESH = (
    "postgres",
    "redis",
    "migrations",
    "chaincode",
    "devnet",
    "identity",
    "wallet",
    "licensing",
    "outbox",
    "projector",
    "edge",
)


@pytest.fixture(scope="package")
def mesh() -> Iterator[EdgeStack]:
    """The whole mesh on free ports in a temp directory, shared by this package's modules."""
    with running_edge_stack(parts=_MESH) as stack:
        yield stack


@pytest.fixture(scope="package")
def root_email(mesh: EdgeStack) -> str:
    """A super-admin (made with the operator command, as an operator would); its password is PASSWORD."""
    return create_super_admin(mesh.database_url, PASSWORD)


@pytest.fixture(scope="package")
def admin(mesh: EdgeStack, root_email: str) -> Iterator[Client]:
    """The super-admin's SDK client through the edge, the system bootstrapped with the shipped countries."""
    with Client(mesh.edge_address, email=root_email, password=PASSWORD) as client:
        client.operation(client.admin.BootstrapSystem(admin_service_pb2.BootstrapSystemRequest())).wait()
        client.operation(
            client.admin.InitializeCountries(admin_service_pb2.InitializeCountriesRequest())
        ).wait()
        status = client.admin.GetSystemStatus(admin_service_pb2.GetSystemStatusRequest()).system_status
        assert status.bootstrapped and status.total_supply_qirat == rules.TOTAL_SUPPLY
        yield client


@dataclass(frozen=True)
class PartnerKey:
    """An approved partner with a FREE licence and one live key."""

    partner_id: str
    secret: str


@pytest.fixture(scope="package")
def partner_key(mesh: EdgeStack, admin: Client) -> PartnerKey:
    """A partner onboarded with the SDK through the edge: register, apply, approval, licence, key."""
    email = f"dev-{uuid.uuid4().hex[:10]}@fintech.example"
    with Client(mesh.edge_address) as anonymous:
        anonymous.register(email, PASSWORD, country_code="LK", display_name="Dev")
    with Client(mesh.edge_address) as owner:
        # Applying is public, so the client logs in for it only when asked: the owner applies as themself.
        owner.login(email, PASSWORD)
        applied = owner.licensing.CreatePartner(
            licensing_service_pb2.CreatePartnerRequest(
                name=f"Fintech {email[:14]}", email=email, contact_person="Dev", country_code="LK"
            )
        ).partner
        admin.licensing.ApprovePartner(
            licensing_service_pb2.ApprovePartnerRequest(partner_id=applied.partner_id)
        )
        expiry = timestamp_pb2.Timestamp()
        expiry.GetCurrentTime()
        expiry.seconds += 30 * 86_400
        license_ = admin.licensing.IssueLicense(
            licensing_service_pb2.IssueLicenseRequest(
                partner_id=applied.partner_id, tier=licensing_pb2.LICENSE_TIER_FREE, expire_time=expiry
            )
        ).license
        owner.login(email, PASSWORD)  # a fresh token carries ROLE_PARTNER
        created = owner.licensing.CreateApiKey(
            licensing_service_pb2.CreateApiKeyRequest(
                partner_id="me",
                license_id=license_.license_id,
                environment=licensing_pb2.API_KEY_ENVIRONMENT_LIVE,
            )
        )
    assert created.secret
    return PartnerKey(applied.partner_id, created.secret)
