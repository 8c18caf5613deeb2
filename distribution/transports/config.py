"""Configuration for each kind of transport, as plain dataclasses.

The caller builds these from a store's settings (host, bucket, folders) and from secrets it
reads from the environment; this layer never reads the database or the environment itself, so
a config can be built in a test or a script just as well. Secret fields are left out of the
repr so a config can be logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from .errors import PermanentTransportError

MiB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class _Folders:
    """Where the store leaves acknowledgements and where processed ones are moved to.

    Both are relative to the transport's root; the archive must not be the ack folder itself.
    """

    ack_dir: str = "ack"
    ack_archive_dir: str = "ack/archive"

    def __post_init__(self) -> None:
        for name in ("ack_dir", "ack_archive_dir"):
            value = getattr(self, name).strip("/")
            if not value or ".." in value.split("/"):
                raise PermanentTransportError(f"{name} {getattr(self, name)!r} is not usable")
        if self.ack_dir.strip("/") == self.ack_archive_dir.strip("/"):
            raise PermanentTransportError("ack_archive_dir must differ from ack_dir")


@dataclass(frozen=True, kw_only=True)
class FilesystemConfig(_Folders):
    """A local folder: the embedded profile's "store" and a fixture for tests.

    `fsync` makes each file durable before it is renamed into place, so a power cut cannot
    leave a complete-looking but empty file behind the marker.
    """

    kind: Literal["filesystem"] = "filesystem"
    root: Path | str
    fsync: bool = True


@dataclass(frozen=True, kw_only=True)
class SftpConfig(_Folders):
    """A store's SFTP server, with password or private-key authentication.

    The server's host key is checked against `host_key_fingerprint` (OpenSSH's
    `SHA256:...` form, as `ssh-keygen -lf` prints it); skipping the check needs the explicit
    `insecure_skip_host_key_check`, meant for tests only.
    `private_key` is the key's text (OpenSSH or PEM), not a path, so it can come from a secret.
    """

    kind: Literal["sftp"] = "sftp"
    host: str
    port: int = 22
    username: str
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    private_key_passphrase: str | None = field(default=None, repr=False)
    host_key_fingerprint: str | None = None
    insecure_skip_host_key_check: bool = False
    root: str = "."
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.host or not self.username:
            raise PermanentTransportError("SFTP needs a host and a username")
        if not self.password and not self.private_key:
            raise PermanentTransportError("SFTP needs a password or a private key")
        if not self.host_key_fingerprint and not self.insecure_skip_host_key_check:
            raise PermanentTransportError(
                "SFTP needs host_key_fingerprint (or insecure_skip_host_key_check for tests)"
            )


@dataclass(frozen=True, kw_only=True)
class S3Config(_Folders):
    """A bucket and prefix on S3 or an S3-compatible service (`endpoint_url` for emulators).

    Without explicit keys boto3's default chain applies (environment, ECS task role, ...).
    Files above `multipart_threshold` go up in parts of `multipart_chunksize`, so a large
    WAV never sits in memory and a failed part is retried alone. `max_attempts` counts every
    try of one request (botocore retries throttling and dropped connections itself before a
    `TransientTransportError` reaches the caller's own backoff).
    """

    kind: Literal["s3"] = "s3"
    bucket: str
    prefix: str = ""
    region_name: str | None = None
    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    multipart_threshold: int = 64 * MiB
    multipart_chunksize: int = 16 * MiB
    max_concurrency: int = 4
    max_attempts: int = 5
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.bucket:
            raise PermanentTransportError("S3 needs a bucket")
        if ".." in self.prefix.split("/"):
            raise PermanentTransportError(f"S3 prefix {self.prefix!r} is not usable")


TransportConfig = FilesystemConfig | SftpConfig | S3Config

_CONFIG_CLASSES: dict[str, type[FilesystemConfig] | type[SftpConfig] | type[S3Config]] = {
    "filesystem": FilesystemConfig,
    "sftp": SftpConfig,
    "s3": S3Config,
}


def config_from_mapping(
    data: Mapping[str, Any], secrets: Mapping[str, Any] | None = None
) -> TransportConfig:
    """Build a config from a store's stored settings plus secrets the caller read elsewhere.

    `data` carries `kind` and the non-secret fields (as kept in a JSON column); `secrets`
    the password or keys. Unknown keys are an error rather than silently ignored, because a
    misspelt `host_key_fingerprint` would otherwise surface as a confusing auth failure.
    """
    merged = {**data, **(secrets or {})}
    kind = merged.pop("kind", None)
    cls = _CONFIG_CLASSES.get(str(kind))
    if cls is None:
        raise PermanentTransportError(f"unknown transport kind {kind!r}")
    known = {item.name for item in fields(cls)} - {"kind"}
    unknown = sorted(set(merged) - known)
    if unknown:
        raise PermanentTransportError(f"unknown {kind} transport settings: {', '.join(unknown)}")
    try:
        return cls(**merged)
    except TypeError as exc:  # a required field is missing
        raise PermanentTransportError(f"incomplete {kind} transport settings: {exc}") from exc
