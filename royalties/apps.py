from django.apps import AppConfig


class RoyaltiesConfig(AppConfig):
    name = "royalties"
    verbose_name = "Royalties"
    default_auto_field = "django.db.models.BigAutoField"
