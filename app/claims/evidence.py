"""Claim files: photos and documents checked by content (never by name), capped in size and count, stored
outside the web root under random names, read back only through staff pages and the shop API."""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError

from app.errors import InvalidInput
from app.extensions import db
from app.models import Claim, ClaimAttachment

# What Pillow names a format → the content type we store and serve.
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
PDF_TYPE = "application/pdf"
_MAX_PIXELS = 60_000_000  # refuse decompression bombs well before Pillow's own warning


@dataclass(frozen=True)
class Upload:
    """A file as received: the name the sender gave it (kept for people) and its bytes."""

    filename: str
    data: bytes


def sniff(upload: Upload, *, allow_pdf: bool = False) -> str:
    """The content type of `upload` judged by its bytes; InvalidInput for anything else."""
    if allow_pdf and upload.data.startswith(b"%PDF-"):
        return PDF_TYPE
    try:
        with Image.open(io.BytesIO(upload.data)) as image:
            if image.width * image.height > _MAX_PIXELS:
                raise InvalidInput(
                    "The image is too large.", errors={"files": f"{upload.filename}: too many pixels."}
                )
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        kind = None
    if kind not in IMAGE_TYPES:
        allowed = "JPEG, PNG, WebP or GIF images" + (" or PDF documents" if allow_pdf else "")
        raise InvalidInput(
            f"{upload.filename or 'A file'} is not an image we accept ({allowed}).",
            errors={"files": f"{upload.filename or 'file'}: only {allowed}."},
        )
    return IMAGE_TYPES[kind]


def check_uploads(uploads: list[Upload], *, allow_pdf: bool = False) -> list[str]:
    """Check count, size and content of every upload before anything is stored; their content types."""
    config = current_app.config
    if len(uploads) > config["CLAIM_REPORT_MAX_FILES"]:
        limit = config["CLAIM_REPORT_MAX_FILES"]
        raise InvalidInput(f"At most {limit} files.", errors={"files": f"At most {limit} files."})
    limit = config["CLAIM_REPORT_MAX_FILE_BYTES"]
    for upload in uploads:
        if not upload.data:
            raise InvalidInput("An empty file was sent.", errors={"files": f"{upload.filename}: empty."})
        if len(upload.data) > limit:
            raise InvalidInput(
                f"{upload.filename} is larger than {limit // 1024 // 1024} MB.",
                errors={"files": f"{upload.filename}: at most {limit} bytes."},
            )
    return [sniff(upload, allow_pdf=allow_pdf) for upload in uploads]


def attach(
    claim: Claim, uploads: list[Upload], *, uploaded_by: str, allow_pdf: bool = False
) -> list[ClaimAttachment]:
    """Check, store and record files for `claim` (all or none are kept)."""
    types = check_uploads(uploads, allow_pdf=allow_pdf)
    folder = files_dir()
    attachments = []
    for upload, content_type in zip(uploads, types, strict=True):
        storage_name = secrets.token_hex(16)
        (folder / storage_name).write_bytes(upload.data)
        attachment = ClaimAttachment(
            claim=claim,
            filename=_safe_name(upload.filename),
            content_type=content_type,
            size=len(upload.data),
            sha256=hashlib.sha256(upload.data).hexdigest(),
            storage_name=storage_name,
            uploaded_by=uploaded_by[:120],
        )
        db.session.add(attachment)
        attachments.append(attachment)
    return attachments


def read(attachment: ClaimAttachment) -> bytes:
    """The stored bytes of an attachment."""
    return (files_dir() / attachment.storage_name).read_bytes()


def files_dir() -> Path:
    """Where claim files live (outside any static folder); created on first use."""
    folder = Path(current_app.config["CLAIM_FILES_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _safe_name(name: str) -> str:
    """A display name: the base name only, printable, at most 200 characters."""
    base = Path(name or "file").name
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '\\/:*?"<>|')
    return (cleaned or "file")[:200]
