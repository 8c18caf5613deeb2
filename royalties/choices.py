"""Status and kind values of the royalties models."""

from django.db import models


class ReportStatus(models.TextChoices):
    UPLOADED = "uploaded"
    IMPORTING = "importing"
    IMPORTED = "imported"
    REJECTED = "rejected"  # too many bad lines, or the file as a whole is malformed
    FAILED = "failed"  # an unexpected error; nothing was kept


class UsageType(models.TextChoices):
    STREAM = "stream"
    DOWNLOAD = "download"
    UGC = "ugc"
    OTHER = "other"


class StatementStatus(models.TextChoices):
    DRAFT = "draft"  # the period is open: regenerated on demand
    FINAL = "final"  # the period is closed: never changes again


class EarningsGroup(models.TextChoices):
    TRACK = "track"
    RELEASE = "release"
    STORE = "store"
    TERRITORY = "territory"
    MONTH = "month"
