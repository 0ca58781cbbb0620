from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from wecare.roles import Role, public, require_role


@require_role(Role.VIEWER)
def home(request: HttpRequest) -> HttpResponse:
    """Where login lands: the inbox, where staff spend their day."""
    return redirect("inbox:list")


@public
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process is up and settings loaded. HealthCheckMiddleware answers GET and HEAD
    first (for any Host); this view only sees other methods."""
    return JsonResponse({"status": "ok", "environment": settings.ENVIRONMENT, "sendMode": settings.SEND_MODE})


class LoginView(auth_views.LoginView):
    """Password login (local stack) and the button to Cognito's hosted UI when OIDC is on."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.PASSWORD_LOGIN_ENABLED:
            return HttpResponse("Password login is turned off here; use single sign-on.", status=403)
        return super().post(request, *args, **kwargs)
