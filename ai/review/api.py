"""The review part's API operations, mounted under /api/ai/ by ai/api.py. PLACEHOLDER: the review part
fills it in."""

from ninja import Router

router = Router(tags=["agent"])
