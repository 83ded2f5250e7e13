//! A mail transport for tests.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;

use crate::ports::mail::{Mail, MailError, Mailer, Sending};

/// Takes mail, or fails as scripted: [`TestMailer::fail_next`] queues failures that come before
/// it takes mail again, and [`TestMailer::refuse_domain`] refuses every message to a domain for
/// now. Keeps what it took, in order, and counts every call.
#[derive(Debug, Default)]
pub struct TestMailer {
    failures: Mutex<VecDeque<MailError>>,
    refused: Mutex<BTreeSet<String>>,
    sent: Mutex<Vec<Mail>>,
    calls: Mutex<u32>,
}

impl TestMailer {
    /// The next attempts fail with these errors, one each.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = MailError>) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).extend(errors);
    }

    /// Refuses messages to `domain` for now (a transient failure), until [`Self::accept_domain`].
    pub fn refuse_domain(&self, domain: &str) {
        self.refused.lock().unwrap_or_else(|p| p.into_inner()).insert(domain.to_owned());
    }

    /// Takes messages to `domain` again.
    pub fn accept_domain(&self, domain: &str) {
        self.refused.lock().unwrap_or_else(|p| p.into_inner()).remove(domain);
    }

    /// The ids of the mails taken so far.
    pub fn sent_ids(&self) -> Vec<String> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|m| m.id.clone()).collect()
    }

    /// How many times a message was handed to this transport, taken or not.
    pub fn calls(&self) -> u32 {
        *self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Mailer for TestMailer {
    fn send<'a>(&'a self, mail: &'a Mail) -> Sending<'a> {
        *self.calls.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        let domain = mail.to.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default();
        let failure = if self.refused.lock().unwrap_or_else(|p| p.into_inner()).contains(&domain) {
            Some(MailError::Transient(format!("450 {domain}: try again later")))
        } else {
            self.failures.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
        };
        if failure.is_none() {
            self.sent.lock().unwrap_or_else(|p| p.into_inner()).push(mail.clone());
        }
        Box::pin(async move { failure.map_or(Ok(()), Err) })
    }
}
