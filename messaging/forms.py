"""The compose form: what a person fills in; messaging.outbound.parse does the rules."""

from __future__ import annotations

from django import forms

from messaging.channels import Channel, allowed_senders

MAX_UPLOAD = 16 * 1024 * 1024  # WhatsApp's media limit for video/audio; images are 5 MB


class ComposeForm(forms.Form):
    channel = forms.ChoiceField(choices=[(c.value, c.value) for c in Channel])
    sender = forms.ChoiceField(choices=())
    kind = forms.ChoiceField(choices=[("text", "Text"), ("template", "Template"), ("media", "Image / file")], required=False, initial="text")
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    template = forms.CharField(required=False)  # "name|language"
    header_params = forms.CharField(required=False)
    body_params = forms.CharField(required=False, help_text="Template body values, one per line")
    button_params = forms.CharField(required=False, help_text="One value per URL button that takes one")
    subject = forms.CharField(required=False, max_length=998)
    html = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), label="HTML (optional)")
    file = forms.FileField(required=False)
    caption = forms.CharField(required=False, max_length=1024)

    def __init__(self, *args, channel: str = "whatsapp", **kwargs):
        super().__init__(*args, **kwargs)
        senders = allowed_senders(Channel(channel))
        self.fields["sender"].choices = [(s, s) for s in senders]

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and upload.size > MAX_UPLOAD:
            raise forms.ValidationError("The file is larger than 16 MB, WhatsApp's limit.")
        return upload
