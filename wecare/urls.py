from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from contacts.unsubscribe_views import unsubscribe_link
from messaging.inbound.webhook import sns_webhook
from wecare import views
from wecare.api import api
from wecare.roles import public

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", public(views.LoginView.as_view()), name="login"),
    path("accounts/logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("contacts/", include("contacts.urls")),
    path("messages/", include("messaging.urls")),
    path("bulk/", include("bulk.urls")),
    path("agent/", include("ai.urls")),
    path("dashboard/", include("messaging.dashboard.urls")),
    path("alerts/", include("wecare.alerts_urls")),
    path("dm/work/", include("messaging.inbox.work_urls")),  # before the inbox's own dm/<conversation>/ patterns
    path("dm/", include("messaging.inbox.urls")),  # the one inbox; /dm/whatsapp/, /dm/sms/… redirect into it
    path("webhooks/sns/", sns_webhook, name="sns_webhook"),  # public: authenticated by the SNS signature
    path("u/<str:token>", unsubscribe_link, name="unsubscribe"),  # public: the signed token is the authority
    path("admin/", include("wecare.admin_urls")),  # before admin.site.urls: its catch-all would shadow these
    path("admin/whatsapp/", include("messaging.autoreply.urls")),
    path("admin/consent-keywords/", include("messaging.autoreply.keyword_urls")),
    path("admin/business-numbers/", include("messaging.business_number_urls")),
    path("admin/canned-replies/", include("messaging.inbox.canned_urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]

if settings.OIDC_ENABLED:
    # Without a client id mozilla-django-oidc's views raise ImproperlyConfigured (a 500) for
    # anyone who asks: mount them only when OIDC is configured, so they are a 404 otherwise.
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
