"""The Agent's API under /api/ai/: suggestions and the actions on them, the interaction log and
its figures, personas, leads."""

from ninja import Router

from ai.leads.api import router as leads
from ai.personas.api import router as personas
from ai.review.api import router as review
from ai.suggestions.api import router as suggestions

router = Router()
router.add_router("/suggestions", suggestions)
router.add_router("/interactions", review)
router.add_router("/personas", personas)
router.add_router("/leads", leads)
