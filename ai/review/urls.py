"""The review part's pages, mounted under /agent/ by ai/urls.py (namespace "ai"): the Agent page
and its automation switch."""

from django.urls import path

from ai.review import views

urlpatterns = [
    path("", views.home, name="home"),
    path("automation/", views.automation, name="automation"),
]
