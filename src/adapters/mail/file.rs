//! The file outbox: each message becomes `{Message-ID}.eml` in a folder, written whole (a
//! temporary file, flushed to disk, then renamed), so a reader never sees half a message and a
//! message sent again replaces its own file instead of adding a copy.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::ports::mail::{Mail, MailError, Mailer, Sending};

/// Writes mail into a folder.
#[derive(Debug, Clone)]
pub struct FileMailer {
    dir: PathBuf,
}

impl FileMailer {
    /// A mailer writing into `dir` (created when missing).
    pub fn new(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self { dir: dir.to_owned() })
    }

    fn write(&self, mail: &Mail) -> std::io::Result<()> {
        // Message ids are ours: base64url, dots and one `@`; anything else is replaced.
        let name: String = mail
            .id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "-_.@".contains(c) { c } else { '_' })
            .collect();
        let path = self.dir.join(format!("{name}.eml"));
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(mail.message.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(&self.dir)?.sync_all()
    }
}

impl Mailer for FileMailer {
    fn send<'a>(&'a self, mail: &'a Mail) -> Sending<'a> {
        let this = self.clone();
        let mail = mail.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || this.write(&mail))
                .await
                .map_err(|e| MailError::Transient(format!("file outbox: {e}")))?
                .map_err(|e| MailError::Transient(format!("file outbox: {e}")))
        })
    }
}
