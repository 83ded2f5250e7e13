//! A mail transport and an SMS gateway for tests.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;

use crate::ports::mail::{Mail, MailError, Mailer, Sending};
use crate::ports::sms::{Receipt, SendError, Sms, SmsGateway, SmsSending};

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

/// An SMS gateway that takes messages (answering [`Receipt::Accepted`], or
/// [`Receipt::Delivered`] once [`TestSmsGateway::report_delivery`] is set) or fails as scripted.
#[derive(Default)]
pub struct TestSmsGateway {
    failures: Mutex<VecDeque<SendError>>,
    sent: Mutex<Vec<Sms>>,
    delivered: std::sync::atomic::AtomicBool,
}

impl TestSmsGateway {
    /// The next attempts fail with these errors, one each.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = SendError>) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).extend(errors);
    }

    /// Answers that each message reached the phone.
    pub fn report_delivery(&self) {
        self.delivered.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The messages taken so far.
    pub fn sent(&self) -> Vec<Sms> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl SmsGateway for TestSmsGateway {
    fn send<'a>(&'a self, sms: &'a Sms) -> SmsSending<'a> {
        let failure = self.failures.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        if failure.is_none() {
            self.sent.lock().unwrap_or_else(|p| p.into_inner()).push(sms.clone());
        }
        let receipt = if self.delivered.load(std::sync::atomic::Ordering::Relaxed) {
            Receipt::Delivered
        } else {
            Receipt::Accepted
        };
        Box::pin(async move { failure.map_or(Ok(receipt), Err) })
    }
}
