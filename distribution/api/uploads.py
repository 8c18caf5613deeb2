"""Receive an upload body, multipart or raw, into a temporary file while hashing it.

Nothing is held in memory beyond one chunk: under ASGI Django has already spooled the body to
a temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE, and this copies it onward in chunks while
computing SHA-256 and MD5. The caller owns the result and must `close()` it, which deletes it.
"""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest, UnreadablePostError

from distribution.services.assets import ReceivedUpload, upload_too_large
from enterprise_suite.errors import ValidationFailed

MULTIPART_FIELD = "file"


def receive_upload(request: HttpRequest, *, max_bytes: int) -> ReceivedUpload:
    """The uploaded file of a multipart form (field `file`) or of a raw request body."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > max_bytes + 64 * 1024:  # room for multipart headers
        raise upload_too_large(max_bytes)
    content_type = request.META.get("CONTENT_TYPE", "")
    target = tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115
    try:
        if content_type.startswith("multipart/form-data"):
            request.upload_handlers = [TemporaryFileUploadHandler(request)]
            uploaded = request.FILES.get(MULTIPART_FIELD)
            if uploaded is None:
                raise ValidationFailed(
                    f"Send the file in the multipart field '{MULTIPART_FIELD}'.",
                    details={MULTIPART_FIELD: ["No file was submitted."]},
                )
            try:
                received = ReceivedUpload.hashed(uploaded, file=target, max_bytes=max_bytes)
            finally:
                uploaded.close()
            received.filename = (uploaded.name or "")[:255]
        else:
            received = ReceivedUpload.hashed(request, file=target, max_bytes=max_bytes)  # type: ignore[arg-type]
            disposition = request.headers.get("Content-Disposition", "")
            if "filename=" in disposition:
                received.filename = disposition.split("filename=", 1)[1].strip('"; ')[:255]
    except UnreadablePostError:
        target.close()
        raise ValidationFailed("The upload was interrupted before it completed.") from None
    except BaseException:
        target.close()
        raise
    if received.size == 0:
        received.close()
        raise ValidationFailed("The upload is empty.", details={"file": ["Empty file."]})
    return received
