from django.apps import AppConfig


class BlackoutsConfig(AppConfig):
    name = "blackouts"
    verbose_name = "Blackouts"
