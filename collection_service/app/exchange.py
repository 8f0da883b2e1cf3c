"""A collector's own collection as a file: export it (streamed a page at a time), import one (all or nothing)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from ..domain import ACCOUNT_DELETED, FieldViolation, InvalidInput, InvalidToken
from ..ports import Callers, CigarStore, OwnCigarImport
from . import interchange

log = logging.getLogger(__name__)
EXPORT_PAGE = 1000  # cigars read per statement: what an export holds in memory at once
IMPORT_MAX_BYTES = 32 * 1024 * 1024  # about 100,000 cigars with notes; a bigger file is refused, not truncated
IMPORT_MAX_CIGARS = 100_000


@dataclass(frozen=True, slots=True)
class ImportedLine:
    line: int
    id: int


class CigarExchange:
    def __init__(
        self,
        cigars: CigarStore,
        imports: Callable[[], OwnCigarImport],
        tokens: Callers,
        page: int = EXPORT_PAGE,
        max_bytes: int = IMPORT_MAX_BYTES,
        max_cigars: int = IMPORT_MAX_CIGARS,
    ) -> None:
        self._cigars = cigars
        self._imports = imports
        self._tokens = tokens
        self._page = page
        self._max_bytes = max_bytes
        self._max_cigars = max_cigars

    async def export_mine(self, token: str, fmt: str) -> AsyncIterator[bytes]:
        """The caller's cigars in the format, in chunks. The token and the first page are checked before the
        first chunk, so a refused export fails before anything is sent. Keyset pages (id > last) are one
        short statement each: no transaction stays open while a slow client reads."""
        owner_id = await self._tokens.user_id(token)
        page = await self._cigars.page_by_owner(owner_id, 0, self._page)
        if not page and await self._cigars.owner_deleted(owner_id):
            raise InvalidToken(ACCOUNT_DELETED)
        header, count = True, 0
        while True:
            for chunk in interchange.encode(page, fmt, header):
                yield chunk
            header, count = False, count + len(page)
            if len(page) < self._page:
                break
            page = await self._cigars.page_by_owner(owner_id, page[-1].id, self._page)
        if count == 0 and fmt != interchange.CSV:
            yield b""  # one message even for nothing: it carries the content type
        log.info("exported %d cigar(s) of owner=%d as %s", count, owner_id, fmt)

    async def import_mine(self, token: str, content_type: str, body: AsyncIterator[bytes]) -> list[ImportedLine]:
        """Every line of a CSV file becomes a cigar of the caller's, in one transaction; if any line is invalid,
        none does and the error names each invalid line. The file is read (and checked) whole first, so that
        the write transaction is short: on SQLite it holds the database's one write lock."""
        owner_id = await self._tokens.user_id(token)
        media_type = content_type.split(";")[0].strip().lower()
        if media_type not in interchange.CSV_TYPES:
            raise InvalidInput([FieldViolation("content_type", f"must be text/csv, not {media_type!r}")])
        parsed = await interchange.parse_csv(body, self._max_bytes, self._max_cigars)
        async with self._imports() as unit:
            ids = await unit.add_all(owner_id, [p.fields for p in parsed])
            # Checked last, inside the transaction, after the inserts took their write lock: a deletion that
            # committed before is seen here, and one after waits for our commit and then deletes these cigars
            # too (SQLite: the one write lock; PostgreSQL: adapters/db/writes.py).
            if await unit.owner_deleted(owner_id):
                raise InvalidToken(ACCOUNT_DELETED)
            await unit.commit()
        log.info("imported %d cigar(s) for owner=%d", len(ids), owner_id)
        return [ImportedLine(p.line, cigar_id) for p, cigar_id in zip(parsed, ids, strict=True)]
