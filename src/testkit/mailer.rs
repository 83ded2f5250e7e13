//! A mail transport for tests.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::ports::mail::{Mail, MailError, Mailer, Sending};

/// Takes mail, or fails as scripted: [`TestMailer::fail_next`] queues failures that come before
/// it takes mail again. Keeps what it took, in order.
#[derive(Debug, Default)]
pub struct TestMailer {
    failures: Mutex<VecDeque<MailError>>,
    sent: Mutex<Vec<Mail>>,
}

impl TestMailer {
    /// The next attempts fail with these errors, one each.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = MailError>) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).extend(errors);
    }

    /// The ids of the mails taken so far.
    pub fn sent_ids(&self) -> Vec<String> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|m| m.id.clone()).collect()
    }
}

impl Mailer for TestMailer {
    fn send<'a>(&'a self, mail: &'a Mail) -> Sending<'a> {
        let failure = self.failures.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        if failure.is_none() {
            self.sent.lock().unwrap_or_else(|p| p.into_inner()).push(mail.clone());
        }
        Box::pin(async move { failure.map_or(Ok(()), Err) })
    }
}
