from django.urls import path

from bulk import views

app_name = "bulk"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.new_audience, name="new"),
    path("new/message/", views.new_message, name="new_message"),
    path("new/preview/", views.new_preview, name="new_preview"),
    path("<str:job_id>/", views.job_detail, name="detail"),
    path("<str:job_id>/control/", views.job_control, name="control"),
    path("<str:job_id>/funnel/", views.job_funnel, name="funnel"),
    path("<str:job_id>/report.csv", views.job_report, name="report"),
]
