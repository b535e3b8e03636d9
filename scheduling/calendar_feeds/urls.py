"""/calendar/...: the feeds (included from config.urls)."""

from django.urls import path

from scheduling.calendar_feeds import views

urlpatterns = [
    path("public/<slug:system>.ics", views.public_feed, name="calendar-public"),
    path("<str:secret>/<str:feed>.ics", views.token_feed, name="calendar-feed"),
]
