//! The backend's claim route: an offer's link lands there, and Doorman lets it through only with
//! the code of an open offer for that event. A code that is forged, expired, for another event,
//! or whose offer was declined, withdrawn or taken already lands back on the event page, as a
//! blocked checkout does; the backend's success answer marks the offer taken.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};

use super::Waitlist;
use crate::app::route::Ticket;
use crate::app::step::Step;
use crate::core::waitlist::claim::ClaimTarget;
use crate::ports::body::BodyStream;
use crate::ports::store::Store;

impl<S: Store + Clone> Waitlist<S> {
    /// What a request for `path` claims, when the policy has a claim route and it is that route.
    pub fn claim_target(&self, path: &str) -> Option<ClaimTarget> {
        self.config.claim.as_ref()?.target(path)
    }

    /// Checks a request to the claim route: forwarded (unchanged, no body) with an open offer's
    /// code for its event; otherwise back to the event page. A store that fails answers 503:
    /// a claim is never let through unchecked.
    pub async fn claim<B: BodyStream>(&self, target: ClaimTarget, head: &Parts, body: &mut B) -> Step {
        let ClaimTarget::Event(event) = target else {
            tracing::info!("waitlist: claim refused, its path cannot be read as the backend reads it");
            return Step::refuse(StatusCode::BAD_REQUEST, true);
        };
        if body.declared_len().is_some_and(|n| n > 0) || head.headers.contains_key(header::TRANSFER_ENCODING)
        {
            // The code is read from the query alone; a body the backend might read it from is
            // not looked at, so it is not let through.
            return Step::refuse(StatusCode::BAD_REQUEST, true);
        }
        let Some(claim) = &self.config.claim else { return Step::Pass };
        let Some(code) = claim.code(head.uri.query()) else { return self.back_to_event(&event) };
        match self.offer_of_code(&code).await {
            Ok(Ok(offer)) if offer.event == event && offer.is_open(self.now()) => {
                Step::Forward { body: Bytes::new(), ticket: Ticket::Claim { event, number: offer.number } }
            }
            Ok(_) => self.back_to_event(&event),
            Err(e) => {
                tracing::warn!(error = %e, "waitlist: claim not checked, store unavailable");
                Step::refuse(StatusCode::SERVICE_UNAVAILABLE, false)
            }
        }
    }

    /// The answer to a claim that is turned back: `303 See Other` to the event's page.
    fn back_to_event(&self, event: &str) -> Step {
        let page = self.config.event_page.as_deref().unwrap_or("/").replace("{event}", event);
        let mut r = Response::new(Bytes::new());
        *r.status_mut() = StatusCode::SEE_OTHER;
        if let Ok(v) = HeaderValue::from_str(&page) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Step::answer(r, false)
    }

    /// The backend answered a claim of offer `number`: a success (2xx or 3xx) marks the offer
    /// taken, in the background (after the answer where the host has no background tasks).
    pub(crate) fn claimed(&self, event: String, number: u64, status: StatusCode) {
        if !(status.is_success() || status.is_redirection()) {
            return;
        }
        let waitlist = self.detached();
        self.ports.tasks.spawn(Box::pin(async move {
            match waitlist.end_offer(&event, number, crate::app::waitlist::usecases::Ending::Taken, None).await {
                Ok(Ok(_)) => tracing::info!(event, offer = number, "waitlist: offer taken by its claim"),
                Ok(Err(refused)) => {
                    tracing::info!(event, offer = number, %refused, "waitlist: claimed offer not marked taken")
                }
                Err(e) => tracing::warn!(event, offer = number, error = %e, "waitlist: claimed offer not marked taken"),
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use http::{Method, Request};

    use super::*;
    use crate::app::waitlist::testing::site_with;
    use crate::core::route::RoutePattern;
    use crate::core::waitlist::claim::ClaimRoute;
    use crate::core::waitlist::{Fit, OfferStatus};
    use crate::testkit::{block_on, TestBody};

    fn head(path: &str) -> Parts {
        Request::builder().method(Method::GET).uri(path).body(()).unwrap().into_parts().0
    }

    #[test]
    fn only_an_open_offers_code_for_its_event_goes_through_and_its_success_takes_it() {
        let site = site_with(|c| {
            c.event_page = Some("/events/{event}".into());
            let route = RoutePattern::parse("GET /events/{event}/claim").unwrap();
            c.claim = Some(ClaimRoute::new(route, "offer").unwrap());
        });
        site.automatic(Fit::Strict);
        let w = &site.waitlist;
        site.in_line("ada@example.com", None, 1);
        block_on(async {
            w.release("gala", 1, false, None).await.unwrap().unwrap();
            let offer = w.offer_record("gala", 1).await.unwrap().unwrap();
            let path = format!("/events/gala/claim?offer={}", w.offer_code(&offer));
            let claim = |path: &str, body: TestBody| {
                let target = w.claim_target(path.split('?').next().unwrap()).expect("the claim route");
                block_on(w.claim(target, &head(path), &mut { body }))
            };
            let back = |step: Step| match step {
                Step::Answer { response, .. } => {
                    (response.status(), response.headers()[header::LOCATION].to_str().unwrap().to_owned())
                }
                other => panic!("not turned back: {other:?}"),
            };
            assert!(w.claim_target("/events/gala").is_none(), "not the claim route");
            let with_body = claim(&path, TestBody::whole("offer=x"));
            assert!(matches!(with_body, Step::Answer { ref response, .. } if response.status() == 400));
            let other = path.replace("/gala/", "/ball/");
            assert_eq!(
                back(claim(&other, TestBody::whole(""))),
                (StatusCode::SEE_OTHER, "/events/ball".into())
            );
            site.rig.store.fail_next(1);
            let down = claim(&path, TestBody::whole(""));
            assert!(
                matches!(down, Step::Answer { ref response, .. } if response.status() == 503),
                "never unchecked"
            );
            let Step::Forward { ticket: Ticket::Claim { event, number }, body } =
                claim(&path, TestBody::whole(""))
            else {
                panic!("an open offer's code goes through")
            };
            assert!(body.is_empty());
            // A failed booking takes nothing; a success takes the offer, after the answer.
            w.claimed(event.clone(), number, StatusCode::BAD_GATEWAY);
            assert_eq!(site.rig.tasks.run_spawned().await, 0);
            w.claimed(event, number, StatusCode::OK);
            assert_eq!(site.rig.tasks.run_spawned().await, 1);
            assert_eq!(w.offer_record("gala", 1).await.unwrap().unwrap().status, OfferStatus::Taken);
            assert_eq!(
                back(claim(&path, TestBody::whole(""))),
                (StatusCode::SEE_OTHER, "/events/gala".into()),
                "used"
            );
        });
    }
}
