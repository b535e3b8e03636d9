from django.urls import path

from blackouts import views

app_name = "blackouts"

urlpatterns = [
    path("", views.blackout_list, name="blackout-list"),
    path("new/", views.blackout_form, name="blackout-create"),
    path("<int:pk>/", views.blackout_detail, name="blackout-detail"),
    path("<int:pk>/edit/", views.blackout_form, name="blackout-edit"),
    path("<int:pk>/delete/", views.blackout_delete_view, name="blackout-delete"),
]
