"""The gx.licensing.v1 gRPC servicer: protos in, use cases called, protos out."""

from __future__ import annotations

import grpc
from gx.licensing.v1 import licensing_service_pb2 as svc
from gx.licensing.v1 import licensing_service_pb2_grpc

from services.common.auth import current_principal, require_principal
from services.licensing.usecases import LicensingUseCases
from services.licensing.webhooks import WebhookUseCases


class LicensingServicer(licensing_service_pb2_grpc.LicensingServiceServicer):
    """Thin adapter: interceptors already validated the request and checked the access rule."""

    def __init__(self, usecases: LicensingUseCases, webhooks: WebhookUseCases) -> None:
        """Wraps the use cases."""
        self._uc = usecases
        self._webhooks = webhooks

    async def CreatePartner(
        self, request: svc.CreatePartnerRequest, context: grpc.aio.ServicerContext
    ) -> svc.CreatePartnerResponse:
        return await self._uc.create_partner(current_principal(), request)

    async def GetPartner(
        self, request: svc.GetPartnerRequest, context: grpc.aio.ServicerContext
    ) -> svc.GetPartnerResponse:
        return await self._uc.get_partner(require_principal(), request)

    async def ListPartners(
        self, request: svc.ListPartnersRequest, context: grpc.aio.ServicerContext
    ) -> svc.ListPartnersResponse:
        return await self._uc.list_partners(require_principal(), request)

    async def ApprovePartner(
        self, request: svc.ApprovePartnerRequest, context: grpc.aio.ServicerContext
    ) -> svc.ApprovePartnerResponse:
        return await self._uc.approve_partner(require_principal(), request)

    async def SuspendPartner(
        self, request: svc.SuspendPartnerRequest, context: grpc.aio.ServicerContext
    ) -> svc.SuspendPartnerResponse:
        return await self._uc.suspend_partner(require_principal(), request)

    async def IssueLicense(
        self, request: svc.IssueLicenseRequest, context: grpc.aio.ServicerContext
    ) -> svc.IssueLicenseResponse:
        return await self._uc.issue_license(require_principal(), request)

    async def UpdateLicense(
        self, request: svc.UpdateLicenseRequest, context: grpc.aio.ServicerContext
    ) -> svc.UpdateLicenseResponse:
        return await self._uc.update_license(require_principal(), request)

    async def SuspendLicense(
        self, request: svc.SuspendLicenseRequest, context: grpc.aio.ServicerContext
    ) -> svc.SuspendLicenseResponse:
        return await self._uc.suspend_license(require_principal(), request)

    async def GetLicense(
        self, request: svc.GetLicenseRequest, context: grpc.aio.ServicerContext
    ) -> svc.GetLicenseResponse:
        return await self._uc.get_license(require_principal(), request)

    async def ListLicenses(
        self, request: svc.ListLicensesRequest, context: grpc.aio.ServicerContext
    ) -> svc.ListLicensesResponse:
        return await self._uc.list_licenses(require_principal(), request)

    async def CreateApiKey(
        self, request: svc.CreateApiKeyRequest, context: grpc.aio.ServicerContext
    ) -> svc.CreateApiKeyResponse:
        return await self._uc.create_api_key(require_principal(), request)

    async def ListApiKeys(
        self, request: svc.ListApiKeysRequest, context: grpc.aio.ServicerContext
    ) -> svc.ListApiKeysResponse:
        return await self._uc.list_api_keys(require_principal(), request)

    async def RevokeApiKey(
        self, request: svc.RevokeApiKeyRequest, context: grpc.aio.ServicerContext
    ) -> svc.RevokeApiKeyResponse:
        return await self._uc.revoke_api_key(require_principal(), request)

    async def RotateApiKey(
        self, request: svc.RotateApiKeyRequest, context: grpc.aio.ServicerContext
    ) -> svc.RotateApiKeyResponse:
        return await self._uc.rotate_api_key(require_principal(), request)

    async def GetUsage(
        self, request: svc.GetUsageRequest, context: grpc.aio.ServicerContext
    ) -> svc.GetUsageResponse:
        return await self._uc.get_usage(require_principal(), request)

    # -- webhooks (services/licensing/webhooks.py) ------------------------------------------------

    async def CreateWebhookEndpoint(
        self, request: svc.CreateWebhookEndpointRequest, context: grpc.aio.ServicerContext
    ) -> svc.CreateWebhookEndpointResponse:
        return await self._webhooks.create_endpoint(require_principal(), request)

    async def ListWebhookEndpoints(
        self, request: svc.ListWebhookEndpointsRequest, context: grpc.aio.ServicerContext
    ) -> svc.ListWebhookEndpointsResponse:
        return await self._webhooks.list_endpoints(require_principal(), request)

    async def GetWebhookEndpoint(
        self, request: svc.GetWebhookEndpointRequest, context: grpc.aio.ServicerContext
    ) -> svc.GetWebhookEndpointResponse:
        return await self._webhooks.get_endpoint(require_principal(), request)

    async def UpdateWebhookEndpoint(
        self, request: svc.UpdateWebhookEndpointRequest, context: grpc.aio.ServicerContext
    ) -> svc.UpdateWebhookEndpointResponse:
        return await self._webhooks.update_endpoint(require_principal(), request)

    async def DeleteWebhookEndpoint(
        self, request: svc.DeleteWebhookEndpointRequest, context: grpc.aio.ServicerContext
    ) -> svc.DeleteWebhookEndpointResponse:
        return await self._webhooks.delete_endpoint(require_principal(), request)

    async def ListWebhookDeliveries(
        self, request: svc.ListWebhookDeliveriesRequest, context: grpc.aio.ServicerContext
    ) -> svc.ListWebhookDeliveriesResponse:
        return await self._webhooks.list_deliveries(require_principal(), request)

    async def ResendWebhookEvent(
        self, request: svc.ResendWebhookEventRequest, context: grpc.aio.ServicerContext
    ) -> svc.ResendWebhookEventResponse:
        return await self._webhooks.resend_event(require_principal(), request)

    async def RollWebhookEndpointSecret(
        self, request: svc.RollWebhookEndpointSecretRequest, context: grpc.aio.ServicerContext
    ) -> svc.RollWebhookEndpointSecretResponse:
        return await self._webhooks.roll_secret(require_principal(), request)
