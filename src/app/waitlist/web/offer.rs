//! The pages of an offer's link: the offer (book it, or decline it with one more click) and
//! what declining came to. The code in the link is the offer's signed code; opening the page
//! changes nothing (mail scanners follow links), only the decline button's post does.

use bytes::Bytes;
use http::request::Parts;
use http::{Response, StatusCode};

use super::super::compose::deadline_text;
use super::super::i18n::{Arg, Tr};
use super::super::pages::ButtonForm;
use super::super::usecases::DeclineProblem;
use super::super::{Unavailable, Waitlist};
use super::*;
use crate::app::blacklist::Blacklist;
use crate::core::text::url_component;
use crate::core::waitlist::link::TokenError;
use crate::core::waitlist::{Lang, Offer, OfferStatus, WaitlistSettings};
use crate::ports::store::Store;

impl<S: Store + Clone> Waitlist<S> {
    /// The offer's language and the event's title: the signup's language, the settings' title.
    async fn offer_context(&self, head: &Parts, offer: &Offer) -> Result<(Lang, String), Unavailable> {
        let signup = self.signup_record(&offer.event, &offer.signup).await?;
        let settings =
            self.settings(&offer.event).await?.unwrap_or_else(|| WaitlistSettings::new(&offer.event));
        let lang = self.lang_for(head, None, &Lang::ALL, signup.map(|s| s.lang));
        Ok((lang, settings.title))
    }

    /// `GET /offer?c=…`: the offer, its link and the decline button; or how it ended.
    pub(in crate::app::waitlist) async fn offer_page(
        &self,
        head: &Parts,
    ) -> Result<Response<Bytes>, Unavailable> {
        let code = query_param(head, "c").unwrap_or_default();
        let offer = match self.offer_of_code(&code).await? {
            Ok(o) => o,
            Err(e) => return Ok(self.offer_problem(head, e)),
        };
        if offer.status != OfferStatus::Open {
            return self.offer_ended(head, &offer).await;
        }
        let (lang, title) = self.offer_context(head, &offer).await?;
        let tr = Tr::new(lang);
        let count = tr.tickets(offer.tickets);
        let deadline = deadline_text(offer.expires);
        let path = format!("{}/offer?c={}", self.config.mount, url_component(&code));
        let page = self.page(
            lang,
            tr.with("offer-title", &[("event", Arg::Text(&title))]),
            &path,
            &Lang::ALL,
            Some(&offer.event),
        );
        let body = tr.with(
            "offer-body",
            &[("event", Arg::Text(&title)), ("count", Arg::Text(&count)), ("deadline", Arg::Text(&deadline))],
        );
        let mut m = self.message(page, vec![body]);
        m.link = offer.link.clone().map(|l| (l, tr.t("offer-book")));
        m.form = Some(ButtonForm {
            action: format!("{}/offer/decline", self.config.mount),
            hidden: vec![("c", code), ("lang", lang.code().to_owned())],
            hint: Some(tr.t("offer-decline-hint")),
            button: tr.t("offer-decline-button"),
            secondary: true,
        });
        Ok(html(StatusCode::OK, m.render()))
    }

    /// `POST /offer/decline`: declines the offer the form's code names.
    pub(in crate::app::waitlist) async fn decline_post(
        &self,
        head: &Parts,
        form: &Form,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<Response<Bytes>, Unavailable> {
        let code = form.get("c").unwrap_or_default();
        let ended = match self.decline_by_code(code, blacklist).await? {
            Ok(ended) => ended,
            Err(DeclineProblem::Link(e)) => return Ok(self.offer_problem(head, e)),
            Err(DeclineProblem::Ended(offer)) => return self.offer_ended(head, &offer).await,
        };
        let (lang, title) = self.offer_context(head, &ended.offer).await?;
        let tr = Tr::new(lang);
        let page =
            self.page(lang, tr.t("declined-title"), &self.config.mount, &[lang], Some(&ended.offer.event));
        let body = tr.with("declined-body", &[("event", Arg::Text(&title))]);
        Ok(html(StatusCode::OK, self.message(page, vec![body]).render()))
    }

    /// An offer that has ended: how.
    async fn offer_ended(&self, head: &Parts, offer: &Offer) -> Result<Response<Bytes>, Unavailable> {
        let (lang, _) = self.offer_context(head, offer).await?;
        let tr = Tr::new(lang);
        let page =
            self.page(lang, tr.t("offer-ended-title"), &self.config.mount, &[lang], Some(&offer.event));
        let body = tr.with("offer-ended-body", &[("status", Arg::Text(offer.status.as_str()))]);
        Ok(html(StatusCode::GONE, self.message(page, vec![body]).render()))
    }

    /// A code that is not ours (404), or whose offer has run out (410).
    fn offer_problem(&self, head: &Parts, error: TokenError) -> Response<Bytes> {
        if error != TokenError::Expired {
            return self.link_problem(head, error, None);
        }
        let lang = self.lang_for(head, None, &Lang::ALL, None);
        let tr = Tr::new(lang);
        let page = self.page(lang, tr.t("offer-ended-title"), &self.config.mount, &Lang::ALL, None);
        let body = tr.with("offer-ended-body", &[("status", Arg::Text("expired"))]);
        html(StatusCode::GONE, self.message(page, vec![body]).render())
    }
}
