"""The Agent's pages under /agent/: each part keeps its own list (review: the Agent page; suggestions:
the inbox panel and its actions; personas; leads)."""

from ai.leads import urls as leads
from ai.personas import urls as personas
from ai.review import urls as review
from ai.suggestions import urls as suggestions

app_name = "ai"
urlpatterns = [*review.urlpatterns, *suggestions.urlpatterns, *personas.urlpatterns, *leads.urlpatterns]
