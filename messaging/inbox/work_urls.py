"""/dm/work/: what staff do with a conversation (messaging/inbox/work_views.py) and the search."""

from django.urls import path

from messaging.inbox import work_views

app_name = "inbox_work"

urlpatterns = [
    path("search/", work_views.search_page, name="search"),
    path("<str:conversation>/live/", work_views.live, name="live"),
    path("<str:conversation>/assign/", work_views.assign, name="assign"),
    path("<str:conversation>/status/", work_views.set_status, name="status"),
    path("<str:conversation>/undo/", work_views.undo, name="undo"),
    path("<str:conversation>/labels/", work_views.change_labels, name="labels"),
    path("<str:conversation>/presence/", work_views.touch_presence, name="presence"),
    path("<str:conversation>/notes/", work_views.add_note, name="notes"),
]
