"""Admin pages for WhatsApp's automatic replies (mounted under /admin/whatsapp/)."""

from django.urls import path

from messaging import admin_views

app_name = "whatsapp_admin"

urlpatterns = [
    path("autoreply/", admin_views.autoreply_index, name="autoreply"),
    path("autoreply/<str:phone_number_id>/welcome/", admin_views.welcome_edit, name="welcome"),
    path("autoreply/<str:phone_number_id>/menu/", admin_views.menu_edit, name="menu"),
]
