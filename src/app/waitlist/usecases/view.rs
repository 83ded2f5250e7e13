//! Reading signups: the place in line, a manage link's signup, a customer's signups.

use super::super::Waitlist;
use super::*;
use crate::core::waitlist::link::{self, Kind, TokenError};
use crate::core::waitlist::{keys, line, Signup, Status};
use crate::ports::store::{Store, StoreError};

/// The place in line of number `seq` at `event` in `store`: one read of at most 24 counters.
pub async fn place_of(store: &impl Store, event: &str, seq: u64) -> Result<u64, StoreError> {
    let nodes: Vec<String> =
        line::nodes_to_read(seq.saturating_sub(1)).into_iter().map(|n| keys::left_node(event, n)).collect();
    let left: u64 = store.get_many(&nodes).await?.iter().map(counter_value).sum();
    Ok(line::place(seq, left))
}

impl<S: Store + Clone> Waitlist<S> {
    /// The place in line of number `seq` at `event`: one read of at most 24 counters.
    pub async fn place(&self, event: &str, seq: u64) -> Result<u64, StoreError> {
        place_of(&self.ports.store, event, seq).await
    }

    /// The signup a manage link shows, with its place when in line.
    pub async fn view(&self, token: &str) -> Result<Result<(Signup, Option<u64>), TokenError>, StoreError> {
        let signup = match self.signup_of(Kind::Manage, token).await? {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let place = match (signup.status, signup.seq) {
            (Status::Confirmed, Some(seq)) => Some(self.place(&signup.event, seq).await?),
            _ => None,
        };
        Ok(Ok((signup, place)))
    }

    /// The signed-in customer's signups, newest first, with their places.
    pub async fn mine(&self, account: &str) -> Result<Vec<(Signup, Option<u64>)>, StoreError> {
        let store = &self.ports.store;
        let h = self.account_hash(account);
        let n = store.increment(&keys::account_count(&h), 0, None).await?.max(0) as u64;
        let first = n.saturating_sub(MINE_LIMIT - 1).max(1);
        let item_keys: Vec<String> = (first..=n).rev().map(|i| keys::account_item(&h, i)).collect();
        let refs: Vec<(String, String)> = store
            .get_many(&item_keys)
            .await?
            .into_iter()
            .flatten()
            .filter_map(|v| {
                let text = String::from_utf8(v).ok()?;
                link::parse_signup_body(&text).map(|(e, i)| (e.to_owned(), i.to_owned()))
            })
            .collect();
        let signup_keys: Vec<String> = refs.iter().map(|(e, i)| keys::signup(e, i)).collect();
        let now = self.now();
        let mut out = Vec::new();
        for (raw, key) in store.get_many(&signup_keys).await?.into_iter().zip(&signup_keys) {
            let Some(s) = self.ports.open::<Signup>(key, raw)? else { continue };
            if s.account.as_deref() != Some(account) || (s.status == Status::Pending && !s.is_active(now)) {
                continue;
            }
            let place = match (s.status, s.seq) {
                (Status::Confirmed, Some(seq)) => Some(self.place(&s.event, seq).await?),
                _ => None,
            };
            out.push((s, place));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::app::waitlist::testing::site;

    #[test]
    fn a_customer_sees_their_own_signups_and_a_forged_link_sees_none() {
        crate::testkit::block_on(async {
            let site = site();
            let ada = site.join("ada@example.com", Some("cust-1"));
            site.join("bob@example.com", Some("cust-2"));
            let mine = site.waitlist.mine("cust-1").await.unwrap();
            assert_eq!(mine.iter().map(|(s, _)| s.id.as_str()).collect::<Vec<_>>(), [ada.id.as_str()]);
            assert_eq!(mine[0].1, None, "pending: no place yet");
            assert!(site.waitlist.mine("cust-3").await.unwrap().is_empty());
            assert!(site.waitlist.view("gala.forged.1.AAAA").await.unwrap().is_err());
            assert_eq!(site.waitlist.place("gala", 1).await.unwrap(), 1, "the first number is first in line");
        });
    }
}
