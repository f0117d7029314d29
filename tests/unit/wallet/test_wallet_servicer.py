"""The UNIMPLEMENTED servicer covers every RPC of its service and answers with a reason, not INTERNAL."""

from __future__ import annotations

import grpc
import pytest
from gx.wallet.v1 import organization_service_pb2

from services.wallet import servicer
from services.wallet.errors import Unimplemented


async def test_every_organization_rpc_raises_unimplemented() -> None:
    methods = organization_service_pb2.DESCRIPTOR.services_by_name["OrganizationService"].methods
    instance = servicer.OrganizationServicer()
    assert len(methods) == 11
    for method in methods:
        with pytest.raises(Unimplemented) as caught:
            await getattr(instance, method.name)(None, None)
        assert caught.value.code == grpc.StatusCode.UNIMPLEMENTED and method.name in caught.value.message
