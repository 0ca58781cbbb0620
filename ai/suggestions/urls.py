"""The suggestions part's pages, mounted under /agent/ by ai/urls.py (namespace "ai"). PLACEHOLDER: the
suggestions part fills it in."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
