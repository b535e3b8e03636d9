from django.urls import path

from deadlines import views

app_name = "deadlines"

urlpatterns = [
    path("", views.deadline_list, name="deadline-list"),
    path("new/", views.deadline_form, name="deadline-create"),
    path("upload/", views.deadline_upload, name="deadline-upload"),
    path("<int:pk>/", views.deadline_detail, name="deadline-detail"),
    path("<int:pk>/edit/", views.deadline_form, name="deadline-edit"),
    path("<int:pk>/withdraw/", views.deadline_withdraw_view, name="deadline-withdraw"),
    path("feeds/", views.feed_list, name="deadline-feed-list"),
    path("feeds/new/", views.feed_form, name="deadline-feed-create"),
    path("feeds/<int:pk>/edit/", views.feed_form, name="deadline-feed-edit"),
    path("feeds/<int:pk>/sync/", views.feed_sync, name="deadline-feed-sync"),
    path("feeds/<int:pk>/delete/", views.feed_delete, name="deadline-feed-delete"),
]
