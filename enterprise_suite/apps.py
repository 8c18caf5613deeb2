from django.apps import AppConfig


class EnterpriseSuiteConfig(AppConfig):
    name = "enterprise_suite"
    verbose_name = "Platform"
    default_auto_field = "django.db.models.BigAutoField"
