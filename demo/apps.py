from django.apps import AppConfig


class DemoConfig(AppConfig):
    # Demo data and the benchmark dataset span all three domain apps, so they live
    # here rather than in `scheduling`, which must not import `blackouts` or `deadlines`.
    name = "demo"
    verbose_name = "Demo data"
