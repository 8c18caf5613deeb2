"""Release, track and title rules: identifiers, credits, dates, rights lines and title style."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from distribution.choices import ContributorRole, ParentalWarning
from distribution.identifiers import normalize_upc
from distribution.validation.rules import Finding, Rule, Severity, ValidationContext, rule
from distribution.validation.snapshot import CreditSnapshot, ReleaseSnapshot

# --- Release ------------------------------------------------------------------------------


def _release_finding(rule: Rule, s: ReleaseSnapshot, field: str, message: str) -> Finding:
    return rule.finding(field=field, message=message, subject_type="release", subject_id=s.id)


@rule(
    "release.has_tracks",
    severity=Severity.ERROR,
    field="tracks",
    message="The release has no tracks.",
    hint="Add at least one track, with its audio master, to the release.",
)
def _has_tracks(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    if not s.tracks:
        yield _release_finding(rule, s, "tracks", rule.message)


@rule(
    "release.upc.present",
    severity=Severity.ERROR,
    field="upc",
    message="The release has no UPC/EAN.",
    hint="Enter the release's UPC (12 digits) or EAN (13 digits) from your barcode allocation.",
)
def _upc_present(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    if not s.upc.strip():
        yield _release_finding(rule, s, "upc", rule.message)


@rule(
    "release.upc.check_digit",
    severity=Severity.ERROR,
    field="upc",
    message="The release's UPC/EAN is not a valid barcode.",
    hint="Copy the UPC/EAN again from your barcode allocation; the last digit is a check digit.",
)
def _upc_valid(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    # Stored UPCs are validated on write, but rows may predate that validation.
    if s.upc.strip():
        try:
            normalize_upc(s.upc)
        except ValidationError as error:
            message = f'The UPC/EAN "{s.upc}" is invalid: {" ".join(error.messages)}'
            yield _release_finding(rule, s, "upc", message)


@rule(
    "release.primary_artist",
    severity=Severity.ERROR,
    field="contributors",
    message="The release has no primary artist.",
    hint="Credit at least one artist on the release with the role primary_artist.",
)
def _primary_artist(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    if not s.primary_artists:
        credited = ", ".join(f"{c.artist_name} ({c.role})" for c in s.credits)
        message = (
            f"The release has no primary artist; it credits {credited}."
            if credited
            else "The release has no primary artist: nobody is credited on it."
        )
        yield _release_finding(rule, s, "contributors", message)


@rule(
    "release.single_title_match",
    severity=Severity.ERROR,
    field="title",
    message="A one-track release's title differs from its track's title.",
    hint="Give the release and its only track the same title; put edition details in the version.",
)
def _single_title(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    if len(ctx.tracks) == 1 and _squash(s.title) != _squash(ctx.tracks[0].title):
        track = ctx.tracks[0]
        yield rule.finding(
            field="title",
            message=f'The release title "{s.title}" differs from its only track\'s title '
            f'"{track.title}"; stores require them to match.',
            hint=f'Rename the release to "{track.title}" or the track to "{s.title}".',
            subject_type="release",
            subject_id=s.id,
        )


@rule(
    "release.date.future",
    severity=Severity.ERROR,
    field="release_date",
    message="The release date is missing or not in the future.",
    hint="Set a release date after today, leaving the organization's lead time.",
)
def _date_future(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    earliest = ctx.today + datetime.timedelta(days=max(ctx.lead_days, 1))
    hint = f"Set the release date to {earliest.isoformat()} or later."
    if s.release_date is None:
        message = "The release has no release date."
    elif s.release_date <= ctx.today:
        message = (
            f"The release date {s.release_date.isoformat()} is not after today "
            f"({ctx.today.isoformat()})."
        )
    else:
        return
    yield rule.finding(
        field="release_date", message=message, hint=hint, subject_type="release", subject_id=s.id
    )


@rule(
    "release.date.lead_time",
    severity=Severity.ERROR,
    field="release_date",
    message="The release date leaves stores less than the organization's lead time.",
    hint="Move the release date to at least the lead time after today.",
)
def _date_lead(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    # A missing or past date is release.date.future's finding; this one is about "too soon".
    earliest = ctx.today + datetime.timedelta(days=ctx.lead_days)
    if s.release_date is not None and ctx.today < s.release_date < earliest:
        days = (s.release_date - ctx.today).days
        yield rule.finding(
            field="release_date",
            message=f"The release date {s.release_date.isoformat()} is {days} day(s) away; "
            f"the organization needs {ctx.lead_days} days' notice, so the earliest allowed date is "
            f"{earliest.isoformat()}.",
            hint=f"Move the release date to {earliest.isoformat()} or later.",
            subject_type="release",
            subject_id=s.id,
        )


@rule(
    "release.p_line",
    severity=Severity.ERROR,
    field="p_line",
    message="The release has no (P) line, and neither has its label.",
    hint="Set the release's (P) line, e.g. '2026 Label Name', or a default (P) line on its label.",
)
def _p_line(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    if not s.p_line.strip():
        yield _release_finding(rule, s, "p_line", rule.message)


@rule(
    "release.c_line",
    severity=Severity.ERROR,
    field="c_line",
    message="The release has no (C) line, and neither has its label.",
    hint="Set the release's (C) line, e.g. '2026 Label Name', or a default (C) line on its label.",
)
def _c_line(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    if not s.c_line.strip():
        yield _release_finding(rule, s, "c_line", rule.message)


@rule(
    "release.territories",
    severity=Severity.ERROR,
    field="territories_include",
    message="The release is not offered in any territory (territories_include is empty).",
    hint="Add ISO country codes to territories_include, or WW for worldwide (then exclude "
    "countries with territories_exclude).",
)
def _territories(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    if not s.territories_include:
        yield _release_finding(rule, s, "territories_include", rule.message)


# --- Tracks -------------------------------------------------------------------------------


@rule(
    "track.isrc.present",
    severity=Severity.ERROR,
    field="tracks[].isrc",
    message="A track has no ISRC (a warning when the organization has an ISRC allocation).",
    hint="Enter the recording's ISRC, or set the organization's ISRC prefix so that ISRCs are "
    "assigned at submission.",
)
def _isrc(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    for index, track in enumerate(ctx.tracks):
        if track.isrc.strip():
            continue
        if ctx.isrc_allocation:
            message = (
                f"{track.label} has no ISRC; one will be assigned from the organization's "
                "ISRC allocation at submission."
            )
            hint = "Nothing to do, unless the recording already has an ISRC: then enter it."
            severity = Severity.WARNING
        else:
            message, hint, severity = f"{track.label} has no ISRC.", rule.hint, Severity.ERROR
        yield rule.finding(
            field=f"tracks[{index}].isrc",
            message=message,
            hint=hint,
            severity=severity,
            subject_type="track",
            subject_id=track.id,
        )


_PARENTAL_SET = {ParentalWarning.EXPLICIT, ParentalWarning.NOT_EXPLICIT, ParentalWarning.EDITED}


@rule(
    "track.parental_warning",
    severity=Severity.ERROR,
    field="tracks[].parental_warning",
    message="A track's parental warning is not set.",
    hint="Set the parental warning to explicit, not_explicit, or edited (the clean version of an "
    "explicit recording).",
)
def _parental(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    for index, track in enumerate(ctx.tracks):
        if track.parental_warning not in _PARENTAL_SET:
            yield rule.finding(
                field=f"tracks[{index}].parental_warning",
                message=f'{track.label} has parental warning "{track.parental_warning}", '
                "which stores treat as not set.",
                subject_type="track",
                subject_id=track.id,
            )


# --- Titles and versions ------------------------------------------------------------------

_TITLE_FIELDS = "title, version, tracks[].title, tracks[].version"
_FEATURING = re.compile(r"(?<!\w)(?:featuring|feat\.?|ft\.?)(?!\w)", re.IGNORECASE)
_GENERIC = re.compile(r"(?<!\w)(?:original\s+mix|album\s+version|exclusive)(?!\w)", re.I)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _name_pattern(name: str) -> str:
    return r"\s+".join(re.escape(part) for part in name.split())


@dataclass(frozen=True)
class _Text:
    """A title or version, where it sits and whose credits it is judged against."""

    field: str
    where: str  # "The release title", "Track 1-02's version"
    value: str
    subject_type: str
    subject_id: uuid.UUID
    credits: tuple[CreditSnapshot, ...]  # of the release for its texts, of the track for its
    self_titled: bool  # a release title exactly equal to a primary artist's name

    @property
    def attribute(self) -> str:
        return self.field.rsplit(".", 1)[-1]


def _names(credits: tuple[CreditSnapshot, ...], *, remixers: bool = True) -> tuple[str, ...]:
    """Credited names, de-duplicated, in credit order."""
    return tuple(
        dict.fromkeys(
            c.artist_name.strip()
            for c in credits
            if c.artist_name.strip() and (remixers or c.role != ContributorRole.REMIXER)
        )
    )


def _texts(s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[_Text]:
    primary = {c.artist_name.strip() for c in s.credits if c.role == ContributorRole.PRIMARY_ARTIST}
    yield _Text(
        "title",
        "The release title",
        s.title,
        "release",
        s.id,
        s.credits,
        s.title.strip() in primary,
    )
    yield _Text("version", "The release version", s.version, "release", s.id, s.credits, False)
    for index, track in enumerate(ctx.tracks):
        for attr in ("title", "version"):
            yield _Text(
                f"tracks[{index}].{attr}",
                f"Track {track.position}'s {attr}",
                getattr(track, attr),
                "track",
                track.id,
                track.credits,
                False,
            )


def _featuring(text: _Text) -> str | None:
    """The featuring phrase in the text: feat./ft./featuring, or "with <credited artist>"."""
    if match := _FEATURING.search(text.value):
        return match.group(0)
    for name in _names(text.credits):
        pattern = rf"(?<!\w)with\s+{_name_pattern(name)}(?!\w)"
        if match := re.search(pattern, text.value, re.IGNORECASE):
            return match.group(0)
    return None


def _text_finding(rule: Rule, text: _Text, message: str, hint: str) -> Finding:
    return rule.finding(
        field=text.field,
        message=message,
        hint=hint,
        subject_type=text.subject_type,
        subject_id=text.subject_id,
    )


@rule(
    "title.no_featuring",
    severity=Severity.ERROR,
    field=_TITLE_FIELDS,
    message="A title or version names a featured artist.",
    hint="Remove the featuring mention and credit the artist as featured_artist instead; stores "
    "add 'feat.' to the display title themselves.",
)
def _no_featuring(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    for text in _texts(s, ctx):
        if text.value and (phrase := _featuring(text)):
            message = f'{text.where} "{text.value}" mentions a featured artist ("{phrase}").'
            hint = (
                f'Remove "{phrase} ..." from the {text.attribute} and credit the artist as '
                "featured_artist instead; stores add 'feat.' to the display title themselves."
            )
            yield _text_finding(rule, text, message, hint)


@rule(
    "title.no_artist_name",
    severity=Severity.WARNING,
    field=_TITLE_FIELDS,
    message="A title or version contains the name of an artist credited on it.",
    hint="Remove the artist name: stores show artists from the credits. Ignore this warning if "
    "the name is genuinely part of the title.",
)
def _no_artist(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    for text in _texts(s, ctx):
        # Self-titled releases are legitimate; a featuring phrase is title.no_featuring's finding;
        # a remix names its remixer ("Jun Park Remix"), as stores' style guides ask.
        if not text.value or text.self_titled or _featuring(text):
            continue
        found = [
            name
            for name in _names(text.credits, remixers=False)
            if re.search(rf"(?<!\w){_name_pattern(name)}(?!\w)", text.value, re.IGNORECASE)
        ]
        if found:
            listed = ", ".join(f'"{name}"' for name in found)
            message = f'{text.where} "{text.value}" contains the credited artist name {listed}.'
            yield _text_finding(rule, text, message, rule.hint)


@rule(
    "title.no_generic_terms",
    severity=Severity.WARNING,
    field=_TITLE_FIELDS,
    message="A title or version contains a generic or marketing term.",
    hint="Remove the term; use the version only for a real version (e.g. 'Radio Edit', 'Live').",
)
def _no_generic(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    for text in _texts(s, ctx):
        if match := _GENERIC.search(text.value):
            message = f'{text.where} "{text.value}" contains the generic term "{match.group(0)}".'
            hint = (
                f'Remove "{match.group(0)}" from the {text.attribute}; use the version only for a '
                "real version (e.g. 'Radio Edit', 'Live')."
            )
            yield _text_finding(rule, text, message, hint)
