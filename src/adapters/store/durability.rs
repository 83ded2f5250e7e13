//! What a store promises about acknowledged writes, read from the store itself.
//!
//! The embedded store commits every write with an `fsync` before it answers. Redis keeps what it
//! acknowledged across a restart only as far as its persistence settings say: an append-only
//! file flushed on every write (`appendonly yes`, `appendfsync always`) keeps everything; flushed
//! every second it can lose the last second on a crash; snapshots (`save`) lose everything since
//! the last one; neither loses everything. Doorman reads the settings at start-up and on every
//! `/readyz`, and says so.

use serde::Serialize;

/// How safe acknowledged writes are, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Durability {
    /// `fsync` (every write flushed before it is acknowledged), `aof-everysec`, `aof-os`,
    /// `snapshots`, `none` or `unknown`.
    #[schema(value_type = String, pattern = "^(fsync|aof-everysec|aof-os|snapshots|none|unknown)$")]
    pub level: &'static str,
    /// Whether every acknowledged write survives a restart of the store.
    pub safe: bool,
    /// What that means, in words (for `/readyz` and the log), and the setting that would make
    /// them safe.
    pub detail: String,
}

impl Durability {
    /// The embedded store's promise.
    pub fn embedded() -> Self {
        Self { level: "fsync", safe: true, detail: "every write is on disk before it is acknowledged".into() }
    }

    /// A store whose settings could not be read (`CONFIG` renamed or refused, say).
    pub fn unknown(why: &str) -> Self {
        Self {
            level: "unknown",
            safe: false,
            detail: format!(
                "cannot read Redis's persistence settings ({why}); acknowledged writes survive a Redis \
                 restart only with appendonly yes and appendfsync always"
            ),
        }
    }

    /// What Redis's `appendonly`, `appendfsync` and `save` settings promise.
    pub fn of_redis(appendonly: &str, appendfsync: &str, save: &str) -> Self {
        let (level, safe, detail) = match (appendonly.eq_ignore_ascii_case("yes"), appendfsync) {
            (true, f) if f.eq_ignore_ascii_case("always") => {
                ("fsync", true, "appendonly yes, appendfsync always: every acknowledged write survives a Redis restart".into())
            }
            (true, f) if f.eq_ignore_ascii_case("everysec") => (
                "aof-everysec",
                false,
                "appendonly yes, appendfsync everysec: a Redis crash can lose up to a second of acknowledged writes (blacklist changes, signups, mails); set appendfsync always to keep them all".to_owned(),
            ),
            (true, _) => (
                "aof-os",
                false,
                "appendonly yes, appendfsync no: the operating system decides when writes reach the disk; a crash can lose tens of seconds of acknowledged writes; set appendfsync always".to_owned(),
            ),
            (false, _) if !save.trim().is_empty() => (
                "snapshots",
                false,
                format!("appendonly no, snapshots only (save {save}): a Redis restart loses every acknowledged write since the last snapshot; set appendonly yes and appendfsync always"),
            ),
            (false, _) => (
                "none",
                false,
                "appendonly no and no snapshots: a Redis restart loses every acknowledged write; set appendonly yes and appendfsync always".to_owned(),
            ),
        };
        Self { level, safe, detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_settings_and_what_they_keep() {
        assert_eq!(Durability::of_redis("yes", "always", "").level, "fsync");
        assert!(Durability::of_redis("yes", "always", "3600 1").safe);
        for (aof, fsync, save, level) in [
            ("yes", "everysec", "", "aof-everysec"),
            ("yes", "no", "", "aof-os"),
            ("no", "always", "3600 1 300 100", "snapshots"),
            ("no", "everysec", "", "none"),
        ] {
            let d = Durability::of_redis(aof, fsync, save);
            assert_eq!((d.level, d.safe), (level, false), "{aof} {fsync} {save:?}");
            assert!(d.detail.contains("appendfsync always"), "the fix is named: {}", d.detail);
        }
        assert!(!Durability::unknown("CONFIG refused").safe);
    }
}
