"""Hand-written baseline views: the release documents of the API, built from `.values()` rows.

Written independently of the application's selectors and serializers, from the documented
shape of a release (`ReleaseReadSerializer`): four queries whatever the page size, no DRF, no
authentication, no throttling, no pagination envelope. The benchmark checks at startup that
these documents equal the API's, so the two are compared doing the same job.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from distribution.models import Release, ReleaseContributor, Track, TrackContributor

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

Document = dict[str, Any]

RELEASE_COLUMNS = (
    "id",
    "title",
    "version",
    "release_type",
    "status",
    "upc",
    "label_id",
    "label__name",
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
    "created_at",
    "updated_at",
)
TRACK_COLUMNS = (
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
    "created_at",
    "updated_at",
)
CREDIT_COLUMNS = ("artist_id", "artist__name", "role", "sequence")


class Encoder(json.JSONEncoder):
    """UUIDs as strings, dates in ISO 8601 and UTC datetimes with a `Z`, microseconds kept."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime):
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        if isinstance(o, dt.date):
            return o.isoformat()
        if isinstance(o, uuid.UUID):
            return str(o)
        return super().default(o)


def _json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(
        data,
        encoder=Encoder,
        safe=False,
        status=status,
        json_dumps_params={"ensure_ascii": False, "separators": (",", ":")},
    )


def _credit(row: dict[str, Any]) -> Document:
    return {
        "artist_id": row["artist_id"],
        "artist_name": row["artist__name"],
        "role": row["role"],
        "sequence": row["sequence"],
    }


def _documents(release_rows: list[dict[str, Any]]) -> list[Document]:
    """Attach label, contributors and tracks (with theirs) to release rows: three queries."""
    ids = [row["id"] for row in release_rows]
    release_credits: dict[uuid.UUID, list[Document]] = defaultdict(list)
    for row in (
        ReleaseContributor.objects.filter(release_id__in=ids)
        .order_by("sequence", "role")
        .values("release_id", *CREDIT_COLUMNS)
    ):
        release_credits[row["release_id"]].append(_credit(row))

    track_credits: dict[uuid.UUID, list[Document]] = defaultdict(list)
    for row in (
        TrackContributor.objects.filter(track__release_id__in=ids)
        .order_by("sequence", "role")
        .values("track_id", *CREDIT_COLUMNS)
    ):
        track_credits[row["track_id"]].append(_credit(row))

    tracks: dict[uuid.UUID, list[Document]] = defaultdict(list)
    for track in (
        Track.objects.filter(release_id__in=ids)
        .order_by("disc_number", "track_number")
        .values(*TRACK_COLUMNS)
    ):
        track["contributors"] = track_credits.get(track["id"], [])
        tracks[track["release_id"]].append(track)

    documents = []
    for row in release_rows:
        label_id, label_name = row.pop("label_id"), row.pop("label__name")
        row["label"] = None if label_id is None else {"id": label_id, "name": label_name}
        row["contributors"] = release_credits.get(row["id"], [])
        row["tracks"] = tracks.get(row["id"], [])
        documents.append(row)
    return documents


def _organization_id(request: HttpRequest) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.GET.get("organization", ""))
    except ValueError:
        return None


def release_list(request: HttpRequest) -> JsonResponse:
    """The newest releases of `?organization=<id>`, `?page_size=` of them (default 50)."""
    organization_id = _organization_id(request)
    if organization_id is None:
        return _json({"error": "organization=<uuid> is required"}, status=400)
    try:
        limit = min(int(request.GET.get("page_size", PAGE_SIZE)), MAX_PAGE_SIZE)
    except ValueError:
        return _json({"error": "page_size must be an integer"}, status=400)
    rows = list(
        Release.objects.filter(organization_id=organization_id)
        .order_by("-created_at")
        .values(*RELEASE_COLUMNS)[:limit]
    )
    return _json(_documents(rows))


def release_detail(request: HttpRequest, release_id: uuid.UUID) -> JsonResponse:
    """One release of `?organization=<id>`."""
    organization_id = _organization_id(request)
    if organization_id is None:
        return _json({"error": "organization=<uuid> is required"}, status=400)
    rows = list(
        Release.objects.filter(organization_id=organization_id, pk=release_id).values(
            *RELEASE_COLUMNS
        )
    )
    if not rows:
        return _json({"error": "not found"}, status=404)
    return _json(_documents(rows)[0])


# --- Inbound webhooks (bench/inbound_webhooks.py) ---------------------------------------------

INBOUND_LIST = "bench:inbound"
_inbound_redis: Any = None  # one client (and connection pool) per process, made on first use


@csrf_exempt
def inbound_push(request: HttpRequest, store_code: str) -> HttpResponse:
    """The bare floor of a webhook receiver: LPUSH the raw body to a Redis list, answer 204.
    No DRF, no signature, no parsing, no database."""
    global _inbound_redis
    if _inbound_redis is None:
        import redis
        from django.conf import settings

        _inbound_redis = redis.Redis.from_url(settings.REDIS_URL)
    _inbound_redis.lpush(INBOUND_LIST, request.body)
    return HttpResponse(status=204)
