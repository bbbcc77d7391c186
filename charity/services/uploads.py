"""Content-checked file storage: the one file store (evidence for disbursements,
complaints, offline gifts, bills, pictures, sponsors' bank slips, and disclosure attachments
under ``disclosures/``).

A file is accepted by what it IS, not by its name or the browser's Content-Type: its first
bytes must be a PDF, PNG, JPEG or WebP signature, and it must fit the size limit; evidence
must also parse as what it claims to be (:func:`parses`). It is stored once under
``UPLOAD_DIR/<sha256[:2]>/<sha256>`` (content-addressed: the same file uploaded twice is one
file, and a stored name never comes from the user). Serving goes through
:func:`send_stored` with the checked type, ``X-Content-Type-Options: nosniff`` and
``Content-Disposition: attachment``, so a browser never renders it as a page.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError

from charity.core.errors import DomainError
from charity.web.i18n import N_

#: (signature at offset 0, media type, file extension)
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
EXTENSIONS = {media: ext for _, media, ext in SIGNATURES} | {
    "image/webp": "webp",
    "application/ofd": "ofd",
}
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class UploadError(DomainError, ValueError):
    """A file we refuse (wrong kind, empty, too large); the message is for the user."""


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    content_type: str
    size: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def sniff(data: bytes) -> str | None:
    """The media type the content really has (of the kinds we accept), or None."""
    for signature, media, _ext in SIGNATURES:
        if data.startswith(signature):
            return media
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_file(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    if not data:
        raise UploadError(N_("The file is empty."))
    if len(data) > max_bytes:
        raise UploadError(N_("The file is too large."))
    media = sniff(data)
    if media is None:
        raise UploadError(N_("Upload a PDF or an image (PNG, JPEG or WebP)."))
    return media


_PDF_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")


def parses(data: bytes, media: str) -> bool:
    """Whether ``data`` really is the ``media`` its signature says (after :func:`sniff`): a
    PDF has its header, objects, a trailer and ``%%EOF``; Pillow opens and verifies an image
    (a decompression bomb is not one). A file with a forged signature fails here."""
    if media == "application/pdf":
        tail = data[-2048:]
        return (
            re.match(rb"%PDF-\d\.\d", data) is not None
            and b"%%EOF" in tail
            and (b"trailer" in data or b"/XRef" in data)
            and _PDF_OBJECT.search(data) is not None
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if Image.MIME.get(image.format or "") != media:
                    return False
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    except Image.DecompressionBombWarning:
        return False
    return True


def path_for(
    upload_dir: str | os.PathLike[str], sha256: str, *, folder: str = "", suffix: str = ""
) -> Path:
    """Where the file with this digest lives: ``UPLOAD_DIR[/folder]/<sha256[:2]>/<sha256>``
    (disclosure attachments: ``folder="disclosures"``, ``suffix=".pdf"``)."""
    if not _SHA256.match(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return Path(upload_dir) / folder / sha256[:2] / f"{sha256}{suffix}"


def store_bytes(
    upload_dir: str | os.PathLike[str], data: bytes, *, folder: str = "", suffix: str = ""
) -> str:
    """Store already-checked ``data`` once under its SHA-256 digest (returned); atomic
    (a temporary file, then renamed). Content-addressed: a rolled-back transaction leaves
    at most an orphan file, never a wrong one."""
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(upload_dir, digest, folder=folder, suffix=suffix)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(handle, "wb") as output:
            output.write(data)
        os.replace(temporary, target)
    return digest


def store_file(
    upload_dir: str | os.PathLike[str],
    data: bytes,
    max_bytes: int = DEFAULT_MAX_BYTES,
    media: str | None = None,
) -> StoredFile:
    """Check and store ``data``; atomic (written to a temporary file, then renamed).
    ``media``: a type the caller has already checked the content for (an OFD bill)."""
    if media is None:
        media = check_file(data, max_bytes)
    elif not data or len(data) > max_bytes:
        raise UploadError(N_("The file is empty or too large."))
    return StoredFile(store_bytes(upload_dir, data), media, len(data))


def read_stored(upload_dir: str | os.PathLike[str], sha256: str) -> bytes | None:
    path = path_for(upload_dir, sha256)
    return path.read_bytes() if path.is_file() else None


def send_stored(upload_dir: str, sha256: str, content_type: str, download_name: str, sniffer=sniff):  # type: ignore[no-untyped-def]
    """A response for a stored file, or None when it is missing (or not what was stored)."""
    data = read_stored(upload_dir, sha256)
    if data is None or sniffer(data) != content_type:
        return None
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", download_name)[:100]
    response = current_app.response_class(data, mimetype=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
