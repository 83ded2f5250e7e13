//! The languages the waitlist's pages and mails speak, and choosing one for a request.

use fluent_langneg::{negotiate_languages, parse_accepted_languages, NegotiationStrategy};
use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

/// A language of the waitlist's pages and mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// Dutch.
    Nl,
    /// German.
    De,
    /// Norwegian (Bokmål).
    Nb,
}

impl Lang {
    /// Every language, in the order the language switch shows them.
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Nl, Lang::De, Lang::Nb];

    /// The BCP 47 code (`en`, `nl`, `de`, `nb`).
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Nl => "nl",
            Self::De => "de",
            Self::Nb => "nb",
        }
    }

    /// The language's own name, for the switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Nl => "Nederlands",
            Self::De => "Deutsch",
            Self::Nb => "Norsk bokmål",
        }
    }

    /// The language a code names: exactly one of the four codes, or `no` for Norwegian.
    pub fn parse(code: &str) -> Option<Self> {
        match code.to_ascii_lowercase().as_str() {
            "en" => Some(Self::En),
            "nl" => Some(Self::Nl),
            "de" => Some(Self::De),
            "nb" | "no" => Some(Self::Nb),
            _ => None,
        }
    }

    fn id(self) -> LanguageIdentifier {
        // The four codes are valid identifiers.
        self.code().parse().unwrap_or_default()
    }

    /// The best of `offered` for an `Accept-Language` header; `offered[0]` (or English) when
    /// nothing matches. Norwegian asked as `no` or `nn` gets Bokmål.
    pub fn negotiate(accept_language: Option<&str>, offered: &[Lang]) -> Lang {
        let fallback = offered.first().copied().unwrap_or(Lang::En);
        let Some(header) = accept_language else { return fallback };
        let requested: Vec<LanguageIdentifier> = parse_accepted_languages(header)
            .into_iter()
            .map(|mut id| {
                if matches!(id.language.as_str(), "no" | "nn") {
                    id.language = "nb".parse().unwrap_or(id.language);
                }
                id
            })
            .collect();
        let available: Vec<LanguageIdentifier> = offered.iter().map(|l| l.id()).collect();
        let default = fallback.id();
        let chosen = negotiate_languages(&requested, &available, Some(&default), NegotiationStrategy::Lookup);
        chosen.first().and_then(|id| Lang::parse(id.language.as_str())).unwrap_or(fallback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_from_accept_language() {
        let all = &Lang::ALL;
        assert_eq!(Lang::negotiate(Some("de-DE,de;q=0.9,en;q=0.5"), all), Lang::De);
        assert_eq!(Lang::negotiate(Some("fr-FR, nl;q=0.8"), all), Lang::Nl);
        assert_eq!(Lang::negotiate(Some("nn-NO"), all), Lang::Nb);
        assert_eq!(Lang::negotiate(Some("no"), all), Lang::Nb);
        assert_eq!(Lang::negotiate(Some("fr"), all), Lang::En, "unknown: the first offered");
        assert_eq!(Lang::negotiate(None, &[Lang::Nl, Lang::En]), Lang::Nl);
        assert_eq!(Lang::negotiate(Some("de"), &[Lang::Nl, Lang::En]), Lang::Nl, "only what is offered");
    }

    #[test]
    fn hostile_headers_fall_back() {
        let long = "x-".repeat(10_000);
        for h in ["", ";;;,,,", "*", "\u{0}de", long.as_str(), "de;q=abc"] {
            let got = Lang::negotiate(Some(h), &Lang::ALL);
            assert!(Lang::ALL.contains(&got), "{h:?}");
        }
    }
}
