"""Store delivery transports: put a DDEX batch on a store's drop and read its acknowledgements.

A pure layer below the services: no ORM, no Django settings. The caller passes a config
dataclass (secrets included, read by the caller from the environment) to `transport_for` and a
`Batch` to `deliver_batch`; failures arrive as `TransientTransportError` (retry with backoff)
or `PermanentTransportError` (fail the delivery).
"""

from .base import (
    AckFile,
    Batch,
    DeliveredFile,
    DeliveryReceipt,
    ReleasePackage,
    Resource,
    Transport,
    make_batch_id,
)
from .config import (
    FilesystemConfig,
    S3Config,
    SftpConfig,
    TransportConfig,
    config_from_mapping,
)
from .errors import PermanentTransportError, TransientTransportError, TransportError
from .factory import transport_for

__all__ = [
    "AckFile",
    "Batch",
    "DeliveredFile",
    "DeliveryReceipt",
    "FilesystemConfig",
    "PermanentTransportError",
    "ReleasePackage",
    "Resource",
    "S3Config",
    "SftpConfig",
    "TransientTransportError",
    "Transport",
    "TransportConfig",
    "TransportError",
    "config_from_mapping",
    "make_batch_id",
    "transport_for",
]
