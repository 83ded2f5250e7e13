"""What the two Python test shops (flask/, django/) share and what is not their framework's
reading: the shop's HS256 session token check, the JSON body fallback small shops write by hand,
and the order record. Each shop still reads cookies, forms and the body with its framework."""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
from pathlib import Path

EVENT_PAGE = (Path(__file__).parent / "event.html").read_text()
_LOCK = threading.Lock()
_ORDERS = 0


def _b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def account_of(token):
    """The account of a valid session token (HS256, iss demo-shop), or None."""
    if token is None or token.count(".") != 2:
        return None
    header, payload, signature = token.split(".")
    try:
        if json.loads(_b64url_decode(header)).get("alg") != "HS256":
            return None
        key = os.environ["SESSION_KEY"].encode()
        expected = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _b64url_decode(signature)):
            return None
        claims = json.loads(_b64url_decode(payload))
        sub = claims.get("sub")
        return sub if claims.get("iss") == "demo-shop" and isinstance(sub, str) else None
    except (ValueError, AttributeError):
        return None


def from_json(data, email, tickets):
    """`email` and `tickets` filled from a parsed JSON body where the form gave none."""
    data = data if isinstance(data, dict) else {}
    if email is None:
        email = data.get("email")
        if email is None and isinstance(data.get("customer"), dict):
            email = data["customer"].get("email")
    if tickets is None:
        tickets = data.get("tickets")
    return email, tickets


def take_order(event, account, email, tickets):
    """Numbers the order, appends it to ORDERS_FILE when set, and answers it."""
    global _ORDERS
    text = lambda v: v if isinstance(v, str) else None  # noqa: E731 (a shop's is_string check)
    with _LOCK:
        _ORDERS += 1
        order = {"order": _ORDERS, "event": event, "account": account,
                 "email": text(email), "tickets": text(tickets)}
        if os.environ.get("ORDERS_FILE"):
            with open(os.environ["ORDERS_FILE"], "a") as f:
                f.write(json.dumps(order) + "\n")
    return order
