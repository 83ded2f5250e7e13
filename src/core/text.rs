//! Small text encodings used across the layers.

/// `s` as one component of a URL's query (`application/x-www-form-urlencoded`: spaces as `+`,
/// everything but unreserved characters percent-encoded).
pub fn url_component(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_components_are_encoded() {
        assert_eq!(url_component("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
        assert_eq!(url_component("gala.AZaz09-_"), "gala.AZaz09-_");
    }
}
