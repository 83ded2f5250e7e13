//! Text messages' rules: which phone numbers a message can go to, and the webhook's JSON body
//! filled from its template (`{to}`, `{text}`, `{id}` inside its strings).
//!
//! A signup's phone number is free text (`+31 6 1234 5678`, `0171 234567`); a gateway wants
//! the international form (`+31612345678`). A number written with `+` or `00` is read as
//! international; a national one (a leading `0`) takes the operator's `country_code` in place
//! of its `0`, and without one it gets no text message (never a guess at a country).

/// Fewest and most digits of an international number (E.164 allows 15; 8 is the shortest in use).
const DIGITS: (usize, usize) = (8, 15);

/// The placeholders a webhook body template may hold, each inside a JSON string.
pub const PLACEHOLDERS: [&str; 3] = ["{to}", "{text}", "{id}"];

/// The webhook body when the policy names none.
pub const DEFAULT_BODY: &str = r#"{"to": "{to}", "text": "{text}", "reference": "{id}"}"#;

/// `raw` in international form (`+` and 8 to 15 digits), or `None` when it cannot be read as
/// one. `country_code` (`+49`) stands in for the leading `0` of a national number.
pub fn international(raw: &str, country_code: Option<&str>) -> Option<String> {
    let raw = raw.trim();
    if !raw.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        return None;
    }
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let number = if raw.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if let (Some(rest), Some(code)) = (digits.strip_prefix('0'), country_code) {
        format!("{}{rest}", code.trim_start_matches('+'))
    } else {
        return None;
    };
    let ok = (DIGITS.0..=DIGITS.1).contains(&number.len()) && !number.starts_with('0');
    ok.then(|| format!("+{number}"))
}

/// Whether `code` is a country calling code as the policy writes it: `+` and 1 to 3 digits,
/// not starting with 0.
pub fn check_country_code(code: &str) -> Result<(), String> {
    let digits = code.strip_prefix('+').unwrap_or("");
    let ok = (1..=3).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(())
    } else {
        Err(format!("`{code}` is not a country calling code like +49"))
    }
}

/// The values a body template is filled with.
#[derive(Debug, Clone, Copy)]
pub struct BodyValues<'a> {
    /// The number, international form.
    pub to: &'a str,
    /// The message.
    pub text: &'a str,
    /// The message's reference (the same on every attempt).
    pub id: &'a str,
}

/// `template` with each placeholder replaced by its value, escaped for a JSON string (the
/// template puts the quotes around it). One pass: a value holding `{text}` is not filled again.
pub fn fill_body(template: &str, v: BodyValues<'_>) -> String {
    let mut out = String::with_capacity(template.len() + v.text.len() + 64);
    let mut rest = template;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let value = [("{to}", v.to), ("{text}", v.text), ("{id}", v.id)]
            .into_iter()
            .find(|(p, _)| rest.starts_with(p));
        match value {
            Some((p, value)) => {
                let quoted = serde_json::to_string(value).unwrap_or_default();
                out.push_str(&quoted[1..quoted.len() - 1]);
                rest = &rest[p.len()..];
            }
            None => {
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// What is wrong with a body template, if anything: filled with values full of quotes and
/// backslashes it must be one JSON object, and it must carry the number and the text.
pub fn check_body(template: &str) -> Result<(), String> {
    for needed in ["{to}", "{text}"] {
        if !template.contains(needed) {
            return Err(format!("the body must carry {needed}"));
        }
    }
    let hostile = "\"}\\n{\u{2028}";
    let filled = fill_body(template, BodyValues { to: hostile, text: hostile, id: hostile });
    match serde_json::from_str::<serde_json::Value>(&filled) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err("the body must be a JSON object".into()),
        Err(e) => Err(format!("not JSON once filled (placeholders go inside \"…\"): {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_in_international_form_or_not_at_all() {
        assert_eq!(international("+31 6 1234 5678", None).as_deref(), Some("+31612345678"));
        assert_eq!(international("0031 (6) 1234-5678", None).as_deref(), Some("+31612345678"));
        assert_eq!(international("0171 234567", Some("+49")).as_deref(), Some("+49171234567"));
        assert_eq!(international("0171 234567", None), None, "no country: no guess");
        assert_eq!(international("171 234567", Some("+49")), None, "neither + nor a leading 0");
        assert_eq!(international("+1 23", None), None, "too short");
        assert_eq!(international("+1234567890123456", None), None, "longer than E.164");
        assert_eq!(international("+49 171 abc", None), None);
        assert_eq!(international("+0049171234567", None), None);
    }

    #[test]
    fn country_codes_are_a_plus_and_one_to_three_digits() {
        assert!(check_country_code("+49").is_ok());
        assert!(check_country_code("+1").is_ok());
        for bad in ["49", "+", "+0", "+1234", "+4a", ""] {
            assert!(check_country_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_body_is_filled_with_escaped_values_once() {
        let v = BodyValues { to: "+491711", text: "Say \"hi\"\n{to} \\", id: "r1" };
        let body = fill_body(DEFAULT_BODY, v);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["to"], "+491711");
        assert_eq!(
            json["text"], "Say \"hi\"\n{to} \\",
            "quotes, newlines and placeholders in values stay text"
        );
        assert_eq!(json["reference"], "r1");
        let custom = r#"{"msg": {"dest": ["{to}"], "body": "Doorman: {text}", "n": 1, "x": "{unknown}"}}"#;
        let json: serde_json::Value = serde_json::from_str(&fill_body(custom, v)).unwrap();
        assert_eq!(json["msg"]["dest"][0], "+491711");
        assert!(json["msg"]["body"].as_str().unwrap().starts_with("Doorman: Say"));
        assert_eq!(json["msg"]["x"], "{unknown}", "other braces stay as written");
    }

    #[test]
    fn a_body_template_is_checked_as_json_with_its_placeholders_in_strings() {
        assert!(check_body(DEFAULT_BODY).is_ok());
        assert!(check_body(r#"{"to": {to}, "text": "{text}"}"#).unwrap_err().contains("placeholders"));
        assert!(check_body(r#"{"text": "{text}"}"#).unwrap_err().contains("{to}"));
        assert!(check_body(r#"["{to}", "{text}"]"#).unwrap_err().contains("object"));
        assert!(check_body(r#"{"to": "{to}", "text": "{text}""#).is_err());
    }
}
