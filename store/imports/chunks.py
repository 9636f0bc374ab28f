"""Uploaded import files, kept in the database in chunks until their import finishes.

Why the database and not a local directory: app processes are stateless and workers may run
on other hosts (`leadpipe worker`), and a crash or restart between the upload and its
processing must lose nothing. Each chunk is written in its own short transaction as the upload
streams in, so neither the whole file in memory nor a long write lock is ever needed; the
worker reads it back one chunk at a time through `ChunkReader`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from store.db import reading, transaction
from store.models import ImportChunk

CHUNK_BYTES = 1024 * 1024


def rechunk(blocks: Iterable[bytes], size: int | None = None) -> Iterator[bytes]:
    """Regroup the network's small blocks into chunks of ``size`` bytes (the last may be less)."""
    size = size or CHUNK_BYTES
    buffer = bytearray()
    for block in blocks:
        buffer += block
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


@transaction
def append(tenant_id: str, import_id: str, seq: int, data: bytes) -> None:
    ImportChunk.insert(tenant_id=tenant_id, import_id=import_id, seq=seq, data=data).execute()


@reading
def read(tenant_id: str, import_id: str, seq: int) -> bytes | None:
    data = (
        ImportChunk.select(ImportChunk.data)
        .where(
            (ImportChunk.tenant_id == tenant_id)
            & (ImportChunk.import_id == import_id)
            & (ImportChunk.seq == seq)
        )
        .scalar()
    )
    return None if data is None else bytes(data)


def delete(tenant_id: str, import_id: str) -> None:
    """Drop the file (inside the caller's transaction)."""
    ImportChunk.delete().where(
        (ImportChunk.tenant_id == tenant_id) & (ImportChunk.import_id == import_id)
    ).execute()


class ChunkReader(io.RawIOBase):
    """The stored file as a readable byte stream, one chunk in memory at a time."""

    def __init__(self, tenant_id: str, import_id: str) -> None:
        super().__init__()
        self._tenant_id, self._import_id = tenant_id, import_id
        self._seq = 0
        self._chunk = b""
        self._offset = 0
        self.consumed = 0  # bytes handed out so far: the import's progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._offset >= len(self._chunk):
            chunk = read(self._tenant_id, self._import_id, self._seq)
            if chunk is None:
                return 0
            self._chunk, self._offset, self._seq = chunk, 0, self._seq + 1
        size = min(len(buffer), len(self._chunk) - self._offset)
        buffer[:size] = self._chunk[self._offset : self._offset + size]
        self._offset += size
        self.consumed += size
        return size


def open_text(tenant_id: str, import_id: str) -> tuple[io.TextIOWrapper, ChunkReader]:
    """The file decoded as UTF-8 (a byte-order mark is skipped), newlines left to `csv`."""
    raw = ChunkReader(tenant_id, import_id)
    text = io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8-sig", newline="")
    return text, raw
