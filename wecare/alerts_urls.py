from django.urls import path

from wecare import alerts_views

app_name = "alerts"

urlpatterns = [
    path("", alerts_views.alert_list, name="list"),
    path("<str:alert_id>/acknowledge/", alerts_views.acknowledge, name="acknowledge"),
]
