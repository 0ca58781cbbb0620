from django.urls import path

from contacts import views

app_name = "contacts"

urlpatterns = [
    path("", views.contact_list, name="list"),
    path("new/", views.contact_create, name="create"),
    path("export.csv", views.contact_export, name="export"),
    path("import/", views.import_start, name="import"),
    path("import/<str:import_id>/", views.import_status, name="import_status"),
    path("import/<str:import_id>/rejected.csv", views.import_rejected, name="import_rejected"),
    path("<str:contact_id>/", views.contact_detail, name="detail"),
    path("<str:contact_id>/consent.csv", views.consent_export, name="consent_export"),
    path("<str:contact_id>/edit/", views.contact_edit, name="edit"),
    path("<str:contact_id>/delete/", views.contact_delete, name="delete"),
    path("<str:contact_id>/restore/", views.contact_restore, name="restore"),
]
