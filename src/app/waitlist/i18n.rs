//! The waitlist's texts in four languages, from the Fluent files in `locales/`, parsed once.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::core::waitlist::Lang;

const SOURCES: [(Lang, &str); 4] = [
    (Lang::En, include_str!("locales/en.ftl")),
    (Lang::Nl, include_str!("locales/nl.ftl")),
    (Lang::De, include_str!("locales/de.ftl")),
    (Lang::Nb, include_str!("locales/nb.ftl")),
];

/// Every language's bundle.
pub struct Texts {
    bundles: Vec<(Lang, FluentBundle<FluentResource>)>,
}

fn bundle(lang: Lang, source: &str) -> FluentBundle<FluentResource> {
    // The files are part of the build and checked by a test; a broken one is a build bug.
    let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(r, _)| r);
    let id = lang.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks: the values are plain words and numbers, and the marks would
    // show up in plain-text mail.
    bundle.set_use_isolating(false);
    let _ = bundle.add_resource(resource);
    bundle
}

impl Texts {
    /// The texts, parsed on first use.
    pub fn get() -> &'static Texts {
        static TEXTS: OnceLock<Texts> = OnceLock::new();
        TEXTS.get_or_init(|| Texts { bundles: SOURCES.iter().map(|(l, s)| (*l, bundle(*l, s))).collect() })
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        let found = self.bundles.iter().find(|(l, _)| *l == lang).or(self.bundles.first());
        &found.expect("four bundles").1
    }

    /// The message `id` in `lang` with `args`; the id itself when it is missing (a test keeps
    /// every id in every file).
    pub fn text(&self, lang: Lang, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let bundle = self.bundle(lang);
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else { return id.to_owned() };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(t) => fluent_args.set(*name, FluentValue::from(*t)),
                Arg::Number(n) => fluent_args.set(*name, FluentValue::from(*n)),
            }
        }
        let mut errors = Vec::new();
        bundle.format_pattern(pattern, Some(&fluent_args), &mut errors).into_owned()
    }
}

/// A value put into a message.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// Text (escaped by the page or mail it ends up in, never by Fluent).
    Text(&'a str),
    /// A number (plural rules use it).
    Number(u64),
}

/// The texts of one language, for templates: `t.t("id")`.
#[derive(Clone, Copy)]
pub struct Tr {
    /// The language.
    pub lang: Lang,
    texts: &'static Texts,
}

impl Tr {
    /// The texts of `lang`.
    pub fn new(lang: Lang) -> Self {
        Self { lang, texts: Texts::get() }
    }

    /// Message `id` without arguments.
    pub fn t(&self, id: &str) -> String {
        self.texts.text(self.lang, id, &[])
    }

    /// Message `id` with arguments.
    pub fn with(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        self.texts.text(self.lang, id, args)
    }

    /// "1 ticket", "3 tickets", in this language.
    pub fn tickets(&self, n: u32) -> String {
        self.with("tickets-count", &[("tickets", Arg::Number(n.into()))])
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn ids(source: &str) -> BTreeSet<String> {
        let resource = FluentResource::try_new(source.to_owned()).expect("the file parses");
        resource
            .entries()
            .filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_language_has_every_message_once() {
        for (lang, source) in SOURCES {
            let mut all: Vec<String> = fluent_syntax::parser::parse(source.to_string())
                .unwrap_or_else(|(r, _)| r)
                .body
                .into_iter()
                .filter_map(|e| match e {
                    fluent_syntax::ast::Entry::Message(m) => Some(m.id.name),
                    _ => None,
                })
                .collect();
            all.sort();
            let twice: Vec<&String> = all.windows(2).filter(|w| w[0] == w[1]).map(|w| &w[0]).collect();
            assert!(twice.is_empty(), "{lang:?} defines {twice:?} twice (the last would win)");
        }
        let english = ids(SOURCES[0].1);
        assert!(english.len() > 60);
        for (lang, source) in &SOURCES[1..] {
            assert_eq!(ids(source), english, "{lang:?} differs from English");
        }
    }

    #[test]
    fn arguments_and_plurals() {
        for lang in Lang::ALL {
            let tr = Tr::new(lang);
            assert!(tr.tickets(1).starts_with('1'), "{lang:?}");
            assert!(tr.tickets(3).contains('3'));
            assert_ne!(tr.tickets(1), tr.tickets(3).replace('3', "1"), "{lang:?} has no plural");
            let text = tr.with("place-in-line", &[("place", Arg::Number(7))]);
            assert!(text.contains('7') && !text.contains('\u{2068}'), "{text:?}");
        }
        assert_eq!(Tr::new(Lang::En).t("no-such-id"), "no-such-id");
    }
}
