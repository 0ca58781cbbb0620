"""Admin pages for the canned replies (mounted under /admin/canned-replies/)."""

from django.urls import path

from messaging.inbox import canned_views

app_name = "canned_admin"

urlpatterns = [
    path("", canned_views.canned_index, name="index"),
    path("new/", canned_views.canned_new, name="new"),
    path("<str:shortcut>/", canned_views.canned_edit, name="edit"),
    path("<str:shortcut>/delete/", canned_views.canned_delete, name="delete"),
]
