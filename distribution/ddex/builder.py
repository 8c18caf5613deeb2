"""Build DDEX ERN 4.3 messages (NewReleaseMessage, PurgeReleaseMessage) as UTF-8 XML bytes.

Pure: it takes the dataclasses of `distribution.ddex.model` and never touches the ORM or Django
settings, so it can be tested without a database and a delivery can be rebuilt from a snapshot.
The official 4.3 schema is the judge (`distribution.ddex.schema.validate`); the structure follows
the official samples 1_Audio (album with TrackReleases) and 4_SimpleAudioSingle.

How the message kinds are expressed, since ERN 4.3 has no field for any of them (its
release-notification.xsd has no UpdateIndicator, no TakeDown flag and no action attribute):

- insert: a NewReleaseMessage with the release and its deals.
- update: the very same full message for the release's current state. DDEX removed ERN 3's
  UpdateIndicator in ERN 4: a store recognises an update by the release's identifiers (ICPN,
  ISRCs) it already holds, and the deals of the latest message replace all earlier ones. Only
  the MessageId (and MessageCreatedDateTime) differ from the first delivery.
- takedown: the same NewReleaseMessage without a DealList ("no deal = no deal"). DealList is
  optional in the schema, but when present it needs at least one ReleaseDeal with at least one
  Deal, so an empty DealList would be invalid: it is omitted.
- purge: `build_purge_release_message`, a PurgeReleaseMessage (it exists in 4.3) that only
  identifies the release, for stores that must drop a release whose metadata is broken.

The batch manifest of the DDEX choreography can carry the intent (avs:MessageActionType, see
`MessageKind.manifest_action`); that belongs to packaging, not to this message.
"""

from __future__ import annotations

from lxml import etree

from distribution.ddex.common import (
    AVS_VERSION_ID,
    RELEASE_PROFILE_VERSION_ID,
    Element,
    References,
    iso_datetime,
    root_element,
    sub,
)
from distribution.ddex.deals import add_deal_list, pre_order_start
from distribution.ddex.model import (
    MessageHeader,
    MessageKind,
    MessagingParty,
    NewReleaseMessageInput,
    PurgeReleaseMessageInput,
)
from distribution.ddex.releases import add_release_list
from distribution.ddex.resources import add_resource_list

__all__ = ["build_new_release_message", "build_purge_release_message"]


def build_new_release_message(message: NewReleaseMessageInput) -> bytes:
    """The NewReleaseMessage for an insert, an update or a takedown (see the module docstring)."""
    release = message.release
    takedown = message.kind == MessageKind.TAKEDOWN
    if not takedown and not message.deals:
        raise ValueError(
            "An insert or update needs at least one deal; a release without deals is a "
            "takedown: send kind=MessageKind.TAKEDOWN."
        )
    refs = References.for_release(release, message.header.sender.dpid)
    deals = () if takedown else message.deals

    root = root_element(
        "NewReleaseMessage",
        ReleaseProfileVersionId=RELEASE_PROFILE_VERSION_ID,
        LanguageAndScriptCode=message.language,
        AvsVersionId=AVS_VERSION_ID,
    )
    _add_header(root, message.header)
    # PartyList comes before the sections that refer to it, but its entries are only known once
    # all references are assigned: References.for_release registered every party already.
    party_list = sub(root, "PartyList")
    add_resource_list(root, release, refs)
    add_release_list(root, release, refs, with_visibility=pre_order_start(deals) is not None)
    if deals:
        add_deal_list(root, release, deals, refs)
    _fill_party_list(party_list, refs)
    return _serialise(root)


def build_purge_release_message(message: PurgeReleaseMessageInput) -> bytes:
    """A PurgeReleaseMessage: header plus the release's ICPN, title and artists, nothing else."""
    root = root_element(
        "PurgeReleaseMessage", LanguageAndScriptCode=message.language, AvsVersionId=AVS_VERSION_ID
    )
    _add_header(root, message.header)
    purged = sub(root, "PurgedRelease")
    sub(sub(purged, "ReleaseId"), "ICPN", message.icpn)
    title = sub(purged, "Title")
    sub(title, "TitleText", message.title)
    if message.version:
        sub(title, "SubTitle", message.version)
    for sequence, name in enumerate(message.artist_names, start=1):
        contributor = sub(purged, "Contributor", SequenceNumber=sequence)
        sub(sub(contributor, "PartyName"), "FullName", name)
        sub(contributor, "Role", "Artist")
    return _serialise(root)


def _add_header(parent: Element, header: MessageHeader) -> None:
    element = sub(parent, "MessageHeader")
    sub(element, "MessageThreadId", header.thread_id)
    sub(element, "MessageId", header.message_id)
    _add_messaging_party(element, "MessageSender", header.sender)
    _add_messaging_party(element, "MessageRecipient", header.recipient)
    sub(element, "MessageCreatedDateTime", iso_datetime(header.created_at))
    sub(element, "MessageControlType", header.control_type.value)


def _add_messaging_party(parent: Element, tag: str, party: MessagingParty) -> None:
    element = sub(parent, tag)
    sub(element, "PartyId", party.dpid)
    sub(sub(element, "PartyName"), "FullName", party.name)


def _fill_party_list(party_list: Element, refs: References) -> None:
    for reference, name, isni in refs.party_list:
        party = sub(party_list, "Party")
        sub(party, "PartyReference", reference)
        sub(sub(party, "PartyName"), "FullName", name)
        if isni:
            sub(sub(party, "PartyId"), "ISNI", isni)


def _serialise(root: Element) -> bytes:
    # The declaration is written by hand to match the official samples' double quotes.
    body = etree.tostring(root, xml_declaration=False, encoding="UTF-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + bytes(body)
