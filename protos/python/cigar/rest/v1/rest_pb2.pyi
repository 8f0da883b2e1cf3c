from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
ROUTE_FIELD_NUMBER: int
route: _descriptor.FieldDescriptor

class RestRoute(_message.Message):
    __slots__ = ("auth", "success_status", "bare_array_field", "form_body", "trailing_slash", "error_statuses", "response_headers", "response_media_types", "request_media_types", "location", "etag")
    class Auth(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        AUTH_UNSPECIFIED: _ClassVar[RestRoute.Auth]
        AUTH_NONE: _ClassVar[RestRoute.Auth]
        AUTH_BEARER: _ClassVar[RestRoute.Auth]
    AUTH_UNSPECIFIED: RestRoute.Auth
    AUTH_NONE: RestRoute.Auth
    AUTH_BEARER: RestRoute.Auth
    class Header(_message.Message):
        __slots__ = ("name", "value", "description")
        NAME_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
        name: str
        value: str
        description: str
        def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...
    AUTH_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_STATUS_FIELD_NUMBER: _ClassVar[int]
    BARE_ARRAY_FIELD_FIELD_NUMBER: _ClassVar[int]
    FORM_BODY_FIELD_NUMBER: _ClassVar[int]
    TRAILING_SLASH_FIELD_NUMBER: _ClassVar[int]
    ERROR_STATUSES_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_HEADERS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_MEDIA_TYPES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_MEDIA_TYPES_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    auth: RestRoute.Auth
    success_status: int
    bare_array_field: str
    form_body: bool
    trailing_slash: bool
    error_statuses: _containers.RepeatedScalarFieldContainer[int]
    response_headers: _containers.RepeatedCompositeFieldContainer[RestRoute.Header]
    response_media_types: _containers.RepeatedScalarFieldContainer[str]
    request_media_types: _containers.RepeatedScalarFieldContainer[str]
    location: str
    etag: bool
    def __init__(self, auth: _Optional[_Union[RestRoute.Auth, str]] = ..., success_status: _Optional[int] = ..., bare_array_field: _Optional[str] = ..., form_body: _Optional[bool] = ..., trailing_slash: _Optional[bool] = ..., error_statuses: _Optional[_Iterable[int]] = ..., response_headers: _Optional[_Iterable[_Union[RestRoute.Header, _Mapping]]] = ..., response_media_types: _Optional[_Iterable[str]] = ..., request_media_types: _Optional[_Iterable[str]] = ..., location: _Optional[str] = ..., etag: _Optional[bool] = ...) -> None: ...
