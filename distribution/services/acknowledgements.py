"""Store acknowledgements: files in each store's ack folder (and, later, inbound webhooks)
move deliveries to `acknowledged` or `rejected` with the store's text.

Acknowledgement files follow the DDEX choreography loosely, since stores vary: the parser
reads the first element named MessageId / OriginalMessageId / AcknowledgedMessageId, a
status from Status / MessageStatus / FileStatus, and the text from ErrorText / ErrorMessage
/ StatusText, ignoring namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from django.db import transaction
from django.utils import timezone
from lxml import etree

from distribution.choices import DeliveryStatus
from distribution.models import Delivery, Store
from distribution.services.delivery import _set_status, delivery_lock, store_transport
from distribution.transports import TransportError
from enterprise_suite import metrics
from enterprise_suite.errors import NotFound

logger = structlog.get_logger(__name__)

ACCEPTED = {"successfullyprocessed", "fileok", "accepted", "success", "ok", "processed"}
_ID_NAMES = ("MessageId", "OriginalMessageId", "AcknowledgedMessageId")
_STATUS_NAMES = ("Status", "MessageStatus", "FileStatus")
_TEXT_NAMES = ("ErrorText", "ErrorMessage", "StatusText")


class AcknowledgementUnreadable(ValueError):
    """The file is not an acknowledgement we can read."""


@dataclass(frozen=True)
class Acknowledgement:
    message_id: str
    accepted: bool
    status: str
    text: str


def _first(root: etree._Element, names: tuple[str, ...]) -> str:
    for name in names:
        found = root.xpath(f"//*[local-name()='{name}']")
        if found and isinstance(found, list) and (found[0].text or "").strip():
            return str(found[0].text).strip()
    return ""


def parse_acknowledgement(content: bytes) -> Acknowledgement:
    try:
        root = etree.fromstring(
            content, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError as exc:
        raise AcknowledgementUnreadable(f"not XML: {exc}") from exc
    message_id, status = _first(root, _ID_NAMES), _first(root, _STATUS_NAMES)
    if not message_id or not status:
        raise AcknowledgementUnreadable("no message id or status in the acknowledgement")
    return Acknowledgement(
        message_id=message_id,
        accepted=status.replace(" ", "").lower() in ACCEPTED,
        status=status,
        text=_first(root, _TEXT_NAMES),
    )


@transaction.atomic
def delivery_acknowledge(*, store: Store, message_id: str, accepted: bool, text: str) -> Delivery:
    """Record a store's verdict on a delivered message. Idempotent: a repeat changes nothing."""
    delivery = delivery_lock(store=store, message_id=message_id)
    if delivery is None:
        raise NotFound(f"No delivery with message id {message_id} to {store.code}.")
    target = DeliveryStatus.ACKNOWLEDGED if accepted else DeliveryStatus.REJECTED
    if delivery.status in (DeliveryStatus.ACKNOWLEDGED, DeliveryStatus.REJECTED):
        return delivery
    delivery.store_message = text
    acknowledged_at = timezone.now()
    _set_status(
        delivery,
        target,
        error="" if accepted else (text or "Rejected by the store."),
        store_message=text,
        acknowledged_at=acknowledged_at,
    )
    metrics.delivery_acknowledged(
        store=store.code,
        accepted=accepted,
        delivered_at=delivery.delivered_at,
        acknowledged_at=acknowledged_at,
    )
    return delivery


def acknowledgements_poll(*, stores: list[Store] | None = None) -> dict[str, int]:
    """Read every active store's acknowledgement folder; apply and archive each file."""
    counts = {"applied": 0, "unmatched": 0, "unreadable": 0, "errors": 0}
    for store in stores if stores is not None else list(Store.objects.filter(is_active=True)):
        try:
            with store_transport(store) as transport:
                for ack_file in transport.list_acknowledgements():
                    try:
                        ack = parse_acknowledgement(transport.read(ack_file.path))
                        delivery_acknowledge(
                            store=store,
                            message_id=ack.message_id,
                            accepted=ack.accepted,
                            text=ack.text,
                        )
                        counts["applied"] += 1
                    except AcknowledgementUnreadable as exc:
                        logger.warning(
                            "ack_unreadable", store=store.code, file=ack_file.name, error=str(exc)
                        )
                        counts["unreadable"] += 1
                    except NotFound:
                        logger.warning("ack_unmatched", store=store.code, file=ack_file.name)
                        counts["unmatched"] += 1
                    transport.archive_acknowledgement(ack_file)
        except TransportError as exc:
            logger.warning("ack_poll_failed", store=store.code, error=str(exc))
            counts["errors"] += 1
    return counts
