"""Short enum names are derived from the enum: every value but the zero one, prefix stripped."""

from __future__ import annotations

from gx.licensing.v1 import licensing_pb2
from gx.type.v1 import access_pb2

from services.common.enums import by_short_name


def test_short_names_cover_every_value_but_unspecified() -> None:
    assert by_short_name(licensing_pb2.LicenseTier) == {
        "FREE": licensing_pb2.LICENSE_TIER_FREE,
        "BASIC": licensing_pb2.LICENSE_TIER_BASIC,
        "PREMIUM": licensing_pb2.LICENSE_TIER_PREMIUM,
        "ENTERPRISE": licensing_pb2.LICENSE_TIER_ENTERPRISE,
    }
    roles = by_short_name(access_pb2.Role)
    assert "UNSPECIFIED" not in roles and roles["SUPER_ADMIN"] == access_pb2.ROLE_SUPER_ADMIN
    assert len(roles) == len(access_pb2.Role.items()) - 1
