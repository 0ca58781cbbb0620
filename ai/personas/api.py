"""The personas part's API operations, mounted under /api/ai/ by ai/api.py. PLACEHOLDER: the personas part
fills it in."""

from ninja import Router

router = Router(tags=["agent"])
