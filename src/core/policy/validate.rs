//! From [`RawPolicy`] to [`Policy`]: defaults, ranges and parsing, each error with its field path.

use std::net::SocketAddr;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Uri};
use ipnet::IpNet;

use super::raw::{RawBackend, RawPolicy};
use super::*;
use crate::core::blacklist::session::{JwtAlgorithm, SessionCookie};
use crate::core::blacklist::{
    BlacklistPolicy, CheckoutReading, CheckoutRoute, HashMode, JsonAnswer, StoreFailureMode, Template,
};
use crate::core::email::CanonicalRules;
use crate::core::fields::Backend;
use crate::core::route::RoutePattern;

/// Checks every field of `raw` and fills in defaults.
pub fn validate(src: &str, raw: RawPolicy) -> Result<Policy, PolicyError> {
    let err = |field: &str, msg: String| PolicyError::new(src, field, msg);

    let s = raw.server;
    let server = ServerPolicy {
        listen: addr(src, "server.listen", s.listen.as_deref(), "127.0.0.1:8080")?,
        admin_listen: addr(src, "server.admin_listen", s.admin_listen.as_deref(), "127.0.0.1:8081")?,
        workers: match s.workers.unwrap_or(0) {
            w @ 0..=256 => w,
            w => return Err(err("server.workers", format!("{w} is more than 256"))),
        },
        http2: s.http2.unwrap_or(true),
        header_read_timeout: duration(src, "server.header_read_timeout", s.header_read_timeout, "10s")?,
        max_header_bytes: match s.max_header_bytes.unwrap_or(16 * 1024) {
            n @ 8192..=1_048_576 => n as usize,
            n => return Err(err("server.max_header_bytes", format!("{n} is outside 8192..=1048576"))),
        },
        shutdown_grace: duration(src, "server.shutdown_grace", s.shutdown_grace, "30s")?,
        tls: match (s.tls_cert_file, s.tls_key_file) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some(TlsFiles { cert_file: cert.into(), key_file: key.into() }),
            (Some(_), None) => {
                return Err(err("server.tls_key_file", "missing: tls_cert_file needs a key".into()))
            }
            (None, Some(_)) => {
                return Err(err("server.tls_cert_file", "missing: tls_key_file needs a certificate".into()))
            }
        },
    };
    if server.listen == server.admin_listen && server.listen.port() != 0 {
        return Err(err(
            "server.admin_listen",
            "must differ from server.listen: the admin API has its own listener".into(),
        ));
    }

    let Some(b) = raw.backend else {
        return Err(err(
            "backend",
            "missing: the policy must name the ticketing backend (`[backend] url = \"http://…\"`)".into(),
        ));
    };
    let backend = backend(src, b)?;

    let f = raw.forwarding;
    let mut trusted_proxies = Vec::new();
    for (i, p) in f.trusted_proxies.unwrap_or_default().iter().enumerate() {
        let net =
            p.parse::<IpNet>().or_else(|_| p.parse::<std::net::IpAddr>().map(IpNet::from)).map_err(|_| {
                err(
                    &format!("forwarding.trusted_proxies[{i}]"),
                    format!("`{p}` is not an IP address or CIDR network"),
                )
            })?;
        trusted_proxies.push(net);
    }
    let request_id_header = f.request_id_header.unwrap_or_else(|| "x-request-id".into());
    let request_id_header = HeaderName::from_bytes(request_id_header.as_bytes()).map_err(|_| {
        err("forwarding.request_id_header", format!("`{request_id_header}` is not a header name"))
    })?;
    let client_address_header = f.client_address_header.unwrap_or_else(|| super::SPIN_CLIENT_ADDR.into());
    let client_address_header = HeaderName::from_bytes(client_address_header.as_bytes()).map_err(|_| {
        err("forwarding.client_address_header", format!("`{client_address_header}` is not a header name"))
    })?;
    let forwarding = ForwardingPolicy { trusted_proxies, request_id_header, client_address_header };

    let namespace = raw.store.namespace.unwrap_or_else(|| "doorman".into());
    if namespace.is_empty()
        || namespace.len() > 64
        || !namespace.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    {
        return Err(err("store.namespace", "must be 1 to 64 letters, digits, '-' or '_'".into()));
    }
    let redis_url = |field: &str, url: &str| -> Result<String, PolicyError> {
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(err(field, format!("`{url}` is not a redis:// or rediss:// URL")));
        }
        url.parse::<Uri>().map_err(|e| err(field, format!("`{url}` is not a URL: {e}")))?;
        Ok(url.to_owned())
    };
    let store = match (raw.store.url.as_deref(), raw.store.cluster) {
        (Some(_), Some(_)) => {
            return Err(err(
                "store.cluster",
                "a store is either one Redis (`url`) or a cluster (`cluster`), not both".into(),
            ))
        }
        (None, Some(urls)) if urls.is_empty() => {
            return Err(err("store.cluster", "names no node (give one or more redis:// URLs)".into()))
        }
        (None, Some(urls)) => StorePolicy::RedisCluster {
            urls: urls.iter().map(|u| redis_url("store.cluster", u)).collect::<Result<_, _>>()?,
            namespace,
        },
        (None | Some("embedded"), None) => StorePolicy::Embedded { namespace },
        (Some(url), None) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            StorePolicy::Redis { url: redis_url("store.url", url)?, namespace }
        }
        (Some(other), None) => {
            return Err(err(
                "store.url",
                format!("`{other}` is neither \"embedded\" nor a redis:// or rediss:// URL"),
            ))
        }
    };

    let admin = AdminPolicy { token_file: raw.admin.token_file.map(Into::into) };
    let blacklist = raw.blacklist.map(|b| blacklist(src, b)).transpose()?;
    let waitlist = raw.waitlist.map(|w| waitlist(src, w)).transpose()?;
    Ok(Policy {
        server,
        backend,
        forwarding,
        store,
        admin,
        blacklist,
        waitlist,
        overrides: Vec::new(),
        ignored_env: Vec::new(),
    })
}

fn waitlist(src: &str, w: super::raw::RawWaitlist) -> Result<WaitlistPolicy, PolicyError> {
    let err = |field: &str, msg: String| PolicyError::new(src, field, msg);
    let public_url = w.public_url.ok_or_else(|| {
        err(
            "waitlist.public_url",
            "missing: the shop's public address, for links in mails (https://shop.example)".into(),
        )
    })?;
    let url: http::Uri =
        public_url.parse().map_err(|_| err("waitlist.public_url", format!("`{public_url}` is not a URL")))?;
    let scheme_ok = matches!(url.scheme_str(), Some("http" | "https"));
    if !scheme_ok || url.authority().is_none() || url.query().is_some() {
        return Err(err(
            "waitlist.public_url",
            format!("`{public_url}` is not an http:// or https:// address without a query"),
        ));
    }
    let from = w.from.ok_or_else(|| {
        err("waitlist.from", "missing: the mails' sender (Shop <waitlist@shop.example>)".into())
    })?;
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(err("waitlist.from", format!("`{from}` is not a mailbox (Name <address@domain>)")));
    }
    let mount = w.mount.unwrap_or_else(|| "/waitlist".into());
    let mount_ok = mount.starts_with('/')
        && mount.len() > 1
        && !mount.ends_with('/')
        && mount[1..].split('/').all(crate::core::blacklist::is_slug);
    if !mount_ok {
        return Err(err("waitlist.mount", format!("`{mount}` is not a path like /waitlist")));
    }
    if let Some(p) = &w.event_page {
        if !p.starts_with('/') || p.starts_with("//") || p.contains(['\\', '\r', '\n']) {
            return Err(err(
                "waitlist.event_page",
                format!("`{p}` is not a path on the shop (/events/{{event}})"),
            ));
        }
    }
    let mail = w.mail.unwrap_or_default();
    let retry_after = duration(src, "waitlist.mail.retry_after", mail.retry_after.clone(), "30s")?;
    let transport = mail.transport.as_deref().unwrap_or("file");
    if transport == "file" {
        let smtp_only = [
            ("host", mail.host.is_some()),
            ("port", mail.port.is_some()),
            ("security", mail.security.is_some()),
            ("username", mail.username.is_some()),
            ("password_file", mail.password_file.is_some()),
            ("ca_file", mail.ca_file.is_some()),
            ("timeout", mail.timeout.is_some()),
        ];
        if let Some((field, _)) = smtp_only.iter().find(|(_, set)| *set) {
            return Err(err(&format!("waitlist.mail.{field}"), "only for transport = \"smtp\"".into()));
        }
    }
    let mail = match transport {
        "file" => MailTransport::File { dir: mail.outbox_dir.unwrap_or_else(|| "outbox".into()).into() },
        "smtp" => {
            let host = mail
                .host
                .filter(|h| !h.trim().is_empty())
                .ok_or_else(|| err("waitlist.mail.host", "missing: the SMTP server's host name".into()))?;
            let security = match mail.security.as_deref().unwrap_or("starttls") {
                "starttls" => SmtpSecurity::Starttls,
                "implicit" => SmtpSecurity::Implicit,
                "none" => SmtpSecurity::None,
                other => {
                    return Err(err(
                        "waitlist.mail.security",
                        format!("`{other}` is not \"starttls\", \"implicit\" or \"none\""),
                    ))
                }
            };
            if security == SmtpSecurity::None && mail.username.is_some() {
                return Err(err(
                    "waitlist.mail.security",
                    "a password is never sent without TLS: use \"starttls\" or \"implicit\"".into(),
                ));
            }
            let port = mail.port.unwrap_or(match security {
                SmtpSecurity::Starttls => 587,
                SmtpSecurity::Implicit => 465,
                SmtpSecurity::None => 25,
            });
            MailTransport::Smtp(SmtpPolicy {
                host,
                port,
                security,
                username: mail.username,
                password_file: mail.password_file.map(Into::into),
                ca_file: mail.ca_file.map(Into::into),
                timeout: duration(src, "waitlist.mail.timeout", mail.timeout, "10s")?,
            })
        }
        other => {
            return Err(err("waitlist.mail.transport", format!("`{other}` is neither \"file\" nor \"smtp\"")))
        }
    };
    let sms = match w.sms {
        None => None,
        Some(sms) => Some(sms_policy(src, sms)?),
    };
    let button = match w.button {
        None => None,
        Some(b) => {
            use crate::core::waitlist::button::{ButtonPlacement, Place};
            let route = b.route.ok_or_else(|| {
                err("waitlist.button.route", "missing: the event page's route (GET /events/{event})".into())
            })?;
            let route =
                RoutePattern::parse(&route).map_err(|e| err("waitlist.button.route", e.to_string()))?;
            if route.method() != http::Method::GET {
                return Err(err("waitlist.button.route", "the event page is a GET route".into()));
            }
            let selector = b.selector.ok_or_else(|| {
                err("waitlist.button.selector", "missing: a CSS selector of the page (#tickets)".into())
            })?;
            let place = match b.place.as_deref().unwrap_or("append") {
                "append" => Place::Append,
                "prepend" => Place::Prepend,
                "before" => Place::Before,
                "after" => Place::After,
                "replace" => Place::Replace,
                other => {
                    return Err(err(
                        "waitlist.button.place",
                        format!("`{other}` is not append, prepend, before, after or replace"),
                    ))
                }
            };
            let placement = ButtonPlacement::new(route, selector, place)
                .map_err(|e| err("waitlist.button.selector", e))?;
            if !placement.has_event_capture() {
                return Err(err("waitlist.button.route", "the route needs an {event} capture".into()));
            }
            Some(placement)
        }
    };
    if w.claim_field.is_some() && w.claim_route.is_none() {
        return Err(err("waitlist.claim_field", "set claim_route too (GET /events/{event}/claim)".into()));
    }
    let claim = match w.claim_route {
        None => None,
        Some(route) => {
            let pattern =
                RoutePattern::parse(&route).map_err(|e| err("waitlist.claim_route", e.to_string()))?;
            let field = w.claim_field.as_deref().unwrap_or("offer");
            let claim = crate::core::waitlist::claim::ClaimRoute::new(pattern, field).map_err(|e| {
                let at = if e.starts_with("claim_field") {
                    "waitlist.claim_field"
                } else {
                    "waitlist.claim_route"
                };
                err(at, e)
            })?;
            if w.event_page.is_none() {
                return Err(err(
                    "waitlist.claim_route",
                    "set event_page too: a refused claim lands back on the event page".into(),
                ));
            }
            Some(claim)
        }
    };
    let limit = |field: &str, v: Option<u32>, default: u32| match v.unwrap_or(default) {
        n @ 1..=10_000_000 => Ok(n),
        n => Err(err(&format!("waitlist.{field}"), format!("{n} is outside 1..=10000000"))),
    };
    let signups_per_address_per_hour =
        limit("signups_per_address_per_hour", w.signups_per_address_per_hour, 5)?;
    let posts_per_client_per_10_minutes =
        limit("posts_per_client_per_10_minutes", w.posts_per_client_per_10_minutes, 30)?;
    let posts_per_network_per_10_minutes =
        limit("posts_per_network_per_10_minutes", w.posts_per_network_per_10_minutes, 3000)?;
    Ok(WaitlistPolicy {
        signups_per_address_per_hour,
        posts_per_client_per_10_minutes,
        posts_per_network_per_10_minutes,
        button,
        claim,
        public_url,
        from,
        mount,
        event_page: w.event_page,
        link_key_file: w.link_key_file.map(Into::into),
        data_key_file: w.data_key_file.map(Into::into),
        mail,
        retry_after,
        sms,
    })
}

/// `[waitlist.sms]` checked: a webhook a token may travel to, a body that stays JSON.
fn sms_policy(src: &str, sms: super::raw::RawSms) -> Result<SmsPolicy, PolicyError> {
    use crate::core::waitlist::sms;
    let err = |field: &str, msg: String| PolicyError::new(src, format!("waitlist.sms.{field}"), msg);
    let url = sms.url.ok_or_else(|| err("url", "missing: the SMS provider's webhook (https://…)".into()))?;
    let parsed: http::Uri = url.parse().map_err(|e| err("url", format!("`{url}` is not a URL: {e}")))?;
    let host = parsed.host().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme_str() {
        Some("https") if !host.is_empty() => {}
        Some("http") if loopback => {}
        Some("http") => {
            return Err(err("url", "a token never travels in clear: https://, or http:// to loopback".into()))
        }
        _ => return Err(err("url", format!("`{url}` is not an https:// URL"))),
    }
    let body = sms.body.unwrap_or_else(|| sms::DEFAULT_BODY.to_owned());
    sms::check_body(&body).map_err(|e| err("body", e))?;
    if let Some(code) = &sms.country_code {
        sms::check_country_code(code).map_err(|e| err("country_code", e))?;
    }
    Ok(SmsPolicy {
        url,
        body,
        timeout: duration(src, "waitlist.sms.timeout", sms.timeout, "10s")?,
        country_code: sms.country_code,
        token_file: sms.token_file.map(Into::into),
        ca_file: sms.ca_file.map(Into::into),
    })
}

fn blacklist(src: &str, mut b: super::raw::RawBlacklist) -> Result<BlacklistPolicy, PolicyError> {
    let err = |field: &str, msg: String| PolicyError::new(src, field, msg);
    let reading = checkout_reading(src, &mut b)?;
    let mut checkout = Vec::new();
    for (i, c) in b.checkout.unwrap_or_default().into_iter().enumerate() {
        let at = |f: &str| format!("blacklist.checkout[{i}].{f}");
        let route =
            RoutePattern::parse(&c.route).map_err(|e| err(&at("route"), format!("`{}`: {e}", c.route)))?;
        if !route.capture_names().any(|n| n == "event") {
            return Err(err(&at("route"), format!("`{}` must capture the event as {{event}}", c.route)));
        }
        let redirect = Template::redirect(&c.redirect)
            .map_err(|e| err(&at("redirect"), format!("`{}` {e}", c.redirect)))?;
        let json_text = c.json.unwrap_or_else(|| serde_json::json!({ "redirect": c.redirect }).to_string());
        let json = Template::json(&json_text).map_err(|e| err(&at("json"), format!("`{json_text}` {e}")))?;
        checkout.push(CheckoutRoute { route, redirect, json });
    }
    if checkout.is_empty() {
        return Err(err("blacklist.checkout", "declare at least one checkout route ([[blacklist.checkout]] route = \"POST /events/{event}/checkout\")".into()));
    }
    let hash = match b.hash.as_deref() {
        None | Some("hmac") => HashMode::Hmac,
        Some("sha256") => HashMode::Sha256,
        Some(other) => {
            return Err(err("blacklist.hash", format!("`{other}` is neither \"hmac\" nor \"sha256\"")))
        }
    };
    let hash_accounts = match b.account_ids.as_deref() {
        None | Some("plain") => false,
        Some("hashed") => true,
        Some(other) => {
            return Err(err(
                "blacklist.account_ids",
                format!("`{other}` is neither \"plain\" nor \"hashed\""),
            ))
        }
    };
    let on_store_error = match b.on_store_error.as_deref() {
        None | Some("open") => StoreFailureMode::Open,
        Some("closed") => StoreFailureMode::Closed,
        Some(other) => {
            return Err(err(
                "blacklist.on_store_error",
                format!("`{other}` is neither \"open\" nor \"closed\""),
            ))
        }
    };
    let max_body_bytes = match b.max_body_bytes.unwrap_or(64 * 1024) {
        n @ 1024..=10_485_760 => n as usize,
        n => return Err(err("blacklist.max_body_bytes", format!("{n} is outside 1024..=10485760"))),
    };
    let account_header = b
        .account_header
        .map(|h| {
            HeaderName::from_bytes(h.as_bytes())
                .map_err(|_| err("blacklist.account_header", format!("`{h}` is not a header name")))
        })
        .transpose()?;
    let fields = |name: &str, v: Option<Vec<String>>, default: &[&str]| -> Result<Vec<String>, PolicyError> {
        let v = v.unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect());
        let mut paths = Vec::with_capacity(v.len());
        for (i, f) in v.iter().enumerate() {
            // `customer[email]` is written as frameworks name the field; paths are dotted.
            let path = bracket_names_as_path(f);
            if path.is_empty()
                || path.split('.').any(str::is_empty)
                || f.len() > 128
                || path.contains(['[', ']'])
            {
                return Err(err(
                    &format!("blacklist.{name}[{i}]"),
                    format!("`{f}` is not a field name, dotted path or bracket name (`customer[email]`)"),
                ));
            }
            paths.push(path);
        }
        Ok(paths)
    };
    let any_field = b.email_fields.as_ref().is_some_and(|f| f.iter().any(|f| f == "*"));
    if let Some(f) = b.email_fields.as_mut() {
        f.retain(|f| f != "*");
    }
    let session = match (b.session_cookie.take(), b.session_algorithm.as_deref()) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(err(
                "blacklist.session_cookie",
                "missing: session_algorithm needs a cookie name".into(),
            ))
        }
        (Some(_), None) => {
            return Err(err("blacklist.session_algorithm", "missing: HS256, RS256, ES256 or EdDSA".into()))
        }
        (Some(cookie), Some(alg)) => {
            let algorithm = JwtAlgorithm::parse(alg).ok_or_else(|| {
                err("blacklist.session_algorithm", format!("`{alg}` is not HS256, RS256, ES256 or EdDSA"))
            })?;
            if cookie.is_empty()
                || !cookie.bytes().all(|c| c.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&c))
            {
                return Err(err("blacklist.session_cookie", format!("`{cookie}` is not a cookie name")));
            }
            if algorithm != JwtAlgorithm::Hs256 && b.session_key_file.is_none() {
                return Err(err(
                    "blacklist.session_key_file",
                    format!("missing: {alg} needs the PEM public key"),
                ));
            }
            Some(SessionCookie {
                cookie,
                algorithm,
                key_file: b.session_key_file.map(Into::into),
                claim: b.session_claim.unwrap_or_else(|| "sub".into()),
                issuer: b.session_issuer,
                audience: b.session_audience,
            })
        }
    };
    let json_answer = match b.json_answer.as_deref() {
        None | Some("json_body") => JsonAnswer::JsonBody,
        Some("json_body_or_accept") => JsonAnswer::JsonBodyOrAccept,
        Some(other) => {
            return Err(err(
                "blacklist.json_answer",
                format!("`{other}` is neither \"json_body\" nor \"json_body_or_accept\""),
            ))
        }
    };
    let mut blocked_headers = Vec::new();
    for (name, value) in b.blocked_headers.take().unwrap_or_default() {
        let field = format!("blacklist.blocked_headers.{name}");
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| err(&field, format!("`{name}` is not a header name")))?;
        if matches!(
            header.as_str(),
            "location" | "set-cookie" | "content-length" | "transfer-encoding" | "connection"
        ) {
            return Err(err(&field, "is set by Doorman itself".into()));
        }
        let value =
            http::HeaderValue::from_str(&value).map_err(|_| err(&field, "is not a header value".into()))?;
        blocked_headers.push((header, value));
    }
    Ok(BlacklistPolicy {
        reading,
        json_answer,
        blocked_headers,
        session,
        checkout,
        hash,
        hash_key_file: b.hash_key_file.map(Into::into),
        hash_accounts,
        rules: CanonicalRules {
            strip_plus_tags: b.strip_plus_tags.unwrap_or(false),
            gmail_dots: b.gmail_dots.unwrap_or(false),
        },
        max_body_bytes,
        match_timing: b.match_timing.unwrap_or(true),
        blocked_delay: duration_or_zero(src, "blacklist.blocked_delay", b.blocked_delay, "150ms")?,
        on_store_error,
        account_header,
        account_fields: fields("account_fields", b.account_fields, &[])?,
        email_fields: fields("email_fields", b.email_fields, &["email"])?,
        email_in_any_field: any_field,
    })
}

/// `customer[email]` → `customer.email`; other names as written.
fn bracket_names_as_path(name: &str) -> String {
    match name.split_once('[') {
        Some((base, rest)) if rest.ends_with(']') => {
            let keys = rest[..rest.len() - 1].split("][");
            std::iter::once(base).chain(keys).collect::<Vec<_>>().join(".")
        }
        _ => name.to_owned(),
    }
}

/// `route_case`, `route_trailing_slash`, `field_case`, `query_fields`, `content_types`, the
/// caps and `body_read_timeout`.
fn checkout_reading(src: &str, b: &mut super::raw::RawBlacklist) -> Result<CheckoutReading, PolicyError> {
    let err = |field: &str, msg: String| PolicyError::new(src, field, msg);
    let choice = |field: &str, value: Option<&str>, default: bool, yes: &str, no: &str| match value {
        None => Ok(default),
        Some(v) if v == yes => Ok(true),
        Some(v) if v == no => Ok(false),
        Some(v) => Err(err(field, format!("`{v}` is neither \"{yes}\" nor \"{no}\""))),
    };
    let mut reading = CheckoutReading::default();
    if let Some(name) = b.backend.as_deref() {
        reading.backend = Backend::parse(name).ok_or_else(|| {
            let names: Vec<&str> = Backend::NAMES.iter().map(|(n, _)| *n).collect();
            err("blacklist.backend", format!("`{name}` is none of {}", names.join(", ")))
        })?;
    }
    reading.routes.php_script_prefix = reading.backend.covers(Backend::Php);
    reading.routes.case_sensitive =
        choice("blacklist.route_case", b.route_case.as_deref(), false, "sensitive", "insensitive")?;
    reading.routes.trailing_slash_significant = choice(
        "blacklist.route_trailing_slash",
        b.route_trailing_slash.as_deref(),
        false,
        "significant",
        "ignored",
    )?;
    reading.field_case_sensitive =
        choice("blacklist.field_case", b.field_case.as_deref(), false, "sensitive", "insensitive")?;
    reading.query_fields = b.query_fields.unwrap_or(true);
    reading.any_event_ids = choice("blacklist.event_ids", b.event_ids.as_deref(), false, "any", "slugs")?;
    for (essence, reader) in b.content_types.take().unwrap_or_default() {
        reading.content_types.add(&essence, &reader).ok_or_else(|| {
            err(
                &format!("blacklist.content_types.\"{essence}\""),
                format!("`{essence}` = `{reader}`: expects a `type/subtype` read as \"form\", \"json\" or \"ignore\""),
            )
        })?;
    }
    let cap = |field: &str, value: Option<u64>, default: usize, max: u64| match value {
        None => Ok(default),
        Some(n @ 1..) if n <= max => Ok(n as usize),
        Some(n) => Err(err(field, format!("{n} is outside 1..={max}"))),
    };
    reading.max_identities = cap("blacklist.max_identities", b.max_identities, 8, 64)?;
    reading.max_session_cookies = cap("blacklist.max_session_cookies", b.max_session_cookies, 4, 32)?;
    reading.body_read_timeout =
        duration(src, "blacklist.body_read_timeout", b.body_read_timeout.take(), "10s")?;
    Ok(reading)
}

fn backend(src: &str, b: RawBackend) -> Result<BackendPolicy, PolicyError> {
    let err = |field: &str, msg: String| PolicyError::new(src, field, msg);
    let uri: Uri = b.url.parse().map_err(|e| err("backend.url", format!("`{}` is not a URL: {e}", b.url)))?;
    let https = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err(err("backend.url", format!("`{}` must start with http:// or https://", b.url))),
    };
    let Some(authority) = uri.authority() else {
        return Err(err("backend.url", format!("`{}` has no host", b.url)));
    };
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(err(
            "backend.url",
            format!("`{}` must not have a path or query: requests keep their own", b.url),
        ));
    }
    let default_port = if https { 443 } else { 80 };
    let authority = if authority.port().is_some() {
        authority.to_string()
    } else {
        format!("{}:{default_port}", authority.host())
    };
    let tls = if https {
        let server_name = match b.tls_server_name {
            Some(name) if name.is_empty() || name.contains(['/', ':', ' ']) => {
                return Err(err("backend.tls_server_name", format!("`{name}` is not a host name")))
            }
            Some(name) => name,
            // `[::1]` in a URL is `::1` on a certificate.
            None => uri.host().unwrap_or_default().trim_matches(['[', ']']).to_owned(),
        };
        Some(BackendTls { ca_file: b.tls_ca_file.map(PathBuf::from), server_name })
    } else {
        for (field, set) in [
            ("backend.tls_ca_file", b.tls_ca_file.is_some()),
            ("backend.tls_server_name", b.tls_server_name.is_some()),
        ] {
            if set {
                return Err(err(field, "only applies to an https:// backend.url".into()));
            }
        }
        None
    };
    let host = match b.host.as_deref() {
        None | Some("preserve") => HostRewrite::Preserve,
        Some("backend") => HostRewrite::Backend,
        Some(fixed) => HostRewrite::Fixed(
            HeaderValue::from_str(fixed)
                .ok()
                .filter(|_| fixed.parse::<http::uri::Authority>().is_ok())
                .ok_or_else(|| {
                    err("backend.host", format!("`{fixed}` is not \"preserve\", \"backend\" or a host name"))
                })?,
        ),
    };
    Ok(BackendPolicy {
        url: b.url.clone(),
        authority,
        connect_timeout: duration(src, "backend.connect_timeout", b.connect_timeout, "2s")?,
        response_timeout: duration(src, "backend.response_timeout", b.response_timeout, "30s")?,
        pool_idle_timeout: duration(src, "backend.pool_idle_timeout", b.pool_idle_timeout, "90s")?,
        pool_max_idle: b.pool_max_idle.unwrap_or(256) as usize,
        host,
        tls,
    })
}

fn addr(src: &str, field: &str, value: Option<&str>, default: &str) -> Result<SocketAddr, PolicyError> {
    let v = value.unwrap_or(default);
    v.parse().map_err(|_| {
        PolicyError::new(src, field, format!("`{v}` is not an address like 127.0.0.1:8080 or [::1]:8080"))
    })
}

/// Like [`duration`], but `0s` is allowed.
fn duration_or_zero(
    src: &str,
    field: &str,
    value: Option<String>,
    default: &str,
) -> Result<Duration, PolicyError> {
    match value.as_deref() {
        Some("0" | "0s" | "0ms") => Ok(Duration::ZERO),
        _ => duration(src, field, value, default),
    }
}

fn duration(src: &str, field: &str, value: Option<String>, default: &str) -> Result<Duration, PolicyError> {
    let v = value.as_deref().unwrap_or(default);
    let d = humantime::parse_duration(v).map_err(|e| {
        PolicyError::new(src, field, format!("`{v}` is not a duration like 500ms, 10s or 2m: {e}"))
    })?;
    if d.is_zero() || d > Duration::from_secs(24 * 3600) {
        return Err(PolicyError::new(src, field, format!("`{v}` must be more than 0 and at most 24h")));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Policy, PolicyError> {
        Policy::from_toml_str("t.toml", text, std::iter::empty())
    }

    const MIN: &str = "[backend]\nurl = \"http://127.0.0.1:9000\"\n";

    #[test]
    fn defaults_fill_a_minimal_policy() {
        let p = load(MIN).unwrap();
        assert_eq!(p.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(p.server.admin_listen.to_string(), "127.0.0.1:8081");
        assert_eq!(p.backend.authority, "127.0.0.1:9000");
        assert_eq!(p.backend.response_timeout, Duration::from_secs(30));
        assert_eq!(p.backend.host, HostRewrite::Preserve);
        assert_eq!(p.store, StorePolicy::Embedded { namespace: "doorman".into() });
        assert_eq!(p.forwarding.request_id_header, "x-request-id");
    }

    #[test]
    fn https_backends_get_port_443_and_verify_the_url_host_by_default() {
        let p = load("[backend]\nurl = \"https://shop.example\"\n").unwrap();
        assert_eq!(p.backend.authority, "shop.example:443");
        let tls = p.backend.tls.unwrap();
        assert_eq!((tls.server_name.as_str(), tls.ca_file), ("shop.example", None));
        let p = load("[backend]\nurl = \"https://[::1]:8443\"\ntls_ca_file = \"ca.pem\"\ntls_server_name = \"internal.shop\"\n")
            .unwrap();
        let tls = p.backend.tls.unwrap();
        assert_eq!(tls.server_name, "internal.shop");
        assert_eq!(tls.ca_file.as_deref(), Some(std::path::Path::new("ca.pem")));
        assert!(load(MIN).unwrap().backend.tls.is_none());
        fails(&format!("{MIN}tls_ca_file = \"ca.pem\"\n"), "backend.tls_ca_file", "https://");
        fails(
            "[backend]\nurl = \"https://a.example\"\ntls_server_name = \"a b\"\n",
            "backend.tls_server_name",
            "not a host",
        );
        fails("[backend]\nurl = \"ftp://a.example\"\n", "backend.url", "http:// or https://");
    }

    #[test]
    fn the_sms_webhook_is_checked() {
        let w = "[waitlist]\npublic_url = \"https://shop.example\"\nfrom = \"Shop <w@shop.example>\"\n";
        let sms = |body: &str| format!("{MIN}{w}[waitlist.sms]\n{body}");
        let p = load(&sms("url = \"https://sms.example/send\"\ncountry_code = \"+49\"\n"))
            .unwrap()
            .waitlist
            .unwrap()
            .sms
            .unwrap();
        assert_eq!((p.timeout, p.country_code.as_deref()), (Duration::from_secs(10), Some("+49")));
        assert_eq!(p.body, crate::core::waitlist::sms::DEFAULT_BODY);
        assert!(load(&sms("url = \"http://127.0.0.1:9000/sms\"\n")).is_ok(), "loopback may be plain");
        assert!(load(&format!("{MIN}{w}")).unwrap().waitlist.unwrap().sms.is_none());
        fails(&sms(""), "waitlist.sms.url", "missing");
        fails(&sms("url = \"http://sms.example/send\"\n"), "waitlist.sms.url", "clear");
        fails(&sms("url = \"ftp://sms.example/\"\n"), "waitlist.sms.url", "https");
        fails(
            &sms("url = \"https://s.example\"\nbody = '{\"to\": {to}, \"text\": \"{text}\"}'\n"),
            "waitlist.sms.body",
            "JSON",
        );
        fails(
            &sms("url = \"https://s.example\"\nbody = '{\"text\": \"{text}\"}'\n"),
            "waitlist.sms.body",
            "{to}",
        );
        fails(
            &sms("url = \"https://s.example\"\ncountry_code = \"49\"\n"),
            "waitlist.sms.country_code",
            "+49",
        );
        fails(
            &sms("url = \"https://s.example\"\ntimeout = \"forever\"\n"),
            "waitlist.sms.timeout",
            "duration",
        );
    }

    #[track_caller]
    #[test]
    fn waitlist_sections_are_checked() {
        let w = "[waitlist]\npublic_url = \"https://shop.example\"\nfrom = \"Shop <w@shop.example>\"\n";
        let p = load(&format!("{MIN}{w}")).unwrap().waitlist.unwrap();
        assert_eq!((p.mount.as_str(), p.retry_after), ("/waitlist", Duration::from_secs(30)));
        assert_eq!(p.mail, MailTransport::File { dir: "outbox".into() });
        let smtp = format!(
            "{MIN}{w}[waitlist.mail]\ntransport = \"smtp\"\nhost = \"mail.example\"\nusername = \"u\"\n"
        );
        let MailTransport::Smtp(s) = load(&smtp).unwrap().waitlist.unwrap().mail else { panic!() };
        assert_eq!((s.port, s.security, s.timeout), (587, SmtpSecurity::Starttls, Duration::from_secs(10)));
        let implicit =
            format!("{MIN}{w}[waitlist.mail]\ntransport = \"smtp\"\nhost = \"m\"\nsecurity = \"implicit\"\n");
        let MailTransport::Smtp(s) = load(&implicit).unwrap().waitlist.unwrap().mail else { panic!() };
        assert_eq!(s.port, 465);
        fails(&format!("{MIN}[waitlist]\nfrom = \"a <a@b.c>\"\n"), "waitlist.public_url", "missing");
        fails(
            &format!("{MIN}[waitlist]\npublic_url = \"ftp://x\"\nfrom = \"a <a@b.c>\"\n"),
            "waitlist.public_url",
            "not an http",
        );
        fails(
            &format!("{MIN}[waitlist]\npublic_url = \"https://x\"\nfrom = \"nobody\"\n"),
            "waitlist.from",
            "not a mailbox",
        );
        fails(&format!("{MIN}{w}mount = \"waitlist/\"\n"), "waitlist.mount", "not a path");
        fails(&format!("{MIN}{w}event_page = \"//evil.example/\"\n"), "waitlist.event_page", "not a path");
        let claim = |c: &str| format!("{MIN}{w}event_page = \"/e/{{event}}\"\n{c}");
        let ok = load(&claim("claim_route = \"GET /e/{event}/claim\"\nclaim_field = \"code\"\n")).unwrap();
        assert!(ok.waitlist.unwrap().claim.is_some());
        fails(&claim("claim_route = \"POST /e/{event}/claim\"\n"), "waitlist.claim_route", "GET");
        fails(&claim("claim_route = \"GET /claim\"\n"), "waitlist.claim_route", "{event}");
        fails(
            &claim("claim_route = \"GET /e/{event}\"\nclaim_field = \"a b\"\n"),
            "waitlist.claim_field",
            "1 to 64",
        );
        fails(&claim("claim_field = \"code\"\n"), "waitlist.claim_field", "claim_route");
        fails(
            &format!("{MIN}{w}claim_route = \"GET /e/{{event}}/c\"\n"),
            "waitlist.claim_route",
            "event_page",
        );
        fails(&format!("{MIN}{w}[waitlist.mail]\ntransport = \"smtp\"\n"), "waitlist.mail.host", "missing");
        fails(
            &format!("{MIN}{w}[waitlist.mail]\ntransport = \"pigeon\"\n"),
            "waitlist.mail.transport",
            "neither",
        );
        fails(&format!("{MIN}{w}[waitlist.mail]\nhost = \"m\"\n"), "waitlist.mail.host", "only for");
        fails(
            &format!("{MIN}{w}[waitlist.mail]\ntransport = \"smtp\"\nhost = \"m\"\nsecurity = \"none\"\nusername = \"u\"\n"),
            "waitlist.mail.security",
            "never sent without TLS",
        );
        let button = |b: &str| format!("{MIN}{w}[waitlist.button]\n{b}");
        let ok = load(&button("route = \"GET /e/{event}\"\nselector = \"#t\"\n")).unwrap();
        assert!(ok.waitlist.unwrap().button.is_some());
        fails(&button("route = \"POST /e/{event}\"\nselector = \"#t\"\n"), "waitlist.button.route", "GET");
        fails(&button("route = \"GET /e/{id}\"\nselector = \"#t\"\n"), "waitlist.button.route", "{event}");
        fails(
            &button("route = \"GET /e/{event}\"\nselector = \"#[\"\n"),
            "waitlist.button.selector",
            "not a selector",
        );
        fails(
            &button("route = \"GET /e/{event}\"\nselector = \"#t\"\nplace = \"inside\"\n"),
            "waitlist.button.place",
            "append",
        );
        fails(&button("selector = \"#t\"\n"), "waitlist.button.route", "missing");
    }

    fn fails(text: &str, field: &str, needle: &str) {
        let e = load(text).unwrap_err();
        assert_eq!(e.field, field, "{e}");
        assert!(e.message.contains(needle), "{e}");
        assert!(e.to_string().starts_with("t.toml: "), "{e}");
    }

    #[test]
    fn checkout_reading_defaults_to_the_broadest_and_can_be_narrowed() {
        let with = |extra: &str| {
            load(&format!(
                "{MIN}[blacklist]\n{extra}\n[[blacklist.checkout]]\nroute = \"POST /e/{{event}}\"\nredirect = \"/\"\n"
            ))
            .unwrap()
            .blacklist
            .unwrap()
        };
        let broad = with("");
        assert_eq!(broad.reading, CheckoutReading::default());
        assert!(!broad.reading.routes.case_sensitive && broad.reading.query_fields);
        assert_eq!(broad.json_answer, JsonAnswer::JsonBody);
        let narrow = with(
            "route_case = \"sensitive\"\nroute_trailing_slash = \"significant\"\nfield_case = \"sensitive\"\n\
             query_fields = false\nmax_identities = 2\nmax_session_cookies = 1\nbody_read_timeout = \"3s\"\n\
             json_answer = \"json_body_or_accept\"\ncontent_types = { \"text/json\" = \"json\" }\n\
             blocked_headers = { \"Server\" = \"ShopEngine\" }\nbackend = \"django\"\n\
             email_fields = [\"customer[email]\", \"*\", \"order[buyer][email]\"]",
        );
        let r = &narrow.reading;
        assert!(r.routes.case_sensitive && r.routes.trailing_slash_significant && r.field_case_sensitive);
        assert!(!r.query_fields);
        assert_eq!((r.max_identities, r.max_session_cookies), (2, 1));
        assert_eq!(r.body_read_timeout, Duration::from_secs(3));
        assert_eq!(narrow.json_answer, JsonAnswer::JsonBodyOrAccept);
        assert_eq!(narrow.blocked_headers[0].0, "server");
        assert_eq!(r.backend, Backend::Django);
        assert_eq!(narrow.email_fields, ["customer.email", "order.buyer.email"], "bracket names as paths");
        assert!(narrow.email_in_any_field && !broad.email_in_any_field);
        assert_eq!(broad.email_fields, ["email"]);
    }

    #[test]
    fn each_bad_field_is_named() {
        fails("", "backend", "missing");
        fails("[backend]\nurl = \"ftp://x\"", "backend.url", "http://");
        fails("[backend]\nurl = \"http://x/shop\"", "backend.url", "path");
        fails(&format!("{MIN}connect_timeout = \"soon\""), "backend.connect_timeout", "duration");
        fails(&format!("{MIN}connect_timeout = \"0s\""), "backend.connect_timeout", "more than 0");
        fails(&format!("{MIN}host = \"a b\""), "backend.host", "host name");
        fails(&format!("{MIN}colour = 1"), "backend.colour", "unknown field");
        fails(&format!("[server]\nlisten = \"localhost\"\n{MIN}"), "server.listen", "address");
        fails(&format!("[server]\nworkers = -1\n{MIN}"), "server.workers", "");
        fails(&format!("[server]\nmax_header_bytes = 10\n{MIN}"), "server.max_header_bytes", "8192");
        fails(
            &format!("[server]\nadmin_listen = \"127.0.0.1:8080\"\n{MIN}"),
            "server.admin_listen",
            "differ",
        );
        fails(
            &format!("[forwarding]\ntrusted_proxies = [\"10.0.0.0/8\", \"nope\"]\n{MIN}"),
            "forwarding.trusted_proxies[1]",
            "nope",
        );
        fails(&format!("[store]\nurl = \"postgres://x\"\n{MIN}"), "store.url", "redis://");
        fails(&format!("[store]\ncluster = []\n{MIN}"), "store.cluster", "no node");
        fails(
            &format!("[store]\ncluster = [\"redis://a:7000\", \"http://b\"]\n{MIN}"),
            "store.cluster",
            "http://b",
        );
        fails(
            &format!("[store]\nurl = \"redis://a\"\ncluster = [\"redis://b\"]\n{MIN}"),
            "store.cluster",
            "not both",
        );
        let cluster = load(&format!(
            "[store]\ncluster = [\"redis://10.0.0.1:7000/\", \"rediss://10.0.0.2:7000/\"]\n{MIN}"
        ));
        assert_eq!(
            cluster.unwrap().store,
            StorePolicy::RedisCluster {
                urls: vec!["redis://10.0.0.1:7000/".into(), "rediss://10.0.0.2:7000/".into()],
                namespace: "doorman".into()
            }
        );
        let bl = |extra: &str| {
            format!("{MIN}[blacklist]\n{extra}\n[[blacklist.checkout]]\nroute = \"POST /events/{{event}}/checkout\"\nredirect = \"/events/{{event}}\"\n")
        };
        fails(&bl("hash = \"md5\""), "blacklist.hash", "md5");
        fails(&bl("on_store_error = \"maybe\""), "blacklist.on_store_error", "maybe");
        fails(&bl("email_fields = [\"a..b\"]"), "blacklist.email_fields[0]", "dotted");
        fails(&bl("email_fields = [\"a[b\"]"), "blacklist.email_fields[0]", "bracket");
        fails(&bl("account_fields = [\"a[]\"]"), "blacklist.account_fields[0]", "bracket");
        fails(&bl("backend = \"cobol\""), "blacklist.backend", "php");
        fails(
            &bl("session_cookie = \"s\"\nsession_algorithm = \"none\""),
            "blacklist.session_algorithm",
            "none",
        );
        fails(
            &bl("session_cookie = \"s\"\nsession_algorithm = \"RS256\""),
            "blacklist.session_key_file",
            "PEM",
        );
        fails(
            &bl("session_cookie = \"a b\"\nsession_algorithm = \"HS256\""),
            "blacklist.session_cookie",
            "cookie",
        );
        fails(&bl("route_case = \"upper\""), "blacklist.route_case", "sensitive");
        fails(&bl("route_trailing_slash = \"yes\""), "blacklist.route_trailing_slash", "significant");
        fails(&bl("field_case = \"exact\""), "blacklist.field_case", "insensitive");
        fails(
            &bl("content_types = { \"text/plain\" = \"xml\" }"),
            "blacklist.content_types.\"text/plain\"",
            "ignore",
        );
        fails(
            &bl("content_types = { \"plain\" = \"form\" }"),
            "blacklist.content_types.\"plain\"",
            "type/subtype",
        );
        fails(&bl("max_identities = 0"), "blacklist.max_identities", "1..=64");
        fails(&bl("max_session_cookies = 99"), "blacklist.max_session_cookies", "1..=32");
        fails(&bl("body_read_timeout = \"soon\""), "blacklist.body_read_timeout", "duration");
        fails(&bl("json_answer = \"always\""), "blacklist.json_answer", "json_body");
        fails(&bl("event_ids = \"some\""), "blacklist.event_ids", "slugs");
        fails(
            &bl("blocked_headers = { \"set-cookie\" = \"a=1\" }"),
            "blacklist.blocked_headers.set-cookie",
            "Doorman",
        );
        fails(
            &bl("blocked_headers = { \"bad name\" = \"1\" }"),
            "blacklist.blocked_headers.bad name",
            "header name",
        );
        fails(
            &bl("blocked_headers = { \"x-a\" = \"line\\nbreak\" }"),
            "blacklist.blocked_headers.x-a",
            "header value",
        );
        fails(&format!("{MIN}[blacklist]\n"), "blacklist.checkout", "at least one");
        fails(
            &format!("{MIN}[[blacklist.checkout]]\nroute = \"POST /checkout\"\nredirect = \"/\""),
            "blacklist.checkout[0].route",
            "{event}",
        );
        fails(
            &format!("{MIN}[[blacklist.checkout]]\nroute = \"POST /e/{{event}}\"\nredirect = \"https://evil.example/\""),
            "blacklist.checkout[0].redirect",
            "path on this site",
        );
        fails(&format!("[server]\ntls_cert_file = \"c.pem\"\n{MIN}"), "server.tls_key_file", "missing");
        fails(&format!("[store]\nnamespace = \"a:b\"\n{MIN}"), "store.namespace", "letters");
        fails("[backend\nurl=1", "", "not valid TOML");
        fails(&format!("[surprise]\n{MIN}"), "surprise", "unknown field `surprise`");
    }

    #[test]
    fn environment_overrides_win_and_are_named_in_errors() {
        let env = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        let p =
            Policy::from_toml_str("t.toml", MIN, env("DOORMAN_BACKEND_URL", "http://10.1.2.3:81")).unwrap();
        assert_eq!(p.backend.authority, "10.1.2.3:81");
        assert_eq!(p.overrides[0].field, "backend.url");
        let e = Policy::from_toml_str("t.toml", MIN, env("DOORMAN_SERVER_WORKERS", "many")).unwrap_err();
        assert_eq!(e.field, "server.workers");
        assert!(e.message.contains("DOORMAN_SERVER_WORKERS"), "{e}");
    }

    #[test]
    fn trusted_proxies_accept_addresses_and_networks() {
        let p = load(&format!("[forwarding]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n{MIN}")).unwrap();
        assert_eq!(p.forwarding.trusted_proxies.len(), 2);
        assert!(p.forwarding.trusted_proxies[1].contains(&"::1".parse::<std::net::IpAddr>().unwrap()));
    }
}
