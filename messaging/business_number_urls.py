"""Admin pages for the business numbers' names (mounted under /admin/business-numbers/)."""

from django.urls import path

from messaging import business_number_views as views

app_name = "business_numbers"

urlpatterns = [
    path("", views.number_list, name="list"),
    path("<str:sender>/", views.number_edit, name="edit"),
]
