from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "distribution"
    verbose_name = "Catalog and distribution"
    default_auto_field = "django.db.models.BigAutoField"
