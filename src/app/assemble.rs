//! The one place an [`App`] is put together: from an [`AppSpec`] (what the policy turns on,
//! with its secrets), the host's [`Ports`] and its [`Lifecycle`]. Every host (the proxy, the
//! tower layer, the WebAssembly component) and every test goes through [`assemble`], so the
//! features cannot be wired differently per runtime.

use crate::app::blacklist::Blacklist;
use crate::app::route::App;
use crate::app::vault::Vault;
use crate::app::waitlist::{Waitlist, WaitlistConfig};
use crate::app::Ports;
use crate::core::blacklist::session::SessionVerifier;
use crate::core::blacklist::BlacklistPolicy;
use crate::core::email_hash::EmailHasher;
use crate::core::policy::{ForwardingPolicy, Policy};
use crate::core::waitlist::link::Signer;
use crate::ports::store::Store;

/// How long an [`App`] lives, the one difference between hosts the tier must know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lifecycle {
    /// A process serving many requests (the proxy, the tower layer): it learns from forwarded
    /// checkouts (timing samples, the backend's answer shapes, the store's key layout) and keeps
    /// what it learned for the next request.
    #[default]
    Resident,
    /// A fresh instance per request (the WebAssembly component): nothing outlives the request,
    /// so saved timing samples are read only when a block needs its cover, a forwarded
    /// checkout's duration is merged into the saved samples afterwards, and nothing else is
    /// learned.
    OneRequest,
}

impl Lifecycle {
    /// Whether what one request learns is kept in memory for the next.
    pub fn keeps_state(self) -> bool {
        self == Self::Resident
    }
}

/// A policy feature that needs a secret the host did not give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The blacklist hashes addresses and needs its hasher.
    #[error("the policy has a blacklist, but no e-mail hasher was set up")]
    NoHasher,
    /// The waitlist signs its links and forms and needs its key.
    #[error("the policy has a waitlist, but no link key was set up")]
    NoLinkKey,
    /// The waitlist seals personal data and needs its data keys.
    #[error("the policy has a waitlist, but no data key was set up")]
    NoDataKey,
}

/// What an [`App`] is made of: the features a policy turns on, each with its secrets.
#[derive(Debug, Clone, Default)]
pub struct AppSpec {
    blacklist: Option<(BlacklistPolicy, EmailHasher)>,
    session: Option<SessionVerifier>,
    waitlist: Option<(WaitlistConfig, Signer, Vault)>,
    forwarding: ForwardingPolicy,
}

impl AppSpec {
    /// The features of `policy`: its blacklist with `hasher` (and `session`, when it names a
    /// session cookie), its waitlist with `signer` and the data keys of `vault`. A feature whose
    /// secret is missing is an error.
    pub fn from_policy(
        policy: &Policy,
        hasher: Option<EmailHasher>,
        session: Option<SessionVerifier>,
        signer: Option<Signer>,
        vault: Option<Vault>,
    ) -> Result<Self, SpecError> {
        let mut spec = Self::default();
        if let Some(b) = &policy.blacklist {
            spec = Self::blacklist(b.clone(), hasher.ok_or(SpecError::NoHasher)?);
            spec.session = session;
        }
        spec.forwarding = policy.forwarding.clone();
        if let Some(w) = &policy.waitlist {
            let signer = signer.ok_or(SpecError::NoLinkKey)?;
            let vault = vault.filter(|v| v.current().is_some()).ok_or(SpecError::NoDataKey)?;
            spec = spec.waitlist(WaitlistConfig::from_policy(w), signer, vault);
        }
        Ok(spec)
    }

    /// A blacklist of `policy`, hashing addresses with `hasher`.
    pub fn blacklist(policy: BlacklistPolicy, hasher: EmailHasher) -> Self {
        Self { blacklist: Some((policy, hasher)), ..Self::default() }
    }

    /// Recognises signed-in customers by the shop's session cookie (the blacklist's, and the
    /// waitlist's "my signups").
    pub fn session(mut self, verifier: SessionVerifier) -> Self {
        self.session = Some(verifier);
        self
    }

    /// Serves the waitlist's pages, signing links and forms with `signer` and sealing personal
    /// data with `vault`'s keys.
    pub fn waitlist(mut self, config: WaitlistConfig, signer: Signer, vault: Vault) -> Self {
        self.waitlist = Some((config, signer, vault));
        self
    }

    /// Decides who the client is with `forwarding`'s trusted proxies (default: none, the peer
    /// is the client).
    pub fn forwarding(mut self, forwarding: ForwardingPolicy) -> Self {
        self.forwarding = forwarding;
        self
    }

    /// Whether the spec turns nothing on (everything passes through).
    pub fn is_empty(&self) -> bool {
        self.blacklist.is_none() && self.waitlist.is_none()
    }
}

/// The [`App`] of `spec`, reaching the world through `ports`, living as `lifecycle` says. The
/// waitlist compares addresses by the blacklist's rules and knows signed-in customers by its
/// session cookie, so both features agree on who a customer is.
pub fn assemble<S: Store + Clone>(spec: &AppSpec, ports: Ports<S>, lifecycle: Lifecycle) -> App<S> {
    let rules = spec.blacklist.as_ref().map(|(b, _)| b.rules).unwrap_or_default();
    let waitlist = spec.waitlist.as_ref().map(|(config, signer, vault)| {
        let ports = ports.clone().with_vault(vault.clone());
        Waitlist::new(config.clone(), signer.clone(), rules, spec.session.clone(), ports)
    });
    let blacklist = spec.blacklist.as_ref().map(|(policy, hasher)| {
        Blacklist::new(policy.clone(), hasher.clone(), spec.session.clone(), ports, lifecycle)
    });
    App::new(blacklist, waitlist, spec.forwarding.clone())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http::Method;

    use super::*;
    use crate::testkit::{InstantTasks, MemoryStore};

    const WAITLIST: &str =
        "[waitlist]\npublic_url = \"https://shop.example\"\nfrom = \"Shop <waitlist@shop.example>\"\n";

    fn ports() -> Ports<MemoryStore> {
        Ports::new(MemoryStore::default(), Arc::new(InstantTasks::default()))
    }

    #[test]
    fn a_policy_becomes_one_app_with_every_feature_it_names() {
        let policy = crate::app::blacklist::test_policy("", WAITLIST);
        let signer = Signer::new(&[7u8; 32]).unwrap();
        let vault = Some(crate::testkit::test_vault());
        let missing = AppSpec::from_policy(&policy, None, None, Some(signer.clone()), vault.clone());
        assert_eq!(missing.unwrap_err(), SpecError::NoHasher);
        let plain = Some(EmailHasher::PlainSha256);
        let missing = AppSpec::from_policy(&policy, plain.clone(), None, None, vault.clone());
        assert_eq!(missing.unwrap_err(), SpecError::NoLinkKey);
        let missing = AppSpec::from_policy(&policy, plain.clone(), None, Some(signer.clone()), None);
        assert_eq!(missing.unwrap_err(), SpecError::NoDataKey);
        let keyless =
            AppSpec::from_policy(&policy, plain.clone(), None, Some(signer.clone()), Some(Vault::default()));
        assert_eq!(keyless.unwrap_err(), SpecError::NoDataKey, "a vault without keys is no key");
        let spec = AppSpec::from_policy(&policy, plain, None, Some(signer), vault).unwrap();
        let app = assemble(&spec, ports(), Lifecycle::Resident);
        assert!(app.classify(&Method::POST, "/events/gala/checkout").is_some(), "the blacklist");
        assert!(app.classify(&Method::GET, "/waitlist/gala").is_some(), "the waitlist");
        assert!(app.classify(&Method::GET, "/events/gala").is_none(), "everything else passes");
        let nothing = assemble(&AppSpec::default(), ports(), Lifecycle::OneRequest);
        assert!(AppSpec::default().is_empty());
        assert!(nothing.classify(&Method::POST, "/events/gala/checkout").is_none());
    }
}
