"""A small Flask 2.2 ticket shop (Debian's python3-flask, run by /usr/bin/python3 on Werkzeug's own
server): the buyer comes from request.values (query and form), else the form's customer[email],
else the body as JSON whatever its Content-Type; the account from an HS256 JWT in the
`shop_session` cookie. Env: PORT, SESSION_KEY, optional ORDERS_FILE."""
import os
import sys
from pathlib import Path

from flask import Flask, jsonify, request
from markupsafe import escape

sys.path.insert(0, str(Path(__file__).parent.parent))
from shop_common import EVENT_PAGE, account_of, from_json, take_order  # noqa: E402

app = Flask(__name__)


@app.get("/health")
def health():
    return "ok", 200, {"Content-Type": "text/plain"}


@app.get("/events/<event>")
def event_page(event):
    return EVENT_PAGE.replace("{event}", str(escape(event)))


@app.route("/events/<event>/checkout", methods=["POST"])
def checkout(event):
    email = request.values.get("email")
    if email is None:
        email = request.form.get("customer[email]")
    tickets = request.values.get("tickets")
    if email is None or tickets is None:
        email, tickets = from_json(request.get_json(force=True, silent=True), email, tickets)
    return jsonify(take_order(event, account_of(request.cookies.get("shop_session")), email, tickets))


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]), debug=False, use_reloader=False)
