"""Admin pages for WhatsApp's automatic replies (mounted under /admin/whatsapp/)."""

from django.urls import path

from messaging.autoreply import views

app_name = "whatsapp_admin"

urlpatterns = [
    path("autoreply/", views.autoreply_index, name="autoreply"),
    path("autoreply/<str:phone_number_id>/welcome/", views.welcome_edit, name="welcome"),
    path("autoreply/<str:phone_number_id>/menu/", views.menu_edit, name="menu"),
]
