"""The personas pages, mounted under /agent/ by ai/urls.py (namespace "ai")."""

from django.urls import path

from ai.personas import views

urlpatterns = [
    path("personas/", views.persona_list, name="personas"),
    path("personas/new/", views.persona_new, name="persona-new"),
    path("personas/numbers/", views.persona_choose, name="persona-choose"),
    path("personas/<str:persona_id>/", views.persona_detail, name="persona"),
    path("personas/<str:persona_id>/edit/", views.persona_edit, name="persona-edit"),
    path("personas/<str:persona_id>/archive/", views.persona_archive, name="persona-archive"),
]
