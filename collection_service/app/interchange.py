"""The collection as a file: CSV (RFC 4180, UTF-8) and JSON lines out, CSV in, read as it streams."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

from ..domain import Cigar, CigarFields, FieldViolation, InvalidInput
from .rules import cigar_violations

CSV, NDJSON = "csv", "ndjson"
MEDIA_TYPES = {CSV: "text/csv; charset=utf-8", NDJSON: "application/x-ndjson"}
COLUMNS = ("id", "name", "brand", "origin", "flavor_notes", "rating")
IGNORED = ("id", "owner_id")  # an export's own columns: an import gives new ids to the caller's new cigars
REQUIRED = ("name", "brand", "rating")
CSV_TYPES = ("", "text/csv", "application/csv", "text/plain")  # "": a gRPC caller that did not say
CHUNK_BYTES = 64 * 1024  # what one message of an export carries, about
REPORTED = 20  # invalid lines listed one by one: the error travels in gRPC trailers (8 KiB by default)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r(?!$))")  # a line and its end; a lone \r at the end may be \r\n


def export_format(accept: str | None) -> str:
    """JSON lines when the caller's Accept header asks for them, else CSV."""
    return NDJSON if accept and "application/x-ndjson" in accept.lower() else CSV


def encode(cigars: Iterable[Cigar], fmt: str, header: bool = False) -> Iterator[bytes]:
    """The cigars as lines of the format, in chunks of about CHUNK_BYTES; the CSV header first if asked."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header and fmt == CSV:
        writer.writerow(COLUMNS)
    for c in cigars:
        if fmt == CSV:
            writer.writerow((c.id, c.name, c.brand, c.origin, c.flavor_notes, c.rating))
        else:
            out.write(json.dumps(c._asdict(), ensure_ascii=False, separators=(",", ":")) + "\n")
        if out.tell() >= CHUNK_BYTES:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue().encode()


@dataclass(frozen=True, slots=True)
class ParsedLine:
    line: int  # where the record starts in the file (the header is line 1)
    fields: CigarFields


class _Violations:
    """The first REPORTED violations, and how many lines were invalid in all."""

    def __init__(self) -> None:
        self.listed: list[FieldViolation] = []
        self.lines = 0

    def add(self, line: int, found: list[FieldViolation]) -> None:
        self.lines += 1
        if self.lines <= REPORTED:
            self.listed += [FieldViolation(f"line {line}.{v.field}" if v.field else f"line {line}", v.description)
                            for v in found]  # fmt: skip
        elif self.lines == REPORTED + 1:
            self.listed.append(FieldViolation("body", "more invalid lines (not listed)"))

    def raise_if_any(self) -> None:
        if self.listed:
            if self.lines > REPORTED:
                self.listed[-1] = FieldViolation("body", f"{self.lines - REPORTED} more invalid lines (not listed)")
            raise InvalidInput(self.listed)


async def records(chunks: AsyncIterator[bytes], max_bytes: int) -> AsyncIterator[tuple[int, list[str] | None]]:
    """(first line number, fields) of each CSV record, decoded as the bytes arrive. A record ends at a line end
    outside quotes: RFC 4180 doubles quotes inside a field, so an even count of them so far means outside."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    record: list[str] = []
    pending, start, line_no, size = "", 1, 0, 0
    final = False
    iterator = aiter(chunks)
    while not final:
        try:
            chunk = await anext(iterator)
        except StopAsyncIteration:
            chunk, final = b"", True
        size += len(chunk)
        if size > max_bytes:
            raise InvalidInput([FieldViolation("body", f"must be at most {max_bytes} bytes")])
        try:
            text = pending + decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            raise InvalidInput([FieldViolation("body", f"is not UTF-8 text: {exc.reason}")]) from None
        lines = _LINE.findall(text)
        pending = text[sum(map(len, lines)) :]
        if final and pending:
            lines.append(pending)
        for physical in lines:
            line_no += 1
            if not record:
                start = line_no
            record.append(physical)
            if sum(part.count('"') for part in record) % 2 == 0:
                yield start, _fields(record)
                record = []
    if record:  # a quote never closed
        yield start, _fields(record)


def _fields(record: list[str]) -> list[str] | None:
    """The fields of one record's lines; None when it is not CSV (an unclosed quote, a field over 128 KiB)."""
    try:
        return next(csv.reader(record, strict=True), [])
    except csv.Error:
        return None


def _header(fields: list[str]) -> dict[str, int]:
    names = [f.strip().lower() for f in fields]
    problems = [f"unknown column {n!r}" for n in names if n not in (*COLUMNS, *IGNORED)]
    problems += [f"column {n!r} appears twice" for n in set(names) if names.count(n) > 1]
    problems += [f"column {n!r} is missing" for n in REQUIRED if n not in names]
    if problems:
        raise InvalidInput([FieldViolation("header", "; ".join(problems))])
    return {name: i for i, name in enumerate(names)}


def _cigar(values: list[str], columns: dict[str, int]) -> tuple[CigarFields | None, list[FieldViolation]]:
    if len(values) != len(columns):
        return None, [FieldViolation("", f"has {len(values)} fields, the header {len(columns)}")]
    text = {name: values[columns[name]] if name in columns else "" for name in ("name", "brand", "origin",
                                                                               "flavor_notes")}  # fmt: skip
    raw_rating = values[columns["rating"]].strip()
    if not re.fullmatch(r"[+-]?\d{1,9}", raw_rating):
        return None, [FieldViolation("rating", "must be an integer from 1 to 5")]
    fields = CigarFields(rating=int(raw_rating), **text)
    return fields, cigar_violations(fields)


async def parse_csv(chunks: AsyncIterator[bytes], max_bytes: int, max_cigars: int) -> list[ParsedLine]:
    """Every cigar line of a CSV file with a header line, or InvalidInput naming each invalid line (the first
    REPORTED of them, and how many more). Blank lines are skipped."""
    columns: dict[str, int] | None = None
    parsed: list[ParsedLine] = []
    invalid = _Violations()
    async for line, values in records(chunks, max_bytes):
        if values is None:
            if columns is None:
                raise InvalidInput([FieldViolation("header", "is not a CSV line")])
            invalid.add(line, [FieldViolation("", "is not CSV (a quote not closed, or a field over 128 KiB)")])
            continue
        if not values or values == [""]:
            continue
        if columns is None:
            columns = _header(values)
            continue
        fields, violations = _cigar(values, columns)
        if violations:
            invalid.add(line, violations)
        elif fields is not None:
            parsed.append(ParsedLine(line, fields))
        if len(parsed) + invalid.lines > max_cigars:
            raise InvalidInput([FieldViolation("body", f"must hold at most {max_cigars} cigars")])
    if columns is None:
        raise InvalidInput([FieldViolation("header", "is missing: the file is empty")])
    invalid.raise_if_any()
    return parsed
