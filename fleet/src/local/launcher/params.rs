//! Splitting a runtime configuration's `Parameters` string into argv entries.
//!
//! GameLift takes a server process's parameters as one string. We split it the way a POSIX
//! shell would for the simple cases and nothing more, so a string that works here means the
//! same on a Linux fleet:
//!
//! - unquoted ASCII whitespace (space, tab, newline, …) separates arguments; runs of it
//!   count as one separator, and leading or trailing whitespace is ignored;
//! - a double quote starts a quoted segment that ends at the next double quote; inside it
//!   whitespace is literal; the quotes themselves are removed;
//! - quoted and unquoted text with no whitespace between them form one argument, so
//!   `--name="Big Map"` becomes `--name=Big Map`, and `""` is an empty argument;
//! - there are no escapes (a backslash is an ordinary character), no single quotes, no
//!   variable expansion and no globbing: a `'` or `$` is passed through as is;
//! - a double quote without its closing partner is an error.

/// Why a `Parameters` string could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A double quote was opened and never closed.
    #[error("unterminated double quote starting at byte {position}")]
    UnterminatedQuote {
        /// Byte offset of the opening quote in the input.
        position: usize,
    },
}

/// Splits `input` into arguments by the rules in this module's documentation.
///
/// ```
/// use fleet::local::launcher::split_parameters;
/// let args = split_parameters(r#"-port 7777 --name="Big Map" """#).unwrap();
/// assert_eq!(args, ["-port", "7777", "--name=Big Map", ""]);
/// ```
pub fn split_parameters(input: &str) -> Result<Vec<String>, SplitError> {
    let mut args = Vec::new();
    // `Some` while an argument is being built: distinguishes "no argument yet" from an
    // empty one produced by `""`.
    let mut current: Option<String> = None;
    let mut quote_start: Option<usize> = None;

    for (position, c) in input.char_indices() {
        match (quote_start, c) {
            (None, '"') => {
                quote_start = Some(position);
                current.get_or_insert_with(String::new);
            }
            (Some(_), '"') => quote_start = None,
            (None, c) if c.is_ascii_whitespace() => {
                if let Some(arg) = current.take() {
                    args.push(arg);
                }
            }
            (_, c) => current.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(position) = quote_start {
        return Err(SplitError::UnterminatedQuote { position });
    }
    if let Some(arg) = current {
        args.push(arg);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &str) -> Vec<String> {
        split_parameters(input).unwrap()
    }

    #[test]
    fn empty_and_blank_give_no_arguments() {
        assert!(split("").is_empty());
        assert!(split(" \t\n ").is_empty());
    }

    #[test]
    fn whitespace_runs_separate() {
        assert_eq!(
            split("  -port   7777\t-log\nx  "),
            ["-port", "7777", "-log", "x"]
        );
    }

    #[test]
    fn quotes_keep_whitespace_and_are_removed() {
        assert_eq!(split(r#"-name "Big  Map" x"#), ["-name", "Big  Map", "x"]);
    }

    #[test]
    fn adjacent_segments_join() {
        assert_eq!(split(r#"--name="Big Map"!"#), ["--name=Big Map!"]);
        assert_eq!(split(r#"a"b"c"#), ["abc"]);
    }

    #[test]
    fn empty_quotes_are_an_empty_argument() {
        assert_eq!(split(r#"a "" b"#), ["a", "", "b"]);
        assert_eq!(split(r#""""#), [""]);
    }

    #[test]
    fn no_escapes_single_quotes_or_expansion() {
        assert_eq!(split(r#"'a b' $HOME c\d"#), ["'a", "b'", "$HOME", r"c\d"]);
    }

    #[test]
    fn non_ascii_is_kept() {
        assert_eq!(split("-name \"Åsa är här\""), ["-name", "Åsa är här"]);
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        assert_eq!(
            split_parameters(r#"-name "Big Map"#),
            Err(SplitError::UnterminatedQuote { position: 6 })
        );
    }
}
