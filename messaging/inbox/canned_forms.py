"""The admin's form for one canned reply: a shortcut typed after "/" and the text, checked here
where the admin can fix it."""

from __future__ import annotations

from django import forms

from messaging.inbox import canned


class CannedReplyForm(forms.Form):
    shortcut = forms.CharField(
        max_length=30,
        help_text="Typed after / in the composer: lower case letters, digits, - and _ (e.g. hours).",
    )
    text = forms.CharField(
        max_length=canned.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Variables: "
        + ", ".join("{{" + v + "}}" for v in canned.VARIABLES)
        + ". One the conversation has no value for (a contact without a name) is left as written.",
    )

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if editing:  # the shortcut is the reply's key: rename by deleting and adding
            self.fields["shortcut"].disabled = True

    def clean_shortcut(self) -> str:
        value = self.cleaned_data["shortcut"].strip().lstrip("/").lower()
        if not canned.SHORTCUT.match(value):
            raise forms.ValidationError(
                "Use 1 to 30 lower case letters, digits, - or _, starting with a letter or digit."
            )
        return value

    def clean_text(self) -> str:
        value = self.cleaned_data["text"].strip()
        unknown = sorted({m for m in canned.VARIABLE.findall(value) if m not in canned.VARIABLES})
        if unknown:
            raise forms.ValidationError(
                "Unknown variable "
                + ", ".join("{{" + u + "}}" for u in unknown)
                + ": use "
                + ", ".join(canned.VARIABLES)
            )
        return value
