"""The CSV import's file as a ``multipart/form-data`` upload (a browser form, any HTTP client).

Connexion's stock multipart validator buffers the whole body in memory to replay it, and its
parameter stage would parse the form again; neither suits a file of up to 100 MB. So the
import's multipart body is parsed once, here, as Connexion's body validator for that media
type: Starlette's parser spools the file to a temporary file (in memory up to 1 MiB, then on
disk), the parts are checked against the spec's schema (exactly one ``file`` part, nothing
else), and the file is handed to the handler in the ASGI scope (`uploaded_file`) while the
request goes on with an empty body. The handler then streams it into the same import path as a
``text/csv`` body.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import IO, Any

from connexion.validators import AbstractRequestBodyValidator
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import Message, Receive, Scope

from store.errors import BadRequest, FieldError, ValidationFailed

SLOT = "leadpipe.uploaded_file"
FIELD = "file"
CHUNK_BYTES = 1024 * 1024


def single_file(form: Any, field: str = FIELD) -> UploadFile:
    """The one file part named ``field`` of a parsed form; any other part is a 422."""
    errors = [FieldError(name, "Unknown field") for name in sorted(set(form.keys()) - {field})]
    parts = form.getlist(field)
    if not parts:
        errors.append(FieldError(field, "Is required"))
    elif len(parts) > 1 or not isinstance(parts[0], UploadFile):
        errors.append(FieldError(field, "Send exactly one file"))
    if errors:
        raise ValidationFailed(errors)
    upload: UploadFile = parts[0]
    return upload


def uploaded_file(scope: Scope) -> IO[bytes] | None:
    """The file `FormUploadValidator` took from this request's form, if it took one."""
    upload = scope.get(SLOT)
    return upload.file if isinstance(upload, UploadFile) else None


def chunks(file: IO[bytes]) -> Iterator[bytes]:
    """The file in 1 MiB blocks, closed at the end (blocking reads: run it in a worker thread)."""
    try:
        yield from iter(lambda: file.read(CHUNK_BYTES), b"")
    finally:
        file.close()


class FormUploadValidator(AbstractRequestBodyValidator):
    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        async def stream() -> AsyncGenerator[bytes, None]:
            while True:
                message = await receive()
                yield message.get("body", b"")
                if not message.get("more_body", False):
                    return

        try:
            form = await MultiPartParser(Headers(scope=scope), stream(), max_files=10, max_fields=10).parse()
        except MultiPartException as exc:
            raise BadRequest(f"Malformed multipart/form-data body: {exc.message}") from exc
        try:
            upload = single_file(form)
        except ValidationFailed:
            await form.close()
            raise
        headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")]
        replaced = {
            **scope,
            SLOT: upload,
            "headers": [*headers, (b"content-type", b"application/octet-stream"), (b"content-length", b"0")],
        }

        async def empty() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        return empty, replaced
