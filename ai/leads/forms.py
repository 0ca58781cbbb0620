"""The operator's forms for a lead: its qualification and a note. ai/leads/actions.py checks the
values, so the API and these forms refuse the same things."""

from __future__ import annotations

from django import forms

from ai.leads import actions
from ai.models import Lead, LeadStatus


class LeadForm(forms.Form):
    status = forms.ChoiceField(choices=[(s.value, s.value.capitalize()) for s in LeadStatus])
    score = forms.IntegerField(required=False, min_value=0, max_value=100, help_text="0 to 100")
    interest = forms.FloatField(required=False, min_value=0, max_value=1, help_text="0 (none) to 1 (keen)")
    urgency = forms.FloatField(required=False, min_value=0, max_value=1, help_text="0 (someday) to 1 (now)")
    source = forms.CharField(required=False, max_length=actions.MAX_TEXT, help_text="e.g. whatsapp, website, import")
    campaign = forms.CharField(required=False, max_length=actions.MAX_TEXT)
    note = forms.CharField(
        required=False, max_length=actions.MAX_NOTE, widget=forms.Textarea(attrs={"rows": 2}), help_text="Optional"
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    @staticmethod
    def initial_for(lead: Lead | None) -> dict:
        if lead is None:
            return {"status": LeadStatus.NEW.value, "version": 0}
        return {name: getattr(lead, name) for name in actions.FIELDS} | {"version": lead.version}


class NoteForm(forms.Form):
    note = forms.CharField(max_length=actions.MAX_NOTE, widget=forms.Textarea(attrs={"rows": 2}))
