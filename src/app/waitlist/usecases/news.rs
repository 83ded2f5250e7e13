//! A customer's change of mind about news after signup: from the manage link ("Stop the news",
//! "Keep me informed") or a news mail's one-click unsubscribe (RFC 8058). The choice is kept
//! under [`keys::news`], apart from the signup's record (so it never races a change to the
//! signup), and read over the box ticked at signup wherever consent counts: who a news message
//! reaches, the export and the customer's download.

use std::time::Duration;

use super::super::Waitlist;
use super::MANAGE_FOR;
use crate::core::waitlist::link::{Kind, TokenError};
use crate::core::waitlist::signup::news_choice;
use crate::core::waitlist::{keys, Signup};
use crate::ports::store::{Store, StoreError};

impl<S: Store + Clone> Waitlist<S> {
    /// Sets each of `signups`' `informed` to its customer's latest choice about news (one read
    /// for all).
    pub(in crate::app::waitlist) async fn apply_news_choices(
        &self,
        signups: &mut [Signup],
    ) -> Result<(), StoreError> {
        if signups.is_empty() {
            return Ok(());
        }
        let wanted: Vec<String> = signups.iter().map(|s| keys::news(&s.event, &s.id)).collect();
        let got = self.ports.store.get_many(&wanted).await?;
        for (signup, raw) in signups.iter_mut().zip(got) {
            if let Some(choice) = news_choice(raw.as_deref()) {
                signup.informed = choice;
            }
        }
        Ok(())
    }

    /// Whether `signup`'s customer wants news now: their latest choice, else the box.
    pub(in crate::app::waitlist) async fn wants_news(&self, signup: &Signup) -> Result<bool, StoreError> {
        let raw = self.ports.store.get(&keys::news(&signup.event, &signup.id)).await?;
        Ok(news_choice(raw.as_deref()).unwrap_or(signup.informed))
    }

    /// Keeps the choice of manage link `token`'s customer: news (`true`) or only the messages
    /// the signup needs. Answers the signup as it now stands on news.
    pub async fn choose_news(
        &self,
        token: &str,
        news: bool,
    ) -> Result<Result<Signup, TokenError>, StoreError> {
        let mut signup = match self.signup_of(Kind::Manage, token).await? {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let value: &[u8] = if news { b"yes" } else { b"no" };
        let key = keys::news(&signup.event, &signup.id);
        self.ports.store.set(&key, value, Some(Duration::from_secs(MANAGE_FOR))).await?;
        signup.informed = news;
        Ok(Ok(signup))
    }
}

#[cfg(test)]
mod tests {
    use crate::app::waitlist::testing::site;
    use crate::testkit::block_on;

    #[test]
    fn a_change_of_mind_about_news_is_read_over_the_box_ticked_at_signup() {
        let site = site();
        let ada = site.in_line("ada@example.com", None, 2);
        let token = site.waitlist.manage_token(&ada);
        let read = |site: &crate::app::waitlist::testing::Site| {
            let mut signups = [site.record(&ada)];
            block_on(site.waitlist.apply_news_choices(&mut signups)).unwrap();
            let one = block_on(site.waitlist.wants_news(&site.record(&ada))).unwrap();
            assert_eq!(one, signups[0].informed, "one signup reads as a list does");
            one
        };
        assert!(!read(&site), "unticked at signup");
        assert!(block_on(site.waitlist.choose_news(&token, true)).unwrap().unwrap().informed);
        assert!(read(&site));
        assert!(!site.record(&ada).informed, "the signup's record is left alone");
        block_on(site.waitlist.choose_news(&token, false)).unwrap().unwrap();
        assert!(!read(&site));
        assert!(block_on(site.waitlist.choose_news("gala.x.1.AAAA", true)).unwrap().is_err());
    }
}
