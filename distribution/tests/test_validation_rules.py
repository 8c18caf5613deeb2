"""The validation rules, run on snapshots built in memory (no database).

`valid_release()` is a release every rule accepts; each case changes one thing and names the
rule ids it must (or must not) trigger. The case tables are checked to cover every rule in RULES.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from distribution.validation import (
    RULES,
    AssetSnapshot,
    CreditSnapshot,
    Finding,
    ReleaseSnapshot,
    Severity,
    TrackSnapshot,
    validate_release,
)

TODAY = datetime.date(2026, 3, 2)
LEAD_DAYS = 7
MIN_SIDE = 3000
ARTWORK_MAX = 50 * 1024 * 1024
AUDIO_MAX = 2 * 1024 * 1024 * 1024
ARTIST = "Nova Lake"
GUEST = "Jun Park"


# --- Snapshot builders: valid by default, override one thing ------------------------------


def credit(name: str = ARTIST, role: str = "primary_artist") -> CreditSnapshot:
    return CreditSnapshot(
        artist_id=uuid.uuid5(uuid.NAMESPACE_DNS, name), artist_name=name, role=role
    )


ARTWORK_OK = {"format": "JPEG", "width": 3000, "height": 3000, "color_mode": "RGB", "dpi": [72, 72]}
AUDIO_OK = {
    "container": "WAV",
    "codec": "PCM",
    "sample_rate": 44100,
    "bit_depth": 24,
    "channels": 2,
    "duration_seconds": 200.0,
}


def _asset(
    kind: str, base: dict[str, Any], status: str, error: str, size: int, **analysis: Any
) -> AssetSnapshot:
    content_type = "image/jpeg" if kind == "artwork" else "audio/wav"
    return AssetSnapshot(uuid.uuid4(), kind, status, content_type, size, base | analysis, error)


def artwork(
    status: str = "ready", error: str = "", size: int = 4_000_000, **analysis: Any
) -> AssetSnapshot:
    return _asset("artwork", ARTWORK_OK, status, error, size, **analysis)


def audio(
    status: str = "ready", error: str = "", size: int = 50_000_000, **analysis: Any
) -> AssetSnapshot:
    return _asset("audio", AUDIO_OK, status, error, size, **analysis)


def track(number: int = 1, disc: int = 1, **overrides: Any) -> TrackSnapshot:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "disc_number": disc,
        "track_number": number,
        "title": f"Morning Light {number}",
        "version": "",
        "isrc": f"GBTST26{number:05d}",
        "parental_warning": "not_explicit",
        "duration_seconds": 200,
        "credits": (credit(),),
        "audio": audio(),
    }
    return TrackSnapshot(**(values | overrides))


def valid_release(**overrides: Any) -> ReleaseSnapshot:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "title": "Tides",
        "version": "",
        "release_type": "ep",
        "upc": "880000000015",
        "release_date": TODAY + datetime.timedelta(days=30),
        "p_line": "2026 Test Imprint",
        "c_line": "2026 Test Imprint",
        "territories_include": ("WW",),
        "territories_exclude": (),
        "credits": (credit(),),
        "tracks": (track(1), track(2)),
        "artwork": artwork(),
    }
    return ReleaseSnapshot(**(values | overrides))


def one_track(**overrides: Any) -> ReleaseSnapshot:
    """A valid release whose first track is changed by `overrides`."""
    return valid_release(tracks=(track(1, **overrides), track(2)))


def validate(snapshot: ReleaseSnapshot, **params: Any) -> list[Finding]:
    settings: dict[str, Any] = {
        "today": TODAY,
        "lead_days": LEAD_DAYS,
        "artwork_max_bytes": ARTWORK_MAX,
        "audio_max_bytes": AUDIO_MAX,
        "artwork_min_side": MIN_SIDE,
        "isrc_allocation": False,
    }
    return validate_release(snapshot, **(settings | params))


def rule_ids(findings: list[Finding]) -> list[str]:
    return [f.rule_id for f in findings]


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


# --- One failing and one passing case per rule --------------------------------------------

Build = Callable[[], ReleaseSnapshot]


def with_artwork(*args: Any, **kwargs: Any) -> ReleaseSnapshot:
    return valid_release(artwork=artwork(*args, **kwargs))


def with_audio(*args: Any, **kwargs: Any) -> ReleaseSnapshot:
    return one_track(audio=audio(*args, **kwargs))


# (rule id, a snapshot on which that rule, and only that rule, fires)
FAILING: list[tuple[str, Build]] = [
    ("artwork.present", lambda: valid_release(artwork=None)),
    ("artwork.readable", lambda: with_artwork("unreadable", "truncated JPEG")),
    ("artwork.readable", lambda: with_artwork("analysing")),
    ("artwork.format", lambda: with_artwork(format="GIF")),
    ("artwork.square", lambda: with_artwork(width=3200)),
    ("artwork.min_size", lambda: with_artwork(width=2999, height=2999)),
    ("artwork.color_mode", lambda: with_artwork(color_mode="CMYK")),
    ("artwork.file_size", lambda: with_artwork(size=ARTWORK_MAX + 1)),
    ("audio.present", lambda: one_track(audio=None)),
    ("audio.readable", lambda: with_audio("unreadable", "not a RIFF file")),
    ("audio.readable", lambda: with_audio("uploaded")),
    ("audio.format", lambda: with_audio(container="MP3", codec="MP3")),
    ("audio.format", lambda: with_audio(container="WAV", codec="MP3")),
    ("audio.bit_depth", lambda: with_audio(bit_depth=32)),
    ("audio.sample_rate", lambda: with_audio(sample_rate=22050)),
    ("audio.channels", lambda: with_audio(channels=1)),
    ("audio.file_size", lambda: with_audio(size=AUDIO_MAX + 1)),
    ("release.has_tracks", lambda: valid_release(tracks=())),
    ("release.upc.present", lambda: valid_release(upc="")),
    ("release.upc.check_digit", lambda: valid_release(upc="880000000018")),
    ("track.isrc.present", lambda: one_track(isrc="")),
    ("title.no_featuring", lambda: one_track(title="Morning Light feat. Jun Park")),
    ("title.no_artist_name", lambda: valid_release(title="Nova Lake Tides")),
    ("title.no_generic_terms", lambda: one_track(version="Original Mix")),
    ("release.single_title_match", lambda: valid_release(tracks=(track(1, title="Tide"),))),
    ("release.date.future", lambda: valid_release(release_date=TODAY)),
    ("release.date.future", lambda: valid_release(release_date=None)),
    ("release.date.lead_time", lambda: valid_release(release_date=days(LEAD_DAYS - 1))),
    ("release.primary_artist", lambda: valid_release(credits=(credit(GUEST, "featured_artist"),))),
    ("release.p_line", lambda: valid_release(p_line="")),
    ("release.c_line", lambda: valid_release(c_line="  ")),
    ("release.territories", lambda: valid_release(territories_include=())),
    ("track.parental_warning", lambda: one_track(parental_warning="unknown")),
    ("track.parental_warning", lambda: one_track(parental_warning="")),
]

# (rule id the case is about, a boundary or lookalike snapshot every rule accepts[, settings])
PASSING: list[tuple[Any, ...]] = [
    ("artwork.present", valid_release),
    ("artwork.readable", valid_release),
    ("artwork.format", lambda: with_artwork(format="PNG")),
    ("artwork.square", lambda: with_artwork(width=4000, height=4000)),
    ("artwork.min_size", lambda: with_artwork(width=MIN_SIDE, height=MIN_SIDE)),
    ("artwork.color_mode", lambda: with_artwork(color_mode="RGB", dpi=None)),
    ("artwork.file_size", lambda: with_artwork(size=ARTWORK_MAX)),
    ("audio.present", valid_release),
    ("audio.readable", valid_release),
    ("audio.format", lambda: with_audio(container="FLAC", codec="FLAC")),
    ("audio.bit_depth", lambda: with_audio(bit_depth=16)),
    ("audio.sample_rate", lambda: with_audio(sample_rate=96000)),
    ("audio.channels", lambda: with_audio(channels=2)),
    ("audio.file_size", lambda: with_audio(size=AUDIO_MAX)),
    ("release.has_tracks", lambda: valid_release(tracks=(track(1, title="Tides"),))),
    ("release.upc.present", lambda: valid_release(upc="4006381333931")),
    ("release.upc.check_digit", lambda: valid_release(upc="0 36000 29145 2")),
    ("track.isrc.present", valid_release),
    ("title.no_featuring", lambda: one_track(title="Aftermath")),
    ("title.no_featuring", lambda: one_track(title="Soft Touch", version="Left Feather Remix")),
    ("title.no_featuring", lambda: one_track(title="Dance with Me")),
    ("title.no_artist_name", lambda: valid_release(title=ARTIST)),
    ("title.no_artist_name", lambda: valid_release(title="Novalake Lakeside")),
    ("title.no_generic_terms", lambda: one_track(version="Extended Mix")),
    ("title.no_generic_terms", lambda: one_track(title="Exclusively Yours")),
    ("release.single_title_match", lambda: valid_release(tracks=(track(1, title=" Tides"),))),
    ("release.date.future", lambda: valid_release(release_date=days(1)), {"lead_days": 1}),
    ("release.date.lead_time", lambda: valid_release(release_date=days(LEAD_DAYS))),
    (
        "release.primary_artist",
        lambda: valid_release(credits=(credit(GUEST, "featured_artist"), credit())),
    ),
    ("release.p_line", valid_release),
    ("release.c_line", valid_release),
    ("release.territories", lambda: valid_release(territories_include=("DE", "FR"))),
    ("track.parental_warning", lambda: one_track(parental_warning="explicit")),
    ("track.parental_warning", lambda: one_track(parental_warning="edited")),
]


def _case_id(case: tuple[Any, ...]) -> str:
    return str(case[0])


@pytest.mark.parametrize("case", FAILING, ids=_case_id)
def test_rule_fails(case: tuple[str, Build]) -> None:
    rule_id, build = case
    findings = validate(build())
    assert rule_ids(findings) == [rule_id], findings
    assert findings[0].message and findings[0].hint and findings[0].field


@pytest.mark.parametrize("case", PASSING, ids=_case_id)
def test_rule_passes(case: tuple[Any, ...]) -> None:
    build = case[1]
    params = case[2] if len(case) > 2 else {}
    assert validate(build(), **params) == []


def test_every_rule_has_a_failing_and_a_passing_case() -> None:
    ids = {rule.id for rule in RULES}
    assert {case[0] for case in FAILING} == ids
    assert {case[0] for case in PASSING} == ids


def test_rule_ids_are_unique_dotted_and_documented() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", rule.id), rule.id
        assert rule.severity in (Severity.ERROR, Severity.WARNING)
        assert rule.field and rule.message and rule.hint


def test_fully_valid_release_has_no_findings() -> None:
    assert validate(valid_release()) == []
    assert validate(valid_release(), isrc_allocation=True) == []


# --- Details of messages, fields and severities -------------------------------------------


def test_isrc_severity_flips_with_allocation() -> None:
    snapshot = one_track(isrc="")
    (error,) = validate(snapshot, isrc_allocation=False)
    (warning,) = validate(snapshot, isrc_allocation=True)
    assert (error.rule_id, error.severity, error.field) == (
        "track.isrc.present",
        "error",
        "tracks[0].isrc",
    )
    assert (warning.rule_id, warning.severity) == ("track.isrc.present", Severity.WARNING)
    assert "assigned from the organization's ISRC allocation at submission" in warning.message
    assert error.subject_type == "track" and error.subject_id == snapshot.tracks[0].id


def test_findings_order_is_release_first_then_tracks_by_disc_and_track() -> None:
    disc2 = track(1, disc=2, isrc="", audio=None)
    second = track(2, parental_warning="unknown")
    first = track(1, isrc="", audio=audio(channels=1))
    snapshot = valid_release(
        upc="",
        artwork=artwork(color_mode="P"),
        p_line="",
        tracks=(disc2, second, first),  # deliberately out of order
    )
    findings = validate(snapshot)
    assert [(f.rule_id, f.field) for f in findings] == [
        ("release.upc.present", "upc"),
        ("release.p_line", "p_line"),
        ("artwork.color_mode", "artwork.color_mode"),
        ("track.isrc.present", "tracks[0].isrc"),
        ("audio.channels", "tracks[0].audio.channels"),
        ("track.parental_warning", "tracks[1].parental_warning"),
        ("track.isrc.present", "tracks[2].isrc"),
        ("audio.present", "tracks[2].audio"),
    ]
    assert [f.subject_id for f in findings[3:5]] == [first.id, first.audio.id]  # type: ignore[union-attr]
    assert validate(snapshot) == findings


def test_artwork_color_mode_names_the_mode_and_how_to_convert() -> None:
    (cmyk,) = validate(valid_release(artwork=artwork(color_mode="CMYK")))
    assert "CMYK" in cmyk.message
    assert "RGB" in cmyk.hint and "convert" in cmyk.hint.lower()
    (rgba,) = validate(valid_release(artwork=artwork(color_mode="RGBA")))
    assert "RGBA" in rgba.message and "alpha" in rgba.hint
    assert cmyk.subject_type == "asset"


def test_unreadable_asset_reports_its_error_and_pending_asks_to_retry() -> None:
    (unreadable,) = validate(valid_release(artwork=artwork("unreadable", "cannot identify image")))
    assert "cannot identify image" in unreadable.message
    (pending,) = validate(one_track(audio=audio("analysing")))
    assert "analysis pending, retry shortly" in pending.message
    assert pending.field == "tracks[0].audio"


def test_analysis_rules_wait_for_analysis() -> None:
    broken = artwork("analysing", format="GIF", width=10, height=20, color_mode="CMYK")
    assert rule_ids(validate(valid_release(artwork=broken))) == ["artwork.readable"]


def test_messages_state_the_actual_values() -> None:
    (size,) = validate(valid_release(artwork=artwork(width=1400, height=1400)))
    assert "1400x1400" in size.message and "3000" in size.message
    (custom,) = validate(
        valid_release(artwork=artwork(width=1400, height=1400)), artwork_min_side=1500
    )
    assert "1500" in custom.message and "1500x1500" in custom.hint
    (rate,) = validate(one_track(audio=audio(sample_rate=32000)))
    assert "32000" in rate.message
    (upc,) = validate(valid_release(upc="880000000018"))
    assert "880000000018" in upc.message and "check digit" in upc.message


def test_lead_time_message_gives_the_earliest_allowed_date() -> None:
    (finding,) = validate(valid_release(release_date=days(3)))
    assert days(LEAD_DAYS).isoformat() in finding.message
    assert days(LEAD_DAYS).isoformat() in finding.hint
    assert validate(valid_release(release_date=days(3)), lead_days=3) == []
    # A past date is reported once, by release.date.future.
    assert rule_ids(validate(valid_release(release_date=days(-5)))) == ["release.date.future"]


@pytest.mark.parametrize(
    "title",
    [
        "Morning Light feat. Jun Park",
        "Morning Light (Feat Jun Park)",
        "Morning Light (ft. Jun Park)",
        "Morning Light FT Jun Park",
        "Morning Light featuring Jun Park",
        "Morning Light (with Jun Park)",
        "Morning Light With  jun park",
    ],
)
def test_featuring_is_detected(title: str) -> None:
    guest = (credit(), credit(GUEST, "featured_artist"))
    findings = validate(one_track(title=title, credits=guest))
    assert rule_ids(findings) == ["title.no_featuring"]
    assert findings[0].field == "tracks[0].title"


@pytest.mark.parametrize(
    "title",
    [
        "Aftermath",
        "Soft Touch",
        "Feature Film",
        "Left Behind",
        "Gift",
        "With You",
        "Without Jun Parker",
    ],
)
def test_featuring_lookalikes_pass(title: str) -> None:
    assert (
        validate(one_track(title=title, credits=(credit(), credit(GUEST, "featured_artist")))) == []
    )


def test_featuring_in_release_version_points_at_the_version() -> None:
    (finding,) = validate(valid_release(version="feat. Jun Park"))
    assert (finding.rule_id, finding.field, finding.subject_type) == (
        "title.no_featuring",
        "version",
        "release",
    )


def test_artist_name_is_a_warning_and_self_titled_is_exempt_only_for_the_release() -> None:
    (finding,) = validate(one_track(title="Nova Lake Anthem"))
    assert (finding.rule_id, finding.severity, finding.field) == (
        "title.no_artist_name",
        Severity.WARNING,
        "tracks[0].title",
    )
    assert '"Nova Lake"' in finding.message
    assert validate(valid_release(title=ARTIST)) == []
    # Exactly the name, not merely containing it; other credited names still count.
    assert rule_ids(validate(valid_release(title="Nova Lake II"))) == ["title.no_artist_name"]
    assert rule_ids(validate(valid_release(version="nova lake edition"))) == [
        "title.no_artist_name"
    ]


def test_artist_name_uses_the_subjects_own_credits_and_spares_remixers() -> None:
    # Jun Park is credited on the second track only: the name is fine in the first track.
    guest = track(2, credits=(credit(), credit(GUEST, "producer")), title="Jun Park Song")
    snapshot = valid_release(tracks=(track(1, title="Jun Park"), guest))
    findings = validate(snapshot)
    assert [(f.rule_id, f.field) for f in findings] == [("title.no_artist_name", "tracks[1].title")]
    # A remix version names its remixer, as stores' style guides ask.
    remix = track(2, credits=(credit(), credit(GUEST, "remixer")), version="Jun Park Remix")
    assert validate(valid_release(tracks=(track(1), remix))) == []


@pytest.mark.parametrize(
    "version", ["Album Version", "original  MIX", "Exclusive", "(Exclusive Edit)"]
)
def test_generic_terms_are_warnings(version: str) -> None:
    (finding,) = validate(one_track(version=version))
    assert (finding.rule_id, finding.severity, finding.field) == (
        "title.no_generic_terms",
        Severity.WARNING,
        "tracks[0].version",
    )


def test_warnings_do_not_hide_errors_and_severities_are_strings() -> None:
    findings = validate(valid_release(title="Tides (Exclusive)", upc=""))
    assert [(f.rule_id, f.severity) for f in findings] == [
        ("release.upc.present", "error"),
        ("title.no_generic_terms", "warning"),
    ]


def test_as_dict_is_json_ready() -> None:
    snapshot = valid_release(artwork=None)
    (finding,) = validate(snapshot)
    assert finding.as_dict() == {
        "rule_id": "artwork.present",
        "severity": "error",
        "field": "artwork",
        "message": finding.message,
        "hint": finding.hint,
        "subject_type": "release",
        "subject_id": str(snapshot.id),
    }


def test_snapshots_are_frozen() -> None:
    snapshot = valid_release()
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.title = "Other"  # type: ignore[misc]
    assert hash(snapshot.artwork) == hash(dataclasses.replace(snapshot.artwork))  # type: ignore[type-var]
