//! Environment overrides: `DOORMAN_<SECTION>_<FIELD>=value` replaces `<section>.<field>`.
//!
//! The value is read as a JSON value when it parses as one (`8`, `true`, `["10.0.0.0/8"]`, which
//! TOML writes the same way), otherwise as a plain string (`127.0.0.1:8080`). JSON rather than TOML
//! so that the edge component, which carries no TOML parser, reads its variables the same way. Variables that configure the command line
//! rather than the policy (see [`RESERVED`]) are left alone, and so are the service links
//! Kubernetes and Docker put into every container when a service is named `doorman`
//! (`DOORMAN_SERVICE_HOST`, `DOORMAN_PORT_8080_TCP_ADDR`, …; see [`is_service_link`]): they are
//! reported as ignored, so the host can mention them. Any other variable naming no policy section
//! is an error: it is most likely a typo.

use serde_json::Value;

use super::Document as Table;

use super::PolicyError;

/// The policy's top-level sections, in the order they are tried when splitting a variable name.
pub const SECTIONS: &[&str] = &["server", "backend", "forwarding", "store", "admin", "blacklist", "waitlist"];

/// `DOORMAN_` variables that are not policy overrides.
pub const RESERVED: &[&str] = &[
    "ADMIN_TOKEN",
    "ADMIN_URL",
    "LOG",
    "LOG_FORMAT",
    "POLICY",
    "DATA_DIR",
    "HASH_KEY",
    "SESSION_KEY",
    "LINK_KEY",
    "DATA_KEY",
    "SMTP_PASSWORD",
    "SMS_TOKEN",
];

/// The prefix of every Doorman environment variable.
pub const PREFIX: &str = "DOORMAN_";

/// One applied override, kept so errors can name the variable that set a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The environment variable, e.g. `DOORMAN_BACKEND_URL`.
    pub variable: String,
    /// The dotted field it set, e.g. `backend.url`.
    pub field: String,
}

/// What [`apply`] did with the `DOORMAN_*` variables.
#[derive(Debug, Default)]
pub struct Applied {
    /// The overrides, in the order applied.
    pub overrides: Vec<Override>,
    /// Service-link variables left alone (names only: values are never kept).
    pub ignored: Vec<String>,
}

/// Whether `rest` (a variable name without the `DOORMAN_` prefix) is a service link that
/// Kubernetes or Docker sets for a service named `doorman`: `SERVICE_HOST`, `SERVICE_PORT`,
/// `SERVICE_PORT_<name>`, `PORT`, `PORT_<n>_<proto>[_ADDR|_PORT|_PROTO]`. No policy section is
/// called `service` or `port`, so these can never be meant as overrides.
pub fn is_service_link(rest: &str) -> bool {
    rest == "PORT" || rest.starts_with("PORT_") || rest.starts_with("SERVICE_")
}

/// Applies every `DOORMAN_*` override in `vars` to `table`.
pub fn apply(
    source_name: &str,
    table: &mut Table,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Applied, PolicyError> {
    let mut applied = Vec::new();
    let mut ignored = Vec::new();
    let mut vars: Vec<_> = vars.into_iter().filter(|(k, _)| k.starts_with(PREFIX)).collect();
    vars.sort();
    for (variable, raw) in vars {
        let rest = &variable[PREFIX.len()..];
        if RESERVED.contains(&rest) {
            continue;
        }
        if is_service_link(rest) {
            ignored.push(variable);
            continue;
        }
        let lower = rest.to_ascii_lowercase();
        let Some((section, field)) = SECTIONS
            .iter()
            .find_map(|s| lower.strip_prefix(s).and_then(|f| f.strip_prefix('_')).map(|f| (*s, f)))
        else {
            return Err(PolicyError::new(
                source_name,
                "",
                format!(
                    "environment variable {variable} names no policy section (known: {})",
                    SECTIONS.join(", ")
                ),
            ));
        };
        if field.is_empty() {
            return Err(PolicyError::new(source_name, section, format!("{variable} names no field")));
        }
        let value = parse_value(&raw);
        let entry = table.entry(section).or_insert_with(|| Value::Object(Table::new()));
        let Value::Object(section_table) = entry else {
            return Err(PolicyError::new(source_name, section, "must be a table"));
        };
        section_table.insert(field.to_owned(), value);
        applied.push(Override { variable, field: format!("{section}.{field}") });
    }
    Ok(Applied { overrides: applied, ignored })
}

/// Reads `raw` as a JSON value if it is one (but not an object), else as a string.
fn parse_value(raw: &str) -> Value {
    match serde_json::from_str::<Value>(raw) {
        Ok(v) if !v.is_object() => v,
        _ => Value::String(raw.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn sets_strings_numbers_and_arrays() {
        let mut t = Table::new();
        let applied = apply(
            "p",
            &mut t,
            vars(&[
                ("DOORMAN_SERVER_LISTEN", "127.0.0.1:9"),
                ("DOORMAN_SERVER_WORKERS", "3"),
                ("DOORMAN_FORWARDING_TRUSTED_PROXIES", r#"["10.0.0.0/8"]"#),
                ("PATH", "/bin"),
                ("DOORMAN_ADMIN_TOKEN", "secret"),
            ]),
        )
        .unwrap();
        assert_eq!(t["server"]["listen"].as_str(), Some("127.0.0.1:9"));
        assert_eq!(t["server"]["workers"].as_u64(), Some(3));
        assert_eq!(t["forwarding"]["trusted_proxies"][0].as_str(), Some("10.0.0.0/8"));
        assert_eq!(applied.overrides.len(), 3);
        assert!(applied.ignored.is_empty());
        assert!(t.get("admin").is_none(), "the admin token is a secret, not a policy field");
    }

    #[test]
    fn unknown_section_is_an_error_naming_the_variable() {
        let err = apply("p", &mut Table::new(), vars(&[("DOORMAN_BOGUS_X", "1")])).unwrap_err();
        assert!(err.message.contains("DOORMAN_BOGUS_X"), "{err}");
        let err = apply("p", &mut Table::new(), vars(&[("DOORMAN_BAKEND_URL", "http://x")])).unwrap_err();
        assert!(err.message.contains("DOORMAN_BAKEND_URL"), "a misspelt section is an error: {err}");
    }

    #[test]
    fn kubernetes_and_docker_service_links_are_ignored_and_reported() {
        let mut t = Table::new();
        let applied = apply(
            "p",
            &mut t,
            vars(&[
                ("DOORMAN_SERVICE_HOST", "10.96.0.12"),
                ("DOORMAN_SERVICE_PORT", "8080"),
                ("DOORMAN_SERVICE_PORT_HTTP", "8080"),
                ("DOORMAN_PORT", "tcp://10.96.0.12:8080"),
                ("DOORMAN_PORT_8080_TCP", "tcp://10.96.0.12:8080"),
                ("DOORMAN_PORT_8080_TCP_ADDR", "10.96.0.12"),
                ("DOORMAN_SERVER_WORKERS", "2"),
            ]),
        )
        .unwrap();
        assert_eq!(applied.overrides.len(), 1);
        assert_eq!(applied.ignored.len(), 6);
        assert!(applied.ignored.iter().all(|v| !v.contains("10.96")), "names only, never values");
        assert_eq!(t.len(), 1, "only the real override reached the policy");
    }
}
