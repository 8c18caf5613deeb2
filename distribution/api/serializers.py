"""Catalog serializers.

Write serializers validate input (identifiers checked with python-stdnum, related objects
looked up inside the caller's organization only). Read serializers document the payloads the
selectors build; the API renders those payloads directly.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from rest_framework import serializers

from distribution.choices import ContributorRole
from distribution.identifiers import (
    normalize_isni,
    normalize_isrc,
    normalize_territories,
    normalize_upc,
)
from distribution.models import (
    Artist,
    Asset,
    Delivery,
    DeliveryAttempt,
    Label,
    Release,
    Store,
    Track,
)
from distribution.services import Credit


def _normalized(normalize: Any, value: Any) -> Any:
    try:
        return normalize(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None


class OrganizationScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A related id that only resolves inside the caller's organization."""

    default_error_messages = {
        "does_not_exist": "Unknown id {pk_value}.",
        "incorrect_type": "Expected an id, got {data_type}.",
    }

    def get_queryset(self) -> QuerySet[Model]:
        queryset = super().get_queryset()
        assert queryset is not None
        return queryset.filter(organization=self.context["organization"])


# --- Read shapes ------------------------------------------------------------------------------


class CreditReadSerializer(serializers.Serializer[Any]):
    artist_id = serializers.UUIDField()
    artist_name = serializers.CharField()
    role = serializers.ChoiceField(choices=ContributorRole.choices)
    sequence = serializers.IntegerField()


class LabelRefSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()


class TrackReadSerializer(serializers.ModelSerializer[Track]):
    release_id = serializers.UUIDField()
    contributors = CreditReadSerializer(many=True)

    class Meta:
        model = Track
        fields = [
            "id",
            "release_id",
            "disc_number",
            "track_number",
            "title",
            "version",
            "isrc",
            "duration_seconds",
            "parental_warning",
            "language",
            "preview_start_seconds",
            "contributors",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReleaseReadSerializer(serializers.ModelSerializer[Release]):
    label = LabelRefSerializer(allow_null=True)  # type: ignore[assignment]
    contributors = CreditReadSerializer(many=True)
    tracks = TrackReadSerializer(many=True)
    territories_include = serializers.ListField(child=serializers.CharField())
    territories_exclude = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Release
        fields = [
            "id",
            "title",
            "version",
            "release_type",
            "status",
            "upc",
            "label",
            "primary_genre",
            "language",
            "parental_warning",
            "release_date",
            "preorder_date",
            "original_release_date",
            "p_line",
            "c_line",
            "territories_include",
            "territories_exclude",
            "submitted_at",
            "reviewed_at",
            "review_note",
            "contributors",
            "tracks",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- Writes -----------------------------------------------------------------------------------


class CreditWriteSerializer(serializers.Serializer[Any]):
    artist = OrganizationScopedPrimaryKeyField(queryset=Artist.objects.all())
    role = serializers.ChoiceField(choices=ContributorRole.choices)
    sequence = serializers.IntegerField(min_value=1, max_value=999, required=False)

    def to_internal_value(self, data: Any) -> Credit:
        values = super().to_internal_value(data)
        # In a PATCH, DRF skips required fields of nested serializers too; but a credit is
        # always given whole (the list replaces the old one), so it still needs them.
        missing = {
            name: [field.error_messages["required"]]
            for name, field in self.fields.items()
            if field.required and name not in values
        }
        if missing:
            raise serializers.ValidationError(missing)
        return Credit(artist=values["artist"], role=values["role"], sequence=values.get("sequence"))


class LabelSerializer(serializers.ModelSerializer[Label]):
    class Meta:
        model = Label
        fields = ["id", "name", "p_line", "c_line", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list[Any] = []


def identifier_field(help_text: str) -> serializers.CharField:
    # Declared explicitly so separators ("0360-0029-1452") reach the normalizer before any
    # length check on the stored, compact form.
    return serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text=help_text
    )


class ArtistSerializer(serializers.ModelSerializer[Artist]):
    isni = identifier_field("ISNI, 16 characters; spaces allowed.")
    store_ids = serializers.DictField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text='Store code to that store\'s artist id, e.g. {"spotify": "4Z8W4fKeB5Yxbus"}.',
    )

    class Meta:
        model = Artist
        fields = ["id", "name", "isni", "store_ids", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list[Any] = []

    def validate_isni(self, value: str) -> str:
        return _normalized(normalize_isni, value) if value else ""


class ReleaseWriteSerializer(serializers.ModelSerializer[Release]):
    upc = identifier_field("UPC-A (12 digits) or EAN-13, with a valid check digit.")
    label = OrganizationScopedPrimaryKeyField(  # type: ignore[assignment]
        queryset=Label.objects.all(), required=False, allow_null=True
    )
    territories_include = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False, max_length=300
    )
    territories_exclude = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False, max_length=300
    )
    contributors = CreditWriteSerializer(many=True, required=False)

    class Meta:
        model = Release
        fields = [
            "title",
            "version",
            "release_type",
            "upc",
            "label",
            "primary_genre",
            "language",
            "parental_warning",
            "release_date",
            "preorder_date",
            "original_release_date",
            "p_line",
            "c_line",
            "territories_include",
            "territories_exclude",
            "contributors",
        ]
        validators: list[Any] = []

    def validate_upc(self, value: str) -> str:
        return _normalized(normalize_upc, value) if value else ""

    def validate_territories_include(self, value: list[str]) -> list[str]:
        return _normalized(normalize_territories, value)

    def validate_territories_exclude(self, value: list[str]) -> list[str]:
        return _normalized(normalize_territories, value)


class TrackWriteSerializer(serializers.ModelSerializer[Track]):
    isrc = identifier_field("ISRC, e.g. USRC17607839; hyphens allowed.")
    release = OrganizationScopedPrimaryKeyField(queryset=Release.objects.all())
    contributors = CreditWriteSerializer(many=True, required=False)

    class Meta:
        model = Track
        fields = [
            "release",
            "disc_number",
            "track_number",
            "title",
            "version",
            "isrc",
            "duration_seconds",
            "parental_warning",
            "language",
            "preview_start_seconds",
            "contributors",
        ]
        validators: list[Any] = []
        extra_kwargs = {
            "disc_number": {"min_value": 1, "max_value": 99},
            "track_number": {"min_value": 1, "max_value": 999},
            "duration_seconds": {"max_value": 86400},
            "preview_start_seconds": {"max_value": 86400},
        }

    def validate_isrc(self, value: str) -> str:
        return _normalized(normalize_isrc, value) if value else ""


class TrackUpdateSerializer(TrackWriteSerializer):
    release = None  # type: ignore[assignment]  # a track never moves to another release

    class Meta(TrackWriteSerializer.Meta):
        fields = [f for f in TrackWriteSerializer.Meta.fields if f != "release"]


# --- Assets and review ------------------------------------------------------------------------


class AssetSerializer(serializers.ModelSerializer[Asset]):
    release_id = serializers.UUIDField(allow_null=True)
    track_id = serializers.UUIDField(allow_null=True)
    analysis = serializers.DictField(
        help_text="Artwork: format, width, height, color_mode, dpi. "
        "Audio: container, codec, sample_rate, bit_depth, channels, duration_seconds."
    )

    class Meta:
        model = Asset
        fields = [
            "id",
            "kind",
            "status",
            "release_id",
            "track_id",
            "content_type",
            "original_filename",
            "size_bytes",
            "sha256",
            "md5",
            "analysis",
            "error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class FindingSerializer(serializers.Serializer[Any]):
    rule_id = serializers.CharField(help_text="Stable rule id, e.g. artwork.min_size.")
    severity = serializers.ChoiceField(choices=["error", "warning"])
    field = serializers.CharField()
    message = serializers.CharField()
    hint = serializers.CharField()
    subject_type = serializers.CharField()
    subject_id = serializers.UUIDField()


class ValidationReportSerializer(serializers.Serializer[Any]):
    release_id = serializers.UUIDField()
    submittable = serializers.BooleanField(help_text="No error-level findings remain.")
    error_count = serializers.IntegerField()
    warning_count = serializers.IntegerField()
    findings = FindingSerializer(many=True)


class ReviewNoteSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class RejectSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000, help_text="Shown to the label: what to fix.")


# --- Stores and deliveries --------------------------------------------------------------------


class StoreSerializer(serializers.ModelSerializer[Store]):
    class Meta:
        model = Store
        fields = [
            "code",
            "name",
            "dpid",
            "ern_version",
            "transport",
            "delivery_mode",
            "resend_audio_on_update",
            "takedown_mode",
            "is_active",
        ]
        read_only_fields = fields


class ReleaseStoresSerializer(serializers.Serializer[Any]):
    stores = serializers.ListField(
        child=serializers.SlugField(), max_length=50, help_text="Store codes, e.g. ['spotify']."
    )


class DeliveryAttemptSerializer(serializers.ModelSerializer[DeliveryAttempt]):
    class Meta:
        model = DeliveryAttempt
        fields = ["task_id", "started_at", "finished_at", "outcome", "error"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    release_id = serializers.UUIDField()
    store: serializers.SlugRelatedField[Store] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    attempts = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "release_id",
            "store",
            "kind",
            "status",
            "message_id",
            "batch_id",
            "attempt_count",
            "next_attempt_at",
            "last_error",
            "delivered_at",
            "acknowledged_at",
            "store_message",
            "attempts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PreviewSerializer(serializers.Serializer[Any]):
    store = serializers.CharField()
    valid = serializers.BooleanField()
    schema_errors = serializers.ListField(child=serializers.CharField())
    xml = serializers.CharField(allow_blank=True)
