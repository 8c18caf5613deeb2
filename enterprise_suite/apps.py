from django.apps import AppConfig


class EnterpriseSuiteConfig(AppConfig):
    name = "enterprise_suite"
    verbose_name = "Platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from enterprise_suite.metrics import register_queue_depth_collector

        register_queue_depth_collector()
