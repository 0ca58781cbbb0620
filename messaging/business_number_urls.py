"""Admin pages for the business numbers' names and the WhatsApp numbers' business profiles (mounted
under /admin/business-numbers/)."""

from django.urls import path

from messaging import business_number_views as views

app_name = "business_numbers"

urlpatterns = [
    path("", views.number_list, name="list"),
    path("<str:sender>/", views.number_edit, name="edit"),
    path("<str:sender>/profile/", views.profile_edit, name="profile"),
]
