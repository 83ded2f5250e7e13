"""A real SMTP server for the tests: aiosmtpd (Debian's python3-aiosmtpd) on loopback.

Every message it accepts is written whole to --maildir as one file (the raw message, with the
envelope in X-Envelope-From / X-Envelope-To lines before it). With --tls-cert/--tls-key it offers
STARTTLS and requires it before AUTH; with --user/--password it requires AUTH PLAIN or LOGIN
before MAIL. With --refuse-domain it answers 450 (try again later) to every recipient at that
domain and notes each refusal as a line of --maildir's refused.txt. It prints "ready" once
listening and runs until killed.
"""
import argparse
import asyncio
import os
import ssl
import time
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Save:
    def __init__(self, maildir, refuse_domain):
        self.maildir = maildir
        self.refuse_domain = refuse_domain

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_domain and address.lower().endswith("@" + self.refuse_domain):
            with open(os.path.join(self.maildir, "refused.txt"), "a") as f:
                f.write(address + "\n")
            return "450 4.2.1 " + self.refuse_domain + ": try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.maildir, f"{time.time():.6f}-{uuid.uuid4().hex}.eml")
        head = f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {','.join(envelope.rcpt_tos)}\r\n"
        with open(name + ".tmp", "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(name + ".tmp", name)
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--maildir", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--refuse-domain")
    a = p.parse_args()
    os.makedirs(a.maildir, exist_ok=True)
    kwargs = {}
    if a.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(a.tls_cert, a.tls_key)
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    if a.user:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and \
                auth_data.login == a.user.encode() and auth_data.password == a.password.encode()
            return AuthResult(success=ok)
        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = bool(a.tls_cert)
    controller = Controller(Save(a.maildir, a.refuse_domain), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
