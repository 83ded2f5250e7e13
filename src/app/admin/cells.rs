//! CSV cells a spreadsheet cannot run: exports neutralise what looks like a formula, and the
//! blacklist's import reads a neutralised cell back as it was, so an export imports unchanged.

use std::borrow::Cow;

/// What a spreadsheet takes for the start of a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as a spreadsheet cannot take it for a formula: text starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return gets a leading `'`.
pub fn neutral_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// A cell as it was before [`neutral_cell`]: a `'` before a formula's first character goes.
pub fn plain_cell(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => text,
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
