"""A small Django 3.2 ticket shop in one file (Debian's python3-django, run by /usr/bin/python3
as `shop.py`, which is `runserver --noreload`): settings through settings.configure, DEBUG off,
the usual middleware with the checkout csrf_exempt. The buyer comes from request.POST, else
request.GET, else (when not multipart) request.body as JSON whatever its Content-Type; the account
from an HS256 JWT in the `shop_session` cookie. Env: PORT, SESSION_KEY, optional ORDERS_FILE."""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
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

EVENT_PAGE = (Path(__file__).parent.parent / "event.html").read_text()
LOCK = threading.Lock()
ORDERS = 0


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def session_account(request):
    """The account of a valid session cookie, or None."""
    token = request.COOKIES.get("shop_session")
    if token is None or token.count(".") != 2:
        return None
    header, payload, signature = token.split(".")
    try:
        if json.loads(b64url_decode(header)).get("alg") != "HS256":
            return None
        key = os.environ["SESSION_KEY"].encode()
        expected = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, b64url_decode(signature)):
            return None
        claims = json.loads(b64url_decode(payload))
        sub = claims.get("sub")
        return sub if claims.get("iss") == "demo-shop" and isinstance(sub, str) else None
    except (ValueError, AttributeError):
        return None


def text(value):
    return value if isinstance(value, str) else None


@require_GET
def health(request):
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def event_page(request, event):
    return HttpResponse(EVENT_PAGE.replace("{event}", escape(event)))


@csrf_exempt
@require_POST
def checkout(request, event):
    global ORDERS
    email = request.POST.get("email")
    if email is None:
        email = request.GET.get("email")
    tickets = request.POST.get("tickets", request.GET.get("tickets"))
    if (email is None or tickets is None) and request.content_type != "multipart/form-data":
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None
        data = data if isinstance(data, dict) else {}
        if email is None:
            email = data.get("email")
            if email is None and isinstance(data.get("customer"), dict):
                email = data["customer"].get("email")
        if tickets is None:
            tickets = data.get("tickets")
    with LOCK:
        ORDERS += 1
        order = {"order": ORDERS, "event": event, "account": session_account(request),
                 "email": text(email), "tickets": text(tickets)}
        if os.environ.get("ORDERS_FILE"):
            with open(os.environ["ORDERS_FILE"], "a") as f:
                f.write(json.dumps(order) + "\n")
    return JsonResponse(order)


urlpatterns = [
    path("health", health),
    path("events/<str:event>", event_page),
    path("events/<str:event>/checkout", checkout),
]

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line([sys.argv[0], "runserver", "--noreload", "127.0.0.1:" + os.environ["PORT"]])
