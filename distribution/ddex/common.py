"""Small shared pieces of the ERN 4.3 builder: constants, element helpers, value formatting and
the message-local references (P.., A.., T.., R..) that tie the message together.

The schema declares `elementFormDefault="unqualified"`: only the root element is in the ern
namespace, every child is written without one, exactly as the official samples do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeAlias

from lxml import etree

from distribution.ddex.model import WORLDWIDE, Party, Release, Territories, Track

ERN_NAMESPACE = "http://ddex.net/xml/ern/43"
XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{ERN_NAMESPACE} {ERN_NAMESPACE}/release-notification.xsd"
# The version documented in allowed-value-sets.xsd (<xs:documentation source="AvsVersionId">).
AVS_VERSION_ID = "3"
# "Audio" covers singles, EPs and albums with their TrackReleases; "SimpleAudioSingle" is for a
# SingleResourceRelease without TrackReleases, which is not what we send.
RELEASE_PROFILE_VERSION_ID = "Audio"

Element: TypeAlias = etree._Element
AttributeValue: TypeAlias = str | int | bool | None


def root_element(tag: str, **attributes: AttributeValue) -> Element:
    root = etree.Element(
        f"{{{ERN_NAMESPACE}}}{tag}", nsmap={"ern": ERN_NAMESPACE, "xsi": XSI_NAMESPACE}
    )
    root.set(f"{{{XSI_NAMESPACE}}}schemaLocation", SCHEMA_LOCATION)
    _set_attributes(root, attributes)
    return root


def sub(
    parent: Element, tag: str, text: str | int | None = None, **attributes: AttributeValue
) -> Element:
    """Append a child element; None attributes are left out, booleans become xs:boolean."""
    element = etree.SubElement(parent, tag)
    _set_attributes(element, attributes)
    if text is not None:
        element.text = str(text)
    return element


def _set_attributes(element: Element, attributes: dict[str, AttributeValue]) -> None:
    for name, value in attributes.items():
        if value is None:
            continue
        element.set(name, ("true" if value else "false") if isinstance(value, bool) else str(value))


def iso_duration(seconds: float) -> str:
    """xs:duration as DDEX writes it: PT[nH][nM]n[.fff]S, e.g. 205 -> PT3M25S."""
    if seconds < 0:
        raise ValueError(f"A duration cannot be negative: {seconds}.")
    total = Decimal(str(seconds)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    whole = int(total)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    fraction = total - whole
    seconds_text = format((secs + fraction).normalize(), "f") if fraction else str(secs)
    parts = ["PT"]
    if hours:
        parts.append(f"{hours}H")
    if minutes:
        parts.append(f"{minutes}M")
    if secs or fraction or (not hours and not minutes):
        parts.append(f"{seconds_text}S")
    return "".join(parts)


def iso_date(value: date) -> str:
    return value.isoformat()


def iso_datetime(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("DDEX date-times need a time zone: pass an aware datetime.")
    return value.isoformat(timespec="seconds")


def kilohertz(hertz: int) -> str:
    return format((Decimal(hertz) / 1000).normalize(), "f")


def territory_code(code: str) -> str:
    """The catalog stores the world as "WW"; DDEX spells it "Worldwide"."""
    stripped = code.strip()
    if stripped.upper() in ("WW", WORLDWIDE.upper()):
        return WORLDWIDE
    return stripped.upper()


def deal_territories(territories: Territories) -> tuple[str, list[str]]:
    """(element name, codes) for DealTerms: TerritoryCode or ExcludedTerritoryCode, never both."""
    include = [territory_code(code) for code in territories.include] or [WORLDWIDE]
    exclude = [territory_code(code) for code in territories.exclude]
    if not exclude:
        return "TerritoryCode", _unique(include)
    if WORLDWIDE in include:
        return "ExcludedTerritoryCode", _unique(exclude)
    remaining = [code for code in include if code not in exclude]
    if not remaining:
        raise ValueError("Every included territory is also excluded: the deal applies nowhere.")
    return "TerritoryCode", _unique(remaining)


def _unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(codes))


def display_name(artists: Iterable[tuple[str, bool]]) -> str:
    """Main artists joined ("A, B & C"), featured ones after "feat." ("A feat. D & E")."""
    pairs = list(artists)
    main = [name for name, featured in pairs if not featured]
    guests = [name for name, featured in pairs if featured]
    text = _join(main)
    return f"{text} feat. {_join(guests)}" if guests else text


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} & {names[-1]}"


@dataclass
class References:
    """Message-local anchors. Assigned once, up front, so every section refers to the same ids.

    Tracks are ordered by (disc, track); track i is resource A{i}, technical details T{i} and
    TrackRelease R{i}; the cover comes after the tracks; the main release is R0.
    """

    tracks: tuple[Track, ...]
    sender_dpid: str  # namespace of the message's proprietary ids
    parties: dict[tuple[str, str], str] = field(default_factory=dict)
    party_list: list[tuple[str, str, str | None]] = field(default_factory=list)

    @classmethod
    def for_release(cls, release: Release, sender_dpid: str) -> References:
        tracks = tuple(sorted(release.tracks, key=lambda t: (t.disc_number, t.track_number)))
        if not tracks:
            raise ValueError("A release needs at least one track.")
        positions = [(t.disc_number, t.track_number) for t in tracks]
        if len(set(positions)) != len(positions):
            raise ValueError("Two tracks share a disc and track number.")
        refs = cls(tracks=tracks, sender_dpid=sender_dpid)
        for artist in release.display_artists:
            refs.artist(artist.party)
        refs.label(release.label_name)
        for track in tracks:
            for artist in track.display_artists:
                refs.artist(artist.party)
            for contributor in track.contributors:
                refs.artist(contributor.party)
        return refs

    def artist(self, party: Party) -> str:
        return self._register(("artist", party.identity), party.name, party.isni)

    def label(self, name: str) -> str:
        return self._register(("label", name), name, None)

    def _register(self, key: tuple[str, str], name: str, isni: str | None) -> str:
        if key not in self.parties:
            reference = f"P{len(self.parties) + 1}"
            self.parties[key] = reference
            self.party_list.append((reference, name, isni))
        return self.parties[key]

    def resource(self, index: int) -> str:
        return f"A{index}"

    def technical(self, index: int) -> str:
        return f"T{index}"

    def track_release(self, index: int) -> str:
        return f"R{index}"

    @property
    def cover_index(self) -> int:
        return len(self.tracks) + 1

    MAIN_RELEASE = "R0"
    VISIBILITY = "V1"
