"""DM → SMS at /dm/sms/ and DM → SES at /dm/email/: the same views, each pattern carrying its
channel, so ``reverse("threads:thread", kwargs={"channel": "sms", "thread": …})`` picks the
channel's own URL."""

from django.urls import URLPattern, path

from messaging.inbox import thread_views as views

app_name = "threads"

urlpatterns: list[URLPattern] = []
for channel in ("sms", "email"):
    kwargs = {"channel": channel}
    urlpatterns += [
        path(f"{channel}/", views.inbox_page, kwargs, name="list"),
        path(f"{channel}/conversations/", views.threads_fragment, kwargs, name="threads"),
        path(f"{channel}/<str:thread>/", views.thread_page, kwargs, name="thread"),
        path(f"{channel}/<str:thread>/latest/", views.latest_fragment, kwargs, name="latest"),
        path(f"{channel}/<str:thread>/read/", views.mark_read, kwargs, name="read"),
        path(f"{channel}/<str:thread>/archive/", views.archive, kwargs, name="archive"),
        path(f"{channel}/<str:thread>/reply/", views.reply, kwargs, name="reply"),
    ]
