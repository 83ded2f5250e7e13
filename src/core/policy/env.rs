//! Environment overrides: `DOORMAN_<SECTION>_<FIELD>=value` replaces `<section>.<field>`.
//!
//! The value is read as a TOML value when it parses as one (`8`, `true`, `["10.0.0.0/8"]`),
//! otherwise as a plain string (`127.0.0.1:8080`). Variables that configure the command line
//! rather than the policy (see [`RESERVED`]) are left alone.

use toml::{Table, Value};

use super::PolicyError;

/// The policy's top-level sections, in the order they are tried when splitting a variable name.
pub const SECTIONS: &[&str] = &["server", "backend", "forwarding", "store", "admin", "blacklist"];

/// `DOORMAN_` variables that are not policy overrides.
pub const RESERVED: &[&str] =
    &["ADMIN_TOKEN", "ADMIN_URL", "LOG", "LOG_FORMAT", "POLICY", "DATA_DIR", "HASH_KEY", "SESSION_KEY"];

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

/// Applies every `DOORMAN_*` override in `vars` to `table`.
pub fn apply(
    source_name: &str,
    table: &mut Table,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<Override>, PolicyError> {
    let mut applied = Vec::new();
    let mut vars: Vec<_> = vars.into_iter().filter(|(k, _)| k.starts_with(PREFIX)).collect();
    vars.sort();
    for (variable, raw) in vars {
        let rest = &variable[PREFIX.len()..];
        if RESERVED.contains(&rest) {
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
        let entry = table.entry(section).or_insert_with(|| Value::Table(Table::new()));
        let Value::Table(section_table) = entry else {
            return Err(PolicyError::new(source_name, section, "must be a table"));
        };
        section_table.insert(field.to_owned(), value);
        applied.push(Override { variable, field: format!("{section}.{field}") });
    }
    Ok(applied)
}

/// Reads `raw` as a TOML value if it is one, else as a string.
fn parse_value(raw: &str) -> Value {
    match raw.parse::<Value>() {
        Ok(v) if !matches!(v, Value::Table(_)) => v,
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
        assert_eq!(t["server"]["workers"].as_integer(), Some(3));
        assert_eq!(t["forwarding"]["trusted_proxies"][0].as_str(), Some("10.0.0.0/8"));
        assert_eq!(applied.len(), 3);
        assert!(t.get("admin").is_none(), "the admin token is a secret, not a policy field");
    }

    #[test]
    fn unknown_section_is_an_error_naming_the_variable() {
        let err = apply("p", &mut Table::new(), vars(&[("DOORMAN_BOGUS_X", "1")])).unwrap_err();
        assert!(err.message.contains("DOORMAN_BOGUS_X"), "{err}");
    }
}
