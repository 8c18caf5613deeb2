"""The two failures a caller of a transport has to tell apart.

A delivery task retries a `TransientTransportError` with backoff (the store's server was down,
the network dropped, a timeout) and fails the delivery on a `PermanentTransportError` (wrong
credentials, permission denied, a missing bucket, a bad configuration), because retrying those
only burns time until an operator fixes something. Every library error a transport can raise is
mapped into one of the two, so callers never import paramiko, boto3 or OSError details.
"""

from __future__ import annotations


class TransportError(Exception):
    """Base of every error a transport raises; `transient` says whether a retry may help."""

    transient: bool = False


class TransientTransportError(TransportError):
    """Connection refused or reset, timeouts, throttling: retry later with backoff."""

    transient = True


class PermanentTransportError(TransportError):
    """Authentication failure, permission denied, bad configuration: retrying will not help."""

    transient = False
