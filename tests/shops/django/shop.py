"""A small Django 3.2 ticket shop in one file (Debian's python3-django, run by /usr/bin/python3
as `shop.py`, which is `runserver --noreload`): settings through settings.configure, DEBUG off,
the usual middleware with the checkout csrf_exempt. The buyer comes from request.POST, else
request.GET, else (when not multipart) request.body as JSON whatever its Content-Type; the account
from an HS256 JWT in the `shop_session` cookie. Env: PORT, SESSION_KEY, optional ORDERS_FILE."""
import json
import os
import sys
from pathlib import Path

from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    SECRET_KEY="test-shop-" + os.environ.get("SESSION_KEY", ""),
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
)

from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils.html import escape  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from django.views.decorators.http import require_GET, require_POST  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent.parent))
from shop_common import EVENT_PAGE, account_of, from_json, take_order  # noqa: E402


@require_GET
def health(request):
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def event_page(request, event):
    return HttpResponse(EVENT_PAGE.replace("{event}", escape(event)))


@csrf_exempt
@require_POST
def checkout(request, event):
    email = request.POST.get("email")
    if email is None:
        email = request.GET.get("email")
    tickets = request.POST.get("tickets", request.GET.get("tickets"))
    if (email is None or tickets is None) and request.content_type != "multipart/form-data":
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None
        email, tickets = from_json(data, email, tickets)
    return JsonResponse(take_order(event, account_of(request.COOKIES.get("shop_session")), email, tickets))


urlpatterns = [
    path("health", health),
    path("events/<str:event>", event_page),
    path("events/<str:event>/checkout", checkout),
]

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line([sys.argv[0], "runserver", "--noreload", "127.0.0.1:" + os.environ["PORT"]])
