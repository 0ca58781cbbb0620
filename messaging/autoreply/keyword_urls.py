"""Admin pages for the consent keyword rules of each channel (mounted under /admin/consent-keywords/)."""

from django.urls import path

from messaging.autoreply import views

app_name = "consent_admin"

urlpatterns = [
    path("", views.keywords_index, name="keywords"),
    path("<str:channel>/", views.keywords_edit, name="keywords_edit"),
]
