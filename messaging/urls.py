from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    path("templates/", views.templates_page, name="templates"),
    path("templates/sync/", views.templates_sync, name="templates_sync"),
    path("usage/", views.usage_page, name="usage"),
    path("contact/<str:contact_id>/", views.history, name="history"),
    path("contact/<str:contact_id>/calls/", views.calls, name="calls"),
    path("contact/<str:contact_id>/compose/", views.compose, name="compose"),
    path("contact/<str:contact_id>/compose/check/", views.compose_verdict, name="compose_check"),
    path("contact/<str:contact_id>/compose/consent/", views.compose_consent, name="compose_consent"),
]
