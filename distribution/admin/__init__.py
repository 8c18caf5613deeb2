"""Admin panel: catalog pages and the QC review queue."""

from distribution.admin import catalog, delivery, review  # noqa: F401  registers the admins
