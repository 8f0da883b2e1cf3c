from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
    __slots__ = ("skip", "limit")
    SKIP_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    skip: int
    limit: int
    def __init__(self, skip: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ListCigarsResponse(_message.Message):
    __slots__ = ("cigars",)
    CIGARS_FIELD_NUMBER: _ClassVar[int]
    cigars: _containers.RepeatedCompositeFieldContainer[Cigar]
    def __init__(self, cigars: _Optional[_Iterable[_Union[Cigar, _Mapping]]] = ...) -> None: ...

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

class ListMyCigarsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMyCigarsResponse(_message.Message):
    __slots__ = ("cigars",)
    CIGARS_FIELD_NUMBER: _ClassVar[int]
    cigars: _containers.RepeatedCompositeFieldContainer[Cigar]
    def __init__(self, cigars: _Optional[_Iterable[_Union[Cigar, _Mapping]]] = ...) -> None: ...
