"""Admin panel: catalog pages and the QC review queue."""

from distribution.admin import catalog, review  # noqa: F401  registers the model admins
