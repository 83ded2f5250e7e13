//! HTML rendering for the demo ticket shop ([`super::shop`]).
//!
//! Every page shares one layout (header "Demo Ticket Shop", a little inline CSS).
//! Every interpolated value goes through [`escape_html`]; nothing here trusts its input.

use std::fmt::Write as _;

use super::shop::Event;

/// Escapes `&`, `<`, `>`, `"` and `'` so that `s` is safe in HTML text and in quoted attributes.
pub(super) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

/// A completed order, as shown on the confirmation page.
pub(super) struct Confirmation<'a> {
    pub(super) order: &'a str,
    pub(super) event: &'a Event,
    pub(super) quantity: u32,
    pub(super) email: &'a str,
    pub(super) account: Option<&'a str>,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#f6f6f4}\
header{background:#1d3557;color:#fff;padding:.8rem 1.5rem;display:flex;justify-content:space-between;align-items:center}\
header a{color:#fff;text-decoration:none;font-weight:600}header form{display:inline}\
main{max-width:46rem;margin:1.5rem auto;padding:0 1rem}\
.event{background:#fff;border:1px solid #ddd;border-radius:6px;padding:1rem;margin-bottom:1rem}\
.badge{background:#c0392b;color:#fff;border-radius:4px;padding:.1rem .5rem;font-size:.8rem;margin-left:.5rem}\
.notice{background:#fdecea;border:1px solid #c0392b;padding:.8rem;border-radius:6px}\
label{display:block;margin:.5rem 0}input{padding:.3rem;font-size:1rem}\
button{background:#1d3557;color:#fff;border:0;border-radius:4px;padding:.5rem 1rem;font-size:1rem;cursor:pointer}";

/// Wraps `body` (already escaped HTML) in the shared page layout.
fn layout(title: &str, account: Option<&str>, body: &str) -> String {
    let user = match account {
        Some(a) => format!(
            "<span>Signed in as <strong>{}</strong></span> \
             <form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form>",
            escape_html(a)
        ),
        None => "<a href=\"/login\">Sign in</a>".to_owned(),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Demo Ticket Shop</title><style>{STYLE}</style></head>\n<body>\
         <header><a href=\"/events\">Demo Ticket Shop</a><div>{user}</div></header>\n\
         <main>\n{body}\n</main></body></html>\n",
        escape_html(title)
    )
}

/// Formats a price such as `45.00 EUR`.
pub(super) fn format_price(cents: u64, currency: &str) -> String {
    format!("{}.{:02} {}", cents / 100, cents % 100, currency)
}

/// `GET /events`: every event with date, venue, price and a "sold out" badge.
pub(super) fn events_page(account: Option<&str>, events: &[Event]) -> String {
    let mut body = String::from("<h1>Upcoming events</h1>\n");
    if events.is_empty() {
        body.push_str("<p>No events are on sale right now.</p>");
    }
    for e in events {
        let badge = if e.seats_left == 0 { "<span class=\"badge\">Sold out</span>" } else { "" };
        let _ = writeln!(
            body,
            "<div class=\"event\"><h2><a href=\"/events/{}\">{}</a>{badge}</h2>\
             <p>{} · {} · {}</p></div>",
            escape_html(&e.id),
            escape_html(&e.title),
            escape_html(&e.starts_at),
            escape_html(&e.venue),
            escape_html(&format_price(e.price_cents, &e.currency)),
        );
    }
    layout("Events", account, &body)
}

/// `GET /events/{id}`: details plus the checkout form, or a "Sold out" notice.
pub(super) fn event_page(account: Option<&str>, e: &Event, max_quantity: u32) -> String {
    let id = escape_html(&e.id);
    let action = if e.seats_left == 0 {
        "<p class=\"notice\"><strong>Sold out.</strong> There are no tickets left for this event.</p>"
            .to_owned()
    } else {
        format!(
            "<h2>Tickets</h2><p>{} seats left.</p>\n\
             <form method=\"post\" action=\"/events/{id}/checkout\">\n\
             <label>E-mail <input type=\"email\" name=\"email\" required maxlength=\"254\" \
             autocomplete=\"email\"></label>\n\
             <label>Quantity <input type=\"number\" name=\"quantity\" min=\"1\" max=\"{max_quantity}\" \
             value=\"1\" required></label>\n\
             <button type=\"submit\">Buy tickets</button>\n</form>",
            e.seats_left
        )
    };
    let body = format!(
        "<article class=\"event\"><h1>{}</h1>\n<p><strong>When:</strong> {}<br>\
         <strong>Where:</strong> {}<br><strong>Price:</strong> {} per ticket<br>\
         <strong>Organizer:</strong> {}</p>\n<p>{}</p>\n{action}</article>\n\
         <p><a href=\"/events\">&larr; All events</a></p>",
        escape_html(&e.title),
        escape_html(&e.starts_at),
        escape_html(&e.venue),
        escape_html(&format_price(e.price_cents, &e.currency)),
        escape_html(&e.organizer),
        escape_html(&e.description),
    );
    layout(&e.title, account, &body)
}

/// `POST /events/{id}/checkout` (form): the order confirmation.
pub(super) fn confirmation_page(c: &Confirmation<'_>) -> String {
    let total = u64::from(c.quantity).saturating_mul(c.event.price_cents);
    let account = c.account.map(|a| format!("<br>Account: {}", escape_html(a))).unwrap_or_default();
    let body = format!(
        "<h1>Thank you for your order</h1>\n<div class=\"event\">\
         <p>Order number: <strong>{}</strong></p>\n<p>Event: {}<br>Date: {}<br>\
         Quantity: {}<br>Total: {}<br>E-mail: {}{account}</p></div>\n\
         <p>Your tickets will be sent to the e-mail address above.</p>\
         <p><a href=\"/events\">&larr; All events</a></p>",
        escape_html(c.order),
        escape_html(&c.event.title),
        escape_html(&c.event.starts_at),
        c.quantity,
        escape_html(&format_price(total, &c.event.currency)),
        escape_html(c.email),
    );
    layout("Order confirmed", c.account, &body)
}

/// `GET /login` (and the form again, with `error`, after a rejected `POST /login`).
pub(super) fn login_page(account: Option<&str>, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"notice\">{}</p>\n", escape_html(e))).unwrap_or_default();
    let body = format!(
        "<h1>Sign in</h1>\n{error}<form method=\"post\" action=\"/login\">\n\
         <label>Account <input name=\"account\" required maxlength=\"64\" \
         pattern=\"[A-Za-z0-9_.\\-]+\" placeholder=\"alice\"></label>\n\
         <button type=\"submit\">Sign in</button>\n</form>"
    );
    layout("Sign in", account, &body)
}

/// A page for an error or notice: `title` as heading, `message` below it.
pub(super) fn message_page(account: Option<&str>, title: &str, message: &str) -> String {
    let body = format!(
        "<h1>{}</h1>\n<p class=\"notice\">{}</p>\n<p><a href=\"/events\">&larr; All events</a></p>",
        escape_html(title),
        escape_html(message)
    );
    layout(title, account, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_html_neutralises_hostile_input() {
        assert_eq!(
            escape_html(r#"<script>alert("x" + 'y') && 1</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; + &#x27;y&#x27;) &amp;&amp; 1&lt;/script&gt;"
        );
        assert_eq!(escape_html("plain text, ümlaut"), "plain text, ümlaut");
        assert_eq!(escape_html("&amp;"), "&amp;amp;");
        assert_eq!(escape_html(""), "");
    }

    #[test]
    fn prices_are_formatted_with_two_decimals() {
        assert_eq!(format_price(4500, "EUR"), "45.00 EUR");
        assert_eq!(format_price(5, "EUR"), "0.05 EUR");
    }
}
