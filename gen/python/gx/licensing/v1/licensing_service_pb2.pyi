from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import field_info_pb2 as _field_info_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from gx.licensing.v1 import licensing_pb2 as _licensing_pb2
from gx.type.v1 import access_pb2 as _access_pb2
from gx.type.v1 import validation_pb2 as _validation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreatePartnerRequest(_message.Message):
    __slots__ = ("request_id", "name", "email", "contact_person", "country_code")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    CONTACT_PERSON_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    email: str
    contact_person: str
    country_code: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., contact_person: _Optional[str] = ..., country_code: _Optional[str] = ...) -> None: ...

class CreatePartnerResponse(_message.Message):
    __slots__ = ("partner",)
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    partner: _licensing_pb2.Partner
    def __init__(self, partner: _Optional[_Union[_licensing_pb2.Partner, _Mapping]] = ...) -> None: ...

class GetPartnerRequest(_message.Message):
    __slots__ = ("partner_id",)
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    def __init__(self, partner_id: _Optional[str] = ...) -> None: ...

class GetPartnerResponse(_message.Message):
    __slots__ = ("partner",)
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    partner: _licensing_pb2.Partner
    def __init__(self, partner: _Optional[_Union[_licensing_pb2.Partner, _Mapping]] = ...) -> None: ...

class ListPartnersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "state")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    state: _licensing_pb2.PartnerState
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[_licensing_pb2.PartnerState, str]] = ...) -> None: ...

class ListPartnersResponse(_message.Message):
    __slots__ = ("partners", "next_page_token")
    PARTNERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    partners: _containers.RepeatedCompositeFieldContainer[_licensing_pb2.Partner]
    next_page_token: str
    def __init__(self, partners: _Optional[_Iterable[_Union[_licensing_pb2.Partner, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ApprovePartnerRequest(_message.Message):
    __slots__ = ("partner_id", "request_id")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    request_id: str
    def __init__(self, partner_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ApprovePartnerResponse(_message.Message):
    __slots__ = ("partner",)
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    partner: _licensing_pb2.Partner
    def __init__(self, partner: _Optional[_Union[_licensing_pb2.Partner, _Mapping]] = ...) -> None: ...

class SuspendPartnerRequest(_message.Message):
    __slots__ = ("partner_id", "request_id", "reason")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    request_id: str
    reason: str
    def __init__(self, partner_id: _Optional[str] = ..., request_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SuspendPartnerResponse(_message.Message):
    __slots__ = ("partner",)
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    partner: _licensing_pb2.Partner
    def __init__(self, partner: _Optional[_Union[_licensing_pb2.Partner, _Mapping]] = ...) -> None: ...

class IssueLicenseRequest(_message.Message):
    __slots__ = ("partner_id", "request_id", "tier", "expire_time")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    request_id: str
    tier: _licensing_pb2.LicenseTier
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, partner_id: _Optional[str] = ..., request_id: _Optional[str] = ..., tier: _Optional[_Union[_licensing_pb2.LicenseTier, str]] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IssueLicenseResponse(_message.Message):
    __slots__ = ("license",)
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    license: _licensing_pb2.License
    def __init__(self, license: _Optional[_Union[_licensing_pb2.License, _Mapping]] = ...) -> None: ...

class UpdateLicenseRequest(_message.Message):
    __slots__ = ("license", "update_mask", "request_id")
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    license: _licensing_pb2.License
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, license: _Optional[_Union[_licensing_pb2.License, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdateLicenseResponse(_message.Message):
    __slots__ = ("license",)
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    license: _licensing_pb2.License
    def __init__(self, license: _Optional[_Union[_licensing_pb2.License, _Mapping]] = ...) -> None: ...

class SuspendLicenseRequest(_message.Message):
    __slots__ = ("partner_id", "license_id", "request_id", "reason")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    license_id: str
    request_id: str
    reason: str
    def __init__(self, partner_id: _Optional[str] = ..., license_id: _Optional[str] = ..., request_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SuspendLicenseResponse(_message.Message):
    __slots__ = ("license",)
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    license: _licensing_pb2.License
    def __init__(self, license: _Optional[_Union[_licensing_pb2.License, _Mapping]] = ...) -> None: ...

class GetLicenseRequest(_message.Message):
    __slots__ = ("partner_id", "license_id")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    license_id: str
    def __init__(self, partner_id: _Optional[str] = ..., license_id: _Optional[str] = ...) -> None: ...

class GetLicenseResponse(_message.Message):
    __slots__ = ("license",)
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    license: _licensing_pb2.License
    def __init__(self, license: _Optional[_Union[_licensing_pb2.License, _Mapping]] = ...) -> None: ...

class ListLicensesRequest(_message.Message):
    __slots__ = ("partner_id", "page_size", "page_token")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    page_size: int
    page_token: str
    def __init__(self, partner_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLicensesResponse(_message.Message):
    __slots__ = ("licenses", "next_page_token")
    LICENSES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    licenses: _containers.RepeatedCompositeFieldContainer[_licensing_pb2.License]
    next_page_token: str
    def __init__(self, licenses: _Optional[_Iterable[_Union[_licensing_pb2.License, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateApiKeyRequest(_message.Message):
    __slots__ = ("partner_id", "license_id", "request_id", "environment", "display_name")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    license_id: str
    request_id: str
    environment: _licensing_pb2.ApiKeyEnvironment
    display_name: str
    def __init__(self, partner_id: _Optional[str] = ..., license_id: _Optional[str] = ..., request_id: _Optional[str] = ..., environment: _Optional[_Union[_licensing_pb2.ApiKeyEnvironment, str]] = ..., display_name: _Optional[str] = ...) -> None: ...

class CreateApiKeyResponse(_message.Message):
    __slots__ = ("api_key", "secret")
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    api_key: _licensing_pb2.ApiKey
    secret: str
    def __init__(self, api_key: _Optional[_Union[_licensing_pb2.ApiKey, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class ListApiKeysRequest(_message.Message):
    __slots__ = ("partner_id", "license_id", "page_size", "page_token")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    license_id: str
    page_size: int
    page_token: str
    def __init__(self, partner_id: _Optional[str] = ..., license_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListApiKeysResponse(_message.Message):
    __slots__ = ("api_keys", "next_page_token")
    API_KEYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    api_keys: _containers.RepeatedCompositeFieldContainer[_licensing_pb2.ApiKey]
    next_page_token: str
    def __init__(self, api_keys: _Optional[_Iterable[_Union[_licensing_pb2.ApiKey, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RevokeApiKeyRequest(_message.Message):
    __slots__ = ("partner_id", "license_id", "key_id", "request_id")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    license_id: str
    key_id: str
    request_id: str
    def __init__(self, partner_id: _Optional[str] = ..., license_id: _Optional[str] = ..., key_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RevokeApiKeyResponse(_message.Message):
    __slots__ = ("api_key",)
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: _licensing_pb2.ApiKey
    def __init__(self, api_key: _Optional[_Union[_licensing_pb2.ApiKey, _Mapping]] = ...) -> None: ...

class RotateApiKeyRequest(_message.Message):
    __slots__ = ("partner_id", "license_id", "key_id", "request_id", "grace_period")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    license_id: str
    key_id: str
    request_id: str
    grace_period: _duration_pb2.Duration
    def __init__(self, partner_id: _Optional[str] = ..., license_id: _Optional[str] = ..., key_id: _Optional[str] = ..., request_id: _Optional[str] = ..., grace_period: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RotateApiKeyResponse(_message.Message):
    __slots__ = ("old_api_key", "api_key", "secret")
    OLD_API_KEY_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    old_api_key: _licensing_pb2.ApiKey
    api_key: _licensing_pb2.ApiKey
    secret: str
    def __init__(self, old_api_key: _Optional[_Union[_licensing_pb2.ApiKey, _Mapping]] = ..., api_key: _Optional[_Union[_licensing_pb2.ApiKey, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class GetUsageRequest(_message.Message):
    __slots__ = ("partner_id", "license_id", "start_time", "end_time", "granularity")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    license_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    granularity: _licensing_pb2.UsageGranularity
    def __init__(self, partner_id: _Optional[str] = ..., license_id: _Optional[str] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., granularity: _Optional[_Union[_licensing_pb2.UsageGranularity, str]] = ...) -> None: ...

class GetUsageResponse(_message.Message):
    __slots__ = ("usage",)
    USAGE_FIELD_NUMBER: _ClassVar[int]
    usage: _licensing_pb2.Usage
    def __init__(self, usage: _Optional[_Union[_licensing_pb2.Usage, _Mapping]] = ...) -> None: ...

class CreateWebhookEndpointRequest(_message.Message):
    __slots__ = ("partner_id", "request_id", "url", "event_types", "description")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    request_id: str
    url: str
    event_types: _containers.RepeatedScalarFieldContainer[_licensing_pb2.WebhookEventType]
    description: str
    def __init__(self, partner_id: _Optional[str] = ..., request_id: _Optional[str] = ..., url: _Optional[str] = ..., event_types: _Optional[_Iterable[_Union[_licensing_pb2.WebhookEventType, str]]] = ..., description: _Optional[str] = ...) -> None: ...

class CreateWebhookEndpointResponse(_message.Message):
    __slots__ = ("webhook_endpoint", "secret")
    WEBHOOK_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    webhook_endpoint: _licensing_pb2.WebhookEndpoint
    secret: str
    def __init__(self, webhook_endpoint: _Optional[_Union[_licensing_pb2.WebhookEndpoint, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class ListWebhookEndpointsRequest(_message.Message):
    __slots__ = ("partner_id", "page_size", "page_token")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    page_size: int
    page_token: str
    def __init__(self, partner_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListWebhookEndpointsResponse(_message.Message):
    __slots__ = ("webhook_endpoints", "next_page_token")
    WEBHOOK_ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    webhook_endpoints: _containers.RepeatedCompositeFieldContainer[_licensing_pb2.WebhookEndpoint]
    next_page_token: str
    def __init__(self, webhook_endpoints: _Optional[_Iterable[_Union[_licensing_pb2.WebhookEndpoint, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetWebhookEndpointRequest(_message.Message):
    __slots__ = ("partner_id", "endpoint_id")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    endpoint_id: str
    def __init__(self, partner_id: _Optional[str] = ..., endpoint_id: _Optional[str] = ...) -> None: ...

class GetWebhookEndpointResponse(_message.Message):
    __slots__ = ("webhook_endpoint",)
    WEBHOOK_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    webhook_endpoint: _licensing_pb2.WebhookEndpoint
    def __init__(self, webhook_endpoint: _Optional[_Union[_licensing_pb2.WebhookEndpoint, _Mapping]] = ...) -> None: ...

class UpdateWebhookEndpointRequest(_message.Message):
    __slots__ = ("webhook_endpoint", "update_mask", "request_id")
    WEBHOOK_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    webhook_endpoint: _licensing_pb2.WebhookEndpoint
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, webhook_endpoint: _Optional[_Union[_licensing_pb2.WebhookEndpoint, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdateWebhookEndpointResponse(_message.Message):
    __slots__ = ("webhook_endpoint",)
    WEBHOOK_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    webhook_endpoint: _licensing_pb2.WebhookEndpoint
    def __init__(self, webhook_endpoint: _Optional[_Union[_licensing_pb2.WebhookEndpoint, _Mapping]] = ...) -> None: ...

class DeleteWebhookEndpointRequest(_message.Message):
    __slots__ = ("partner_id", "endpoint_id", "request_id")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    endpoint_id: str
    request_id: str
    def __init__(self, partner_id: _Optional[str] = ..., endpoint_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteWebhookEndpointResponse(_message.Message):
    __slots__ = ("endpoint_id",)
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    endpoint_id: str
    def __init__(self, endpoint_id: _Optional[str] = ...) -> None: ...

class ListWebhookDeliveriesRequest(_message.Message):
    __slots__ = ("partner_id", "endpoint_id", "page_size", "page_token", "event_id")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    endpoint_id: str
    page_size: int
    page_token: str
    event_id: str
    def __init__(self, partner_id: _Optional[str] = ..., endpoint_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., event_id: _Optional[str] = ...) -> None: ...

class ListWebhookDeliveriesResponse(_message.Message):
    __slots__ = ("webhook_deliveries", "next_page_token")
    WEBHOOK_DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    webhook_deliveries: _containers.RepeatedCompositeFieldContainer[_licensing_pb2.WebhookDelivery]
    next_page_token: str
    def __init__(self, webhook_deliveries: _Optional[_Iterable[_Union[_licensing_pb2.WebhookDelivery, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ResendWebhookEventRequest(_message.Message):
    __slots__ = ("partner_id", "endpoint_id", "event_id", "request_id")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    endpoint_id: str
    event_id: str
    request_id: str
    def __init__(self, partner_id: _Optional[str] = ..., endpoint_id: _Optional[str] = ..., event_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ResendWebhookEventResponse(_message.Message):
    __slots__ = ("webhook_delivery",)
    WEBHOOK_DELIVERY_FIELD_NUMBER: _ClassVar[int]
    webhook_delivery: _licensing_pb2.WebhookDelivery
    def __init__(self, webhook_delivery: _Optional[_Union[_licensing_pb2.WebhookDelivery, _Mapping]] = ...) -> None: ...

class RollWebhookEndpointSecretRequest(_message.Message):
    __slots__ = ("partner_id", "endpoint_id", "request_id", "grace_period")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    endpoint_id: str
    request_id: str
    grace_period: _duration_pb2.Duration
    def __init__(self, partner_id: _Optional[str] = ..., endpoint_id: _Optional[str] = ..., request_id: _Optional[str] = ..., grace_period: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RollWebhookEndpointSecretResponse(_message.Message):
    __slots__ = ("webhook_endpoint", "secret")
    WEBHOOK_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    webhook_endpoint: _licensing_pb2.WebhookEndpoint
    secret: str
    def __init__(self, webhook_endpoint: _Optional[_Union[_licensing_pb2.WebhookEndpoint, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...
