"""The subject and details of licensing's audit rows (pure: messages in, strings out)."""

from __future__ import annotations

from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc

from services.licensing.audit_trail import details_of, subject_of

_P = "0b8e1a52-4a4f-4f55-9a57-1f7a3c1d2e01"
_L = "5c0d9a1e-2b7f-4c3a-8e6d-0a1b2c3d4e5f"
_K = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"


def test_the_subject_spells_the_resource_name_from_the_path_ids() -> None:
    assert subject_of(svc.ApprovePartnerRequest(partner_id=_P)) == f"partners/{_P}"
    revoke = svc.RevokeApiKeyRequest(partner_id=_P, license_id=_L, key_id=_K)
    assert subject_of(revoke) == f"partners/{_P}/licenses/{_L}/apiKeys/{_K}"


def test_an_update_names_its_resource_inside_the_body() -> None:
    update = svc.UpdateLicenseRequest(license=pb.License(partner_id=_P, license_id=_L))
    assert subject_of(update) == f"partners/{_P}/licenses/{_L}"


def test_what_a_write_created_comes_from_its_answer_and_me_is_resolved() -> None:
    created = svc.CreatePartnerResponse(partner=pb.Partner(partner_id=_P))
    assert subject_of(svc.CreatePartnerRequest(name="Acme"), created) == f"partners/{_P}"
    request = svc.CreateApiKeyRequest(partner_id="me", license_id=_L)
    answer = svc.CreateApiKeyResponse(api_key=pb.ApiKey(key_id=_K, partner_id=_P, license_id=_L))
    assert subject_of(request, answer) == f"partners/{_P}/licenses/{_L}/apiKeys/{_K}"
    assert subject_of(request) == f"partners/me/licenses/{_L}"


def test_details_never_carry_a_secret() -> None:
    details = details_of(svc.CreatePartnerRequest(name="Acme", email="ops@acme.example"))
    assert details == {"name": "Acme", "email": "ops@acme.example"}
