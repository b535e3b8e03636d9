from django.urls import path

from operations import views

app_name = "operations"

urlpatterns = [
    path("jobs/<int:pk>/runs/<int:run>/stop/", views.run_stop, name="run-stop-page"),
]
