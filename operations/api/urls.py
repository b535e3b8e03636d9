"""The operations app's API paths, included by config.api (with or without a trailing slash)."""

from django.urls import re_path

from operations.api.monitors import MonitorView, ObservationListView
from operations.api.runs import RunFinishView, RunHeartbeatView, RunStartView, RunStopView

urlpatterns = [
    re_path(r"^systems/(?P<slug>[-a-zA-Z0-9_]+)/monitor/?$", MonitorView.as_view(), name="monitor"),
    re_path(r"^observations/?$", ObservationListView.as_view(), name="observations"),
    re_path(r"^jobs/(?P<pk>[0-9]{1,18})/runs/?$", RunStartView.as_view(), name="job-runs"),
    re_path(
        r"^jobs/(?P<pk>[0-9]{1,18})/runs/(?P<run>[0-9]{1,18})/heartbeat/?$",
        RunHeartbeatView.as_view(),
        name="run-heartbeat",
    ),
    re_path(
        r"^jobs/(?P<pk>[0-9]{1,18})/runs/(?P<run>[0-9]{1,18})/finish/?$",
        RunFinishView.as_view(),
        name="run-finish",
    ),
    re_path(
        r"^jobs/(?P<pk>[0-9]{1,18})/runs/(?P<run>[0-9]{1,18})/stop/?$",
        RunStopView.as_view(),
        name="run-stop",
    ),
]
