from django.urls import path

from messaging.inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox_page, name="list"),
    path("conversations/", views.conversations_fragment, name="conversations"),
    path("<str:conversation>/", views.conversation_page, name="conversation"),
    path("<str:conversation>/latest/", views.latest_fragment, name="latest"),
    path("<str:conversation>/older/", views.older_fragment, name="older"),
    path("<str:conversation>/read/", views.mark_read, name="read"),
    path("<str:conversation>/archive/", views.archive, name="archive"),
    path("<str:conversation>/reply/", views.reply, name="reply"),
    path("<str:conversation>/consent/", views.consent, name="consent"),
]
