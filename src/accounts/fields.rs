//! Rules for account fields, shared by the forms, the CLI and (later) the REST API. Messages follow Django's wording
//! so clients of the original see the same text.

use crate::core::i18n::Text;
use crate::text;

/// Longest username (Django: 150).
pub const USERNAME_MAX: usize = 150;
/// Longest email address (RFC 5321 path limit, Django's EmailField).
pub const EMAIL_MAX: usize = 254;
/// Longest first or last name.
pub const NAME_MAX: usize = 150;
/// Longest bio.
pub const BIO_MAX: usize = 500;

/// Checks a username: 1–150 letters, digits and `@ . + - _`.
pub fn check_username(username: &str) -> Result<(), Text> {
    let length = username.chars().count();
    if length == 0 {
        return Err(text!(core.field.blank));
    }
    if length > USERNAME_MAX {
        return Err(text!(core.field.too_long, max = USERNAME_MAX));
    }
    if !username
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '@' | '.' | '+' | '-' | '_'))
    {
        return Err(text!(accounts.field.username_invalid));
    }
    Ok(())
}

/// Checks an email address: one `@`, a non-empty local part, a dotted domain, no spaces, at most 254 characters.
pub fn check_email(email: &str) -> Result<(), Text> {
    if email.is_empty() {
        return Err(text!(core.field.blank));
    }
    if email.chars().count() > EMAIL_MAX {
        return Err(text!(core.field.too_long, max = EMAIL_MAX));
    }
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
    }) && !email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
    if valid {
        Ok(())
    } else {
        Err(text!(accounts.field.email_invalid))
    }
}

/// Checks a length limit on an optional text field.
pub fn check_max(value: &str, max: usize) -> Result<(), Text> {
    let length = value.chars().count();
    if length > max {
        return Err(text!(core.field.too_long_has, max = max, len = length));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["alice", "a.b+c-d_e@f", "Zoé", "x"] {
            assert!(check_username(ok).is_ok(), "{ok}");
        }
        assert_eq!(check_username("").unwrap_err(), "This field may not be blank.");
        assert!(
            check_username("has space")
                .unwrap_err()
                .english()
                .starts_with("Enter a valid username.")
        );
        assert!(check_username("semi;colon").is_err());
        assert!(check_username(&"a".repeat(151)).unwrap_err().english().contains("150"));
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org"] {
            assert!(check_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "plain", "@b.co", "a@b", "a@.b.co", "a@b..co", "a b@c.de", "a@b@c.de", "a@b.co.",
        ] {
            assert_eq!(check_email(bad).unwrap_err(), "Enter a valid email address.", "{bad}");
        }
        assert!(
            check_email(&format!("{}@example.com", "a".repeat(250)))
                .unwrap_err()
                .english()
                .contains("254")
        );
    }
}
