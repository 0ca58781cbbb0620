"""The personas part's pages, mounted under /agent/ by ai/urls.py (namespace "ai"). PLACEHOLDER: the
personas part fills it in."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
