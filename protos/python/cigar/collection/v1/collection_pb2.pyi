from cigar.rest.v1 import rest_pb2 as _rest_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_CSV: _ClassVar[ExportFormat]
    EXPORT_FORMAT_NDJSON: _ClassVar[ExportFormat]
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_CSV: ExportFormat
EXPORT_FORMAT_NDJSON: ExportFormat

class Cigar(_message.Message):
    __slots__ = ("id", "name", "brand", "origin", "flavor_notes", "rating", "owner_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    FLAVOR_NOTES_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    brand: str
    origin: str
    flavor_notes: str
    rating: int
    owner_id: int
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., brand: _Optional[str] = ..., origin: _Optional[str] = ..., flavor_notes: _Optional[str] = ..., rating: _Optional[int] = ..., owner_id: _Optional[int] = ...) -> None: ...

class ListCigarsRequest(_message.Message):
    __slots__ = ("skip", "limit", "owner_id", "brand", "origin", "min_rating", "q", "page_size", "page_token")
    SKIP_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    MIN_RATING_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    skip: int
    limit: int
    owner_id: int
    brand: str
    origin: str
    min_rating: int
    q: str
    page_size: int
    page_token: str
    def __init__(self, skip: _Optional[int] = ..., limit: _Optional[int] = ..., owner_id: _Optional[int] = ..., brand: _Optional[str] = ..., origin: _Optional[str] = ..., min_rating: _Optional[int] = ..., q: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCigarsResponse(_message.Message):
    __slots__ = ("cigars", "next_page_token")
    CIGARS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    cigars: _containers.RepeatedCompositeFieldContainer[Cigar]
    next_page_token: str
    def __init__(self, cigars: _Optional[_Iterable[_Union[Cigar, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateCigarRequest(_message.Message):
    __slots__ = ("name", "brand", "origin", "flavor_notes", "rating")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    FLAVOR_NOTES_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    name: str
    brand: str
    origin: str
    flavor_notes: str
    rating: int
    def __init__(self, name: _Optional[str] = ..., brand: _Optional[str] = ..., origin: _Optional[str] = ..., flavor_notes: _Optional[str] = ..., rating: _Optional[int] = ...) -> None: ...

class GetCigarRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class UpdateCigarRequest(_message.Message):
    __slots__ = ("id", "cigar", "update_mask")
    ID_FIELD_NUMBER: _ClassVar[int]
    CIGAR_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    id: int
    cigar: CigarChanges
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, id: _Optional[int] = ..., cigar: _Optional[_Union[CigarChanges, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class CigarChanges(_message.Message):
    __slots__ = ("name", "brand", "origin", "flavor_notes", "rating")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    FLAVOR_NOTES_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    name: str
    brand: str
    origin: str
    flavor_notes: str
    rating: int
    def __init__(self, name: _Optional[str] = ..., brand: _Optional[str] = ..., origin: _Optional[str] = ..., flavor_notes: _Optional[str] = ..., rating: _Optional[int] = ...) -> None: ...

class DeleteCigarRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class ListMyCigarsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMyCigarsResponse(_message.Message):
    __slots__ = ("cigars",)
    CIGARS_FIELD_NUMBER: _ClassVar[int]
    cigars: _containers.RepeatedCompositeFieldContainer[Cigar]
    def __init__(self, cigars: _Optional[_Iterable[_Union[Cigar, _Mapping]]] = ...) -> None: ...

class ExportMyCigarsRequest(_message.Message):
    __slots__ = ("format",)
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    format: ExportFormat
    def __init__(self, format: _Optional[_Union[ExportFormat, str]] = ...) -> None: ...

class ImportMyCigarsRequest(_message.Message):
    __slots__ = ("body",)
    BODY_FIELD_NUMBER: _ClassVar[int]
    body: _httpbody_pb2.HttpBody
    def __init__(self, body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class ImportedLine(_message.Message):
    __slots__ = ("line", "id")
    LINE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    line: int
    id: int
    def __init__(self, line: _Optional[int] = ..., id: _Optional[int] = ...) -> None: ...

class ImportMyCigarsResponse(_message.Message):
    __slots__ = ("imported", "lines")
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    imported: int
    lines: _containers.RepeatedCompositeFieldContainer[ImportedLine]
    def __init__(self, imported: _Optional[int] = ..., lines: _Optional[_Iterable[_Union[ImportedLine, _Mapping]]] = ...) -> None: ...

class DeleteMyCigarsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteMyCigarsResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    def __init__(self, deleted: _Optional[int] = ...) -> None: ...

class RevokeMyTokensRequest(_message.Message):
    __slots__ = ("min_token_version",)
    MIN_TOKEN_VERSION_FIELD_NUMBER: _ClassVar[int]
    min_token_version: int
    def __init__(self, min_token_version: _Optional[int] = ...) -> None: ...

class RevokeMyTokensResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
