"""A store's S3 drop (or any S3-compatible service), over boto3.

S3 has no folders and no rename, but a PUT (single or multipart) is atomic per object: the key
appears only once the whole object is stored, so no temporary names are needed. Every object
is tagged with the SHA-256 of its content in its metadata; a re-run skips an object whose
size and recorded checksum match the local file (a HEAD request, no download).
Large files go up with boto3's managed transfer (multipart above a threshold, streamed from
disk, each part retried by botocore).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from ._tree import FileTreeTransport
from .base import AckFile
from .config import S3Config
from .errors import PermanentTransportError, TransientTransportError, TransportError

SHA256_METADATA = "sha256"
# Codes a later try may get past; every other client error (403, NoSuchBucket, bad
# request) needs someone to fix the store's configuration first.
_TRANSIENT_CODES = {
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "InternalError",
    "ServiceUnavailable",
    "RequestLimitExceeded",
}
_NOT_FOUND = {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}
_FORBIDDEN = {"403", "AccessDenied", "Forbidden"}


class S3Transport(FileTreeTransport):
    """Delivers below `s3://bucket/prefix/`; checks the bucket once per connection."""

    def __init__(self, config: S3Config) -> None:
        super().__init__(ack_dir=config.ack_dir, ack_archive_dir=config.ack_archive_dir)
        self.config = config
        self.prefix = config.prefix.strip("/")
        self.transfer_config = TransferConfig(
            multipart_threshold=config.multipart_threshold,
            multipart_chunksize=config.multipart_chunksize,
            max_concurrency=config.max_concurrency,
        )
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The boto3 S3 client, created (and the bucket checked) on first use."""
        if self._client is None:
            config = self.config
            client = boto3.session.Session().client(
                "s3",
                region_name=config.region_name,
                endpoint_url=config.endpoint_url,
                aws_access_key_id=config.access_key_id,
                aws_secret_access_key=config.secret_access_key,
                aws_session_token=config.session_token,
                config=Config(
                    retries={"total_max_attempts": config.max_attempts, "mode": "standard"},
                    connect_timeout=config.connect_timeout,
                    read_timeout=config.read_timeout,
                ),
            )
            # Fails fast (and permanently) on a missing bucket, which would otherwise look
            # like "marker not found" to the first HEAD of a delivery.
            try:
                client.head_bucket(Bucket=config.bucket)
            except botocore.exceptions.ClientError as exc:
                # A drop bucket often grants PutObject only; a 403 here says nothing yet.
                if _code(exc) not in _FORBIDDEN:
                    client.close()
                    if _code(exc) in _NOT_FOUND:
                        message = f"S3 bucket {config.bucket!r} does not exist"
                        raise PermanentTransportError(message) from exc
                    raise
            except Exception:
                client.close()
                raise
            self._client = client
        return self._client

    def location(self, batch_id: str) -> str:
        return f"s3://{self.config.bucket}/{self._key(batch_id)}/"

    def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _classify(self, exc: Exception) -> TransportError | None:
        bucket = self.config.bucket
        if isinstance(exc, S3UploadFailedError) and isinstance(
            exc.__context__, botocore.exceptions.ClientError
        ):
            exc = exc.__context__  # boto3 wraps the real error of a managed upload
        if isinstance(exc, botocore.exceptions.ClientError):
            code = _code(exc)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in _TRANSIENT_CODES or status >= 500:
                return TransientTransportError(f"S3 {bucket}: {code}: {exc}")
            return PermanentTransportError(f"S3 {bucket}: {code}: {exc}")
        if isinstance(
            exc,
            botocore.exceptions.NoCredentialsError
            | botocore.exceptions.PartialCredentialsError
            | botocore.exceptions.ParamValidationError
            | botocore.exceptions.NoRegionError
            | botocore.exceptions.SSLError  # a certificate that does not verify
            | ValueError,  # e.g. an invalid endpoint_url
        ):
            return PermanentTransportError(f"S3 {bucket} is misconfigured: {exc}")
        if isinstance(
            exc,
            botocore.exceptions.ConnectionError  # refused, connect timeout, DNS
            | botocore.exceptions.HTTPClientError  # reset, closed, read timeout
            | botocore.exceptions.IncompleteReadError
            | S3UploadFailedError
            | OSError,
        ):
            return TransientTransportError(f"S3 {bucket} unreachable: {exc!r}")
        return None

    # --- object primitives ----------------------------------------------------------------

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def _head(self, path: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self.client.head_object(
                Bucket=self.config.bucket, Key=self._key(path)
            )
        except botocore.exceptions.ClientError as exc:
            # Without s3:ListBucket, S3 answers 403 rather than 404 for a missing key. Taking
            # that as "absent" means re-uploading, and a real denial still fails on the PUT.
            if _code(exc) in _NOT_FOUND | _FORBIDDEN:
                return None
            raise
        return head

    def _exists(self, path: str) -> bool:
        return self._head(path) is not None

    def _ensure_folder(self, path: str) -> None:
        """S3 has no folders: a key's prefix exists as soon as the key does."""

    def _matches(self, path: str, size: int, sha256: str, data: bytes | None) -> bool:
        head = self._head(path)
        return (
            head is not None
            and head.get("ContentLength") == size
            and head.get("Metadata", {}).get(SHA256_METADATA) == sha256
        )

    def _extra_args(self, path: str, sha256: str) -> dict[str, Any]:
        content_type = "application/xml" if path.endswith(".xml") else "application/octet-stream"
        return {"Metadata": {SHA256_METADATA: sha256}, "ContentType": content_type}

    def _put_file(self, source: Path, path: str, size: int, sha256: str) -> None:
        self.client.upload_file(
            str(source),
            self.config.bucket,
            self._key(path),
            ExtraArgs=self._extra_args(path, sha256),
            Config=self.transfer_config,
        )

    def _put_bytes(self, data: bytes, path: str, sha256: str) -> None:
        self.client.put_object(
            Bucket=self.config.bucket,
            Key=self._key(path),
            Body=data,
            **self._extra_args(path, sha256),
        )

    def _list_files(self, folder: str) -> list[AckFile]:
        # The delimiter keeps keys below deeper "folders" (the archive) out of the listing.
        prefix = self._key(folder) + "/"
        paginator = self.client.get_paginator("list_objects_v2")
        found = []
        for page in paginator.paginate(Bucket=self.config.bucket, Prefix=prefix, Delimiter="/"):
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix) :]
                if name:
                    found.append(
                        AckFile(
                            name=name,
                            path=f"{folder}/{name}",
                            size=item["Size"],
                            modified=item.get("LastModified"),
                        )
                    )
        return found

    def _read(self, path: str) -> bytes:
        response = self.client.get_object(Bucket=self.config.bucket, Key=self._key(path))
        body: bytes = response["Body"].read()
        return body

    def _move(self, source: str, target: str) -> None:
        bucket = self.config.bucket
        self.client.copy_object(
            Bucket=bucket,
            Key=self._key(target),
            CopySource={"Bucket": bucket, "Key": self._key(source)},
        )
        self.client.delete_object(Bucket=bucket, Key=self._key(source))


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
