"""One place that turns a config into the matching transport.

The delivery service asks for a transport by config, never by class, so adding a kind of
store (an HTTP upload API, say) touches this module and the config union only.
"""

from __future__ import annotations

from .base import Transport
from .config import FilesystemConfig, S3Config, SftpConfig, TransportConfig
from .errors import PermanentTransportError


def transport_for(config: TransportConfig) -> Transport:
    """A new, not yet connected transport for `config`; close it (or use `with`) when done.

    The SFTP and S3 modules are imported here, on demand, so a process that only ever uses a
    folder does not pay for importing paramiko or boto3.
    """
    if isinstance(config, FilesystemConfig):
        from .filesystem import FilesystemTransport

        return FilesystemTransport(config)
    if isinstance(config, SftpConfig):
        from .sftp import SftpTransport

        return SftpTransport(config)
    if isinstance(config, S3Config):
        from .s3 import S3Transport

        return S3Transport(config)
    raise PermanentTransportError(f"no transport for {type(config).__name__}")
