"""Admin pages over DynamoDB (the Django admin's own ModelAdmins cover users and groups)."""

from django.urls import path

from wecare import admin_views

app_name = "dynamo_admin"

urlpatterns = [
    path("dynamo/audit/", admin_views.audit_log, name="audit"),
    path("dynamo/config/", admin_views.system_config, name="config"),
    path("dynamo/contacts/", admin_views.contacts_table, name="contacts"),
    path("dynamo/dlq/", admin_views.dead_letters, name="dlq"),
]
