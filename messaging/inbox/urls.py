"""The one inbox at /dm/ (``inbox:``): the list, a conversation by its inbox key
(``whatsapp~…``, ``sms~…``, ``email~…``) and its fragments and actions. The separate pages it
replaced (/dm/whatsapp/, /dm/sms/, /dm/email/ and their conversations) redirect into it."""

from django.urls import URLPattern, path

from messaging.inbox import views

app_name = "inbox"

urlpatterns: list[URLPattern] = [
    path("", views.inbox_page, name="list"),
    path("conversations/", views.conversations_fragment, name="conversations"),
]
for channel in ("whatsapp", "sms", "email"):
    urlpatterns += [
        path(f"{channel}/", views.legacy_list, {"channel": channel}),
        path(f"{channel}/<str:rest>/", views.legacy_conversation, {"channel": channel}),
    ]
urlpatterns += [
    path("<str:key>/", views.conversation_page, name="conversation"),
    path("<str:key>/latest/", views.latest_fragment, name="latest"),
    path("<str:key>/older/", views.older_fragment, name="older"),
    path("<str:key>/read/", views.mark_read, name="read"),
    path("<str:key>/archive/", views.archive, name="archive"),
    path("<str:key>/reply/", views.reply, name="reply"),
    path("<str:key>/consent/", views.consent, name="consent"),
]
