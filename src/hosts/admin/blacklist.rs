//! The admin API of the blacklist and of the event → organizer map.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /v1/blacklist` | `{account \| email \| email_hash, organizer?, reason?, expires_in?}` | 201 entry (with a `warning` when no event maps to the organizer) |
//! | `POST /v1/blacklist/remove` | `{account \| email \| email_hash, organizer?}` | 200 / 404 |
//! | `GET /v1/blacklist?organizer=&limit=` | | 200 `{entries: [...]}` |
//! | `PUT /v1/events/{event}` | `{organizer}` | 200 |
//! | `GET /v1/events/{event}` | | 200 / 404 |
//! | `POST /v1/hash-email` | `{email}` | 200 `{email_hash}` |
//!
//! Addresses are hashed on arrival and never stored, logged or echoed. Errors are JSON
//! `{"error": "..."}` with 400 (bad input), 403 (another organizer's data), 404, 409 (no
//! blacklist in the policy) or 503 (store). Organizer tokens act on their own organizer only;
//! the event map is the operator's. Every change is written to the audit log.

use std::time::{Duration, UNIX_EPOCH};

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::error::{slug, ApiError, Body, Params};
use super::principal::Principal;
use super::AdminState;
use crate::core::blacklist::audit::{scope_prefix, AuditAction, AuditRecord, AUDIT_PREFIX};
use crate::core::blacklist::entry::Entry;
use crate::core::blacklist::{
    entry_key, event_key, is_account_id, organizer_event_key, organizer_events_prefix, Identity, Scope,
    ENTRY_PREFIX,
};
use crate::core::email::canonicalize;
use crate::core::email_hash::is_hash_hex;
use crate::ports::store::Store;

/// Longest `reason` accepted.
const MAX_REASON: usize = 500;
/// Most entries one list call returns.
const MAX_LIST: usize = 10_000;

/// Who an add or remove is about: exactly one of the three.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRequest {
    pub(super) account: Option<String>,
    pub(super) email: Option<String>,
    pub(super) email_hash: Option<String>,
    pub(super) organizer: Option<String>,
    pub(super) reason: Option<String>,
    /// A duration such as `30d` or `12h`.
    pub(super) expires_in: Option<String>,
    /// An RFC 3339 time such as `2027-01-31T00:00:00Z`.
    pub(super) expires_at: Option<String>,
}

fn identity(state: &AdminState, req: &EntryRequest) -> Result<Identity, ApiError> {
    let blacklist = state.blacklist.as_ref().ok_or_else(|| {
        ApiError(StatusCode::CONFLICT, "the policy has no [blacklist] section: nothing to manage".into())
    })?;
    match (&req.account, &req.email, &req.email_hash) {
        (Some(a), None, None) if is_account_id(a) => Ok(Identity::Account(a.clone())),
        (Some(_), None, None) => {
            Err(ApiError::bad("account: 1 to 256 characters, no control characters or outer spaces"))
        }
        (None, Some(e), None) => {
            let canonical =
                canonicalize(e, blacklist.rules).map_err(|e| ApiError::bad(format!("email: {e}")))?;
            Ok(Identity::EmailHash(blacklist.hasher.hash_hex(&canonical)))
        }
        (None, None, Some(h)) if is_hash_hex(h) => Ok(Identity::EmailHash(h.clone())),
        (None, None, Some(_)) => Err(ApiError::bad("email_hash: 64 lowercase hex digits")),
        _ => Err(ApiError::bad("give exactly one of account, email, email_hash")),
    }
}

pub(super) fn entry_json(e: &Entry) -> serde_json::Value {
    let time = |t: u64| humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(t)).to_string();
    json!({
        "kind": e.kind, "value": e.value,
        "organizer": if e.scope == "*" { None } else { Some(&e.scope) },
        "reason": e.reason, "added_by": e.added_by, "added_at": time(e.added_at),
        "expires_at": e.expires_at.map(time),
    })
}

/// Checks an add request and makes the entry: identity, scope, entry, expiry.
pub(super) fn new_entry(
    state: &AdminState,
    who: &Principal,
    req: &EntryRequest,
    now: u64,
) -> Result<(Identity, Scope, Entry, Option<Duration>), ApiError> {
    let identity = identity(state, req)?;
    let scope = who.scope(req.organizer.as_deref())?;
    let reason = req.reason.clone().unwrap_or_default();
    if reason.len() > MAX_REASON || reason.chars().any(char::is_control) {
        return Err(ApiError::bad(format!("reason: at most {MAX_REASON} bytes of text on one line")));
    }
    let ttl = match (&req.expires_in, &req.expires_at) {
        (Some(_), Some(_)) => return Err(ApiError::bad("give expires_in or expires_at, not both")),
        (Some(d), None) => {
            Some(humantime::parse_duration(d).map_err(|e| ApiError::bad(format!("expires_in: `{d}`: {e}")))?)
        }
        (None, Some(t)) => {
            let at = humantime::parse_rfc3339_weak(t)
                .map_err(|e| ApiError::bad(format!("expires_at: `{t}` is not an RFC 3339 time: {e}")))?;
            let at = at.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            Some(Duration::from_secs(at.saturating_sub(now)))
        }
        (None, None) => None,
    };
    if ttl.is_some_and(|t| t.is_zero() || t > Duration::from_secs(100 * 365 * 86_400)) {
        return Err(ApiError::bad("the expiry must be in the future and at most 100 years away"));
    }
    let entry = Entry {
        kind: identity.kind().into(),
        value: identity.value().into(),
        scope: scope.as_str().into(),
        reason,
        added_by: who.label(),
        added_at: now,
        expires_at: ttl.map(|t| now + t.as_secs()),
    };
    Ok((identity, scope, entry, ttl))
}

/// `POST /v1/blacklist`
pub async fn add(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Body(req): Body<EntryRequest>,
) -> Result<Response, ApiError> {
    let (identity, scope, entry, ttl) = new_entry(&state, &who, &req, state.ports.clock.unix_ms() / 1000)?;
    let value = serde_json::to_vec(&entry).expect("an entry serializes");
    state.ports.store.set(&entry_key(&identity, &scope), &value, ttl).await?;
    tracing::info!(kind = entry.kind, scope = entry.scope, by = entry.added_by, "blacklist: entry added");
    audit(&state, &who, AuditAction::Add, &identity, &scope).await;
    let mut answer = entry_json(&entry);
    if let Scope::Organizer(org) = &scope {
        if state.ports.store.scan_prefix(&organizer_events_prefix(org), 1).await?.is_empty() {
            answer["warning"] = json!(format!(
                "no event is mapped to organizer `{org}` yet, so this entry blocks nothing until one is \
                 (PUT /v1/events/{{event}} with {{\"organizer\": \"{org}\"}})"
            ));
        }
    }
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `POST /v1/blacklist/remove`
pub async fn remove(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Body(req): Body<EntryRequest>,
) -> Result<Response, ApiError> {
    if req.reason.is_some() || req.expires_in.is_some() || req.expires_at.is_some() {
        return Err(ApiError::bad("remove takes only account, email or email_hash, and organizer"));
    }
    let identity = identity(&state, &req)?;
    let scope = who.scope(req.organizer.as_deref())?;
    if state.ports.store.delete(&entry_key(&identity, &scope)).await? {
        tracing::info!(
            kind = identity.kind(),
            scope = scope.as_str(),
            by = who.label(),
            "blacklist: entry removed"
        );
        audit(&state, &who, AuditAction::Remove, &identity, &scope).await;
        Ok(Json(json!({ "removed": true })).into_response())
    } else {
        Err(ApiError(StatusCode::NOT_FOUND, "no such entry".into()))
    }
}

/// Query of `GET /v1/blacklist` and `GET /v1/audit`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopedQuery {
    organizer: Option<String>,
    limit: Option<usize>,
}

/// `GET /v1/blacklist`
pub async fn list(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Params(q): Params<ScopedQuery>,
) -> Result<Response, ApiError> {
    let scope = who.filter(q.organizer.as_deref())?;
    let limit = q.limit.unwrap_or(1000).min(MAX_LIST);
    let mut entries = Vec::new();
    for item in state.ports.store.scan_prefix(ENTRY_PREFIX, MAX_LIST * 4).await? {
        let Ok(entry) = serde_json::from_slice::<Entry>(&item.value) else { continue };
        if entries.len() >= limit {
            break;
        }
        if scope.as_ref().is_none_or(|s| *s == entry.scope()) {
            entries.push(entry_json(&entry));
        }
    }
    Ok(Json(json!({ "entries": entries })).into_response())
}

/// Body of `PUT /v1/events/{event}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRequest {
    organizer: String,
}

/// `PUT /v1/events/{event}`
pub async fn put_event(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(event): Path<String>,
    body: Result<Body<EventRequest>, ApiError>,
) -> Result<Response, ApiError> {
    who.require_operator()?;
    let Body(req) = body?;
    slug("event", &event)?;
    slug("organizer", &req.organizer)?;
    let previous = state.ports.store.get(&event_key(&event)).await?.and_then(|o| String::from_utf8(o).ok());
    state.ports.store.set(&organizer_event_key(&req.organizer, &event), b"", None).await?;
    state.ports.store.set(&event_key(&event), req.organizer.as_bytes(), None).await?;
    if let Some(old) = previous.filter(|o| *o != req.organizer) {
        state.ports.store.delete(&organizer_event_key(&old, &event)).await?;
    }
    audit_admin(
        &state,
        &who,
        AuditAction::MapEvent,
        "event",
        &event,
        &Scope::Organizer(req.organizer.clone()),
    )
    .await;
    Ok(Json(json!({ "event": event, "organizer": req.organizer })).into_response())
}

/// `GET /v1/events/{event}`
pub async fn get_event(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(event): Path<String>,
) -> Result<Response, ApiError> {
    who.require_operator()?;
    slug("event", &event)?;
    match state.ports.store.get(&event_key(&event)).await? {
        Some(org) => {
            Ok(Json(json!({ "event": event, "organizer": String::from_utf8_lossy(&org) })).into_response())
        }
        None => Err(ApiError(StatusCode::NOT_FOUND, "no such event".into())),
    }
}

/// Body of `POST /v1/hash-email`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashRequest {
    email: String,
}

/// `POST /v1/hash-email`: the hash the blacklist would store for an address.
pub async fn hash_email(
    State(state): State<AdminState>,
    Body(req): Body<HashRequest>,
) -> Result<Response, ApiError> {
    let blacklist = state
        .blacklist
        .as_ref()
        .ok_or_else(|| ApiError(StatusCode::CONFLICT, "the policy has no [blacklist] section".into()))?;
    let canonical =
        canonicalize(&req.email, blacklist.rules).map_err(|e| ApiError::bad(format!("email: {e}")))?;
    Ok(Json(json!({ "email_hash": blacklist.hasher.hash_hex(&canonical) })).into_response())
}

/// Records a change in the audit log. The change itself has happened: a failing audit write is
/// logged, not turned into an error for the caller.
async fn audit(state: &AdminState, who: &Principal, action: AuditAction, identity: &Identity, scope: &Scope) {
    audit_admin(state, who, action, identity.kind(), identity.value(), scope).await;
}

/// Records an admin change in the audit log (see [`audit`]).
pub(super) async fn audit_admin(
    state: &AdminState,
    who: &Principal,
    action: AuditAction,
    kind: &str,
    value: &str,
    scope: &Scope,
) {
    let record = AuditRecord {
        at_ms: state.ports.clock.unix_ms(),
        scope: scope.as_str().to_owned(),
        action,
        actor: who.label(),
        kind: kind.to_owned(),
        value: value.to_owned(),
        event: None,
        route: None,
    };
    if let Err(e) = crate::app::audit::write(&state.ports, &record).await {
        tracing::error!(error = %e, "audit log write failed for an admin change");
    }
}

/// `GET /v1/audit?organizer=&limit=`: the newest records, oldest first.
pub async fn audit_log(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Params(q): Params<ScopedQuery>,
) -> Result<Response, ApiError> {
    let prefix = match who.filter(q.organizer.as_deref())? {
        None => AUDIT_PREFIX.to_owned(),
        Some(scope) => scope_prefix(scope.as_str()),
    };
    let limit = q.limit.unwrap_or(100).min(MAX_LIST);
    let mut records: Vec<AuditRecord> = state
        .ports
        .store
        .scan_prefix(&prefix, MAX_LIST * 10)
        .await?
        .into_iter()
        .filter_map(|e| serde_json::from_slice(&e.value).ok())
        .collect();
    records.sort_by_key(|r| r.at_ms);
    let skip = records.len().saturating_sub(limit);
    let records: Vec<_> = records[skip..]
        .iter()
        .map(|r| {
            let at = UNIX_EPOCH + Duration::from_millis(r.at_ms);
            let mut v = serde_json::to_value(r).unwrap_or_default();
            v["at"] = json!(humantime::format_rfc3339_millis(at).to_string());
            v
        })
        .collect();
    Ok(Json(json!({ "records": records })).into_response())
}
