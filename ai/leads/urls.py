"""The Leads pages and the contact pane's lead panel, mounted under /agent/ by ai/urls.py
(namespace "ai")."""

from django.urls import path

from ai.leads import views

urlpatterns = [
    path("leads/", views.lead_list, name="leads"),
    path("leads/panel/<str:key>/", views.lead_panel, name="lead-panel"),
    path(
        "leads/panel/<str:key>/proposals/<str:interaction_id>/<str:decision>/",
        views.lead_proposal,
        name="lead-proposal",
    ),
    path("leads/<str:contact_id>/", views.lead_detail, name="lead"),
    path("leads/<str:contact_id>/save/", views.lead_save, name="lead-save"),
    path("leads/<str:contact_id>/notes/", views.lead_note, name="lead-note"),
]
