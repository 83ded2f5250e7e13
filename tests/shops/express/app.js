// A small Express 4 ticket shop (Debian's node-express and node-busboy, found through
// NODE_PATH=/usr/share/nodejs): bodies through express.urlencoded({ extended: true }),
// express.json() and busboy for multipart; the buyer is req.body.email ?? req.body.customer?.email,
// the account an HS256 JWT in the `shop_session` cookie, read with cookie-parser (the shop's
// secret is SESSION_KEY: a cookie the shop signed is in req.signedCookies, others in req.cookies).
// Env: PORT, SESSION_KEY, optional ORDERS_FILE.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const busboy = require('busboy');
const cookieParser = require('cookie-parser');
const escapeHtml = require('escape-html');
const express = require('express');
const qs = require('qs');

const eventPage = fs.readFileSync(path.join(__dirname, '..', 'event.html'), 'utf8');
let orders = 0;

// Multipart fields into req.body, nested and repeated the way the urlencoded parser does it;
// files are drained and left out of the body.
function multipart(req, res, next) {
  if (!req.is('multipart/form-data')) return next();
  const fields = new URLSearchParams();
  const bb = busboy({ headers: req.headers });
  bb.on('field', (name, value) => fields.append(name, value));
  bb.on('file', (name, stream) => stream.resume());
  bb.on('close', () => { req.body = qs.parse(fields.toString()); next(); });
  bb.on('error', (err) => { err.status = 400; next(err); });
  req.pipe(bb);
}

// The account of a valid session cookie, or null.
function sessionAccount(req) {
  const token = req.signedCookies.shop_session || req.cookies.shop_session;
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return null;
  const [header, payload, signature] = parts;
  try {
    if (JSON.parse(Buffer.from(header, 'base64url').toString())?.alg !== 'HS256') return null;
    const expected = crypto.createHmac('sha256', process.env.SESSION_KEY)
      .update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    return claims?.iss === 'demo-shop' && typeof claims.sub === 'string' ? claims.sub : null;
  } catch {
    return null;
  }
}

const text = (value) => (typeof value === 'string' ? value : null);

const app = express();
app.use(cookieParser(process.env.SESSION_KEY));
app.use(express.urlencoded({ extended: true }));
app.use(express.json());
app.use(multipart);

app.get('/health', (req, res) => res.type('text').send('ok'));

app.get('/events/:event', (req, res) => {
  res.type('html').send(eventPage.split('{event}').join(escapeHtml(req.params.event)));
});

app.post('/events/:event/checkout', (req, res) => {
  const body = req.body || {};
  const order = {
    order: ++orders,
    event: req.params.event,
    account: sessionAccount(req),
    email: text(body.email ?? body.customer?.email),
    tickets: text(body.tickets),
  };
  if (process.env.ORDERS_FILE) fs.appendFileSync(process.env.ORDERS_FILE, JSON.stringify(order) + '\n');
  res.json(order);
});

app.listen(Number(process.env.PORT), '127.0.0.1');
