"""The suggestions part's pages, mounted under /agent/ by ai/urls.py (namespace "ai"): the inbox
panel of a conversation (its inbox key) and the actions on one of its suggestions."""

from django.urls import path

from ai.suggestions import views

urlpatterns = [
    path("suggestions/<str:key>/", views.panel, name="suggestion"),
    path("suggestions/<str:key>/<str:interaction_id>/send/", views.send_view, name="suggestion_send"),
    path("suggestions/<str:key>/<str:interaction_id>/discard/", views.discard_view, name="suggestion_discard"),
    path("suggestions/<str:key>/<str:interaction_id>/rate/", views.rate_view, name="suggestion_rate"),
    path("suggestions/<str:key>/<str:interaction_id>/use/", views.use_view, name="suggestion_use"),
]
