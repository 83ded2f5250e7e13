//! CSV cells a spreadsheet cannot run: exports neutralise what looks like a formula, and the
//! blacklist's import reads a neutralised cell back as it was, so an export imports unchanged.

use std::borrow::Cow;

/// What a spreadsheet takes for the start of a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `text` is quotes before a formula's first character (`'=…`, `''+…`): how a
/// neutralised cell looks.
fn quoted_formula(text: &str) -> bool {
    let rest = text.trim_start_matches('\'');
    rest.len() < text.len() && rest.starts_with(FORMULA_STARTS)
}

/// A cell as a spreadsheet cannot take it for a formula: text starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return gets a leading `'`; so does text that already looks neutralised
/// (`'=…`), so that [`plain_cell`] gives every text back as it was.
pub fn neutral_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) || quoted_formula(text) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// A cell as it was before [`neutral_cell`]: one `'` before a quoted formula goes.
pub fn plain_cell(text: &str) -> &str {
    if quoted_formula(text) {
        &text[1..]
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralised_cells_read_back_as_they_were() {
        for text in ["=SUM(A1)", "+31 6", "-x", "@a", "plain", "'quoted", "", "'=already"] {
            assert_eq!(plain_cell(&neutral_cell(text)), text, "{text:?}");
        }
        assert_eq!(neutral_cell("=1"), "'=1");
        assert_eq!(plain_cell("'plain"), "'plain", "only a neutralised formula loses its quote");
    }
}
