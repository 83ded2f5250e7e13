"""A small Flask 2.2 ticket shop (Debian's python3-flask, run by /usr/bin/python3 on Werkzeug's own
server): the buyer comes from request.values (query and form), else the form's customer[email],
else the body as JSON whatever its Content-Type; the account from an HS256 JWT in the
`shop_session` cookie. Env: PORT, SESSION_KEY, optional ORDERS_FILE."""
import base64
import hashlib
import hmac
import json
import os
import threading
from pathlib import Path

from flask import Flask, jsonify, request
from markupsafe import escape

app = Flask(__name__)
EVENT_PAGE = (Path(__file__).parent.parent / "event.html").read_text()
LOCK = threading.Lock()
ORDERS = 0


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def session_account():
    """The account of a valid session cookie, or None."""
    token = request.cookies.get("shop_session")
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


@app.get("/health")
def health():
    return "ok", 200, {"Content-Type": "text/plain"}


@app.get("/events/<event>")
def event_page(event):
    return EVENT_PAGE.replace("{event}", str(escape(event)))


@app.route("/events/<event>/checkout", methods=["POST"])
def checkout(event):
    global ORDERS
    email = request.values.get("email")
    if email is None:
        email = request.form.get("customer[email]")
    tickets = request.values.get("tickets")
    if email is None or tickets is None:
        data = request.get_json(force=True, silent=True)
        data = data if isinstance(data, dict) else {}
        if email is None:
            email = data.get("email")
            if email is None and isinstance(data.get("customer"), dict):
                email = data["customer"].get("email")
        if tickets is None:
            tickets = data.get("tickets")
    with LOCK:
        ORDERS += 1
        order = {"order": ORDERS, "event": event, "account": session_account(),
                 "email": text(email), "tickets": text(tickets)}
        if os.environ.get("ORDERS_FILE"):
            with open(os.environ["ORDERS_FILE"], "a") as f:
                f.write(json.dumps(order) + "\n")
    return jsonify(order)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]), debug=False, use_reloader=False)
