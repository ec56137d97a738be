//! Password hashing (argon2id, OWASP parameters, always on the blocking pool) and the password rules — at least
//! Django's four validators: minimum length, common passwords, entirely numeric, similarity to the user's details.

use std::collections::HashSet;
use std::io::Read;
use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};

use crate::core::i18n::{Lang, Text};
use crate::{text, tr};

/// OWASP's first recommendation for argon2id: 19 MiB of memory, 2 iterations, 1 lane.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Argon2 iterations.
pub const ITERATIONS: u32 = 2;
/// Argon2 lanes.
pub const LANES: u32 = 1;
/// Longest password accepted: hashing cost must not be the attacker's choice.
pub const MAX_LENGTH: usize = 4096;
/// Shortest password accepted.
pub const MIN_LENGTH: usize = 8;

/// A hash with the same parameters, verified when the account does not exist so timing reveals nothing.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2yu7ZBDkpEzCyqSXlnWT8LiCkGyz/NNLEqMU2sYaiRg";

fn argon2() -> Argon2<'static> {
    // The parameters are constants known to be valid; `default()` holds the same values should that ever change.
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// At most this many hashes run at once: one core less than the machine has (at least one), so a burst of logins
/// queues here instead of starving the request workers of CPU (`/healthz` stays fast while 50 logins run).
static HASHING_SLOTS: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1))
});

/// Runs one argon2 computation on the blocking pool, within the machine's hashing slots.
async fn on_hashing_slot<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _slot = HASHING_SLOTS.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// Hashing failed (only on exhausted memory or a broken random source).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl From<HashError> for crate::core::error::AppError {
    fn from(cause: HashError) -> Self {
        Self::internal("password hashing", cause)
    }
}

/// Hashes `password` into a PHC string, on the blocking pool.
pub async fn hash(password: String) -> Result<String, HashError> {
    on_hashing_slot(move || {
        argon2()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .unwrap_or_else(|| Err(HashError("hashing task failed".into())))
}

/// Checks `password` against a stored PHC string (or the dummy hash when there is none), on the blocking pool.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    let exists = stored.is_some();
    let checked = on_hashing_slot(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        PasswordHash::new(&stored).is_ok_and(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false);
    exists && checked
}

/// Django's list of 20,000 common passwords (BSD licence), shipped gzipped.
static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut text = String::new();
    let _ = flate2::read::GzDecoder::new(&include_bytes!("common-passwords.txt.gz")[..]).read_to_string(&mut text);
    text.lines()
        .map(|line| line.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .collect()
});

/// What the password is checked against for similarity.
#[derive(Debug, Default, Clone, Copy)]
pub struct UserAttributes<'a> {
    /// The username.
    pub username: &'a str,
    /// The email address.
    pub email: &'a str,
    /// The first name.
    pub first_name: &'a str,
    /// The last name.
    pub last_name: &'a str,
}

/// Every rule the password breaks, as messages for the user (Django's wording).
pub fn validate(password: &str, user: UserAttributes<'_>) -> Vec<Text> {
    let mut problems = Vec::new();
    let length = password.chars().count();
    if length > MAX_LENGTH {
        problems.push(text!(accounts.password_rules.too_long, max = MAX_LENGTH, len = length));
        return problems;
    }
    if let Some(attribute) = too_similar(password, user) {
        problems.push(Text::new(|lang| {
            tr!(lang, accounts.password_rules.too_similar, field = attribute.name(lang)).to_string()
        }));
    }
    if length < MIN_LENGTH {
        problems.push(text!(accounts.password_rules.too_short, min = MIN_LENGTH));
    }
    if COMMON.contains(&password.trim().to_lowercase()) {
        problems.push(text!(accounts.password_rules.too_common));
    }
    if !password.is_empty() && password.chars().all(|c| c.is_ascii_digit()) {
        problems.push(text!(accounts.password_rules.numeric));
    }
    problems
}

/// An attribute of the user a password may be too similar to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attribute {
    Username,
    FirstName,
    LastName,
    Email,
}

impl Attribute {
    /// The attribute's name, as the similarity message says it.
    fn name(self, lang: Lang) -> &'static str {
        match self {
            Self::Username => tr!(lang, accounts.password_rules.name_username),
            Self::FirstName => tr!(lang, accounts.password_rules.name_first_name),
            Self::LastName => tr!(lang, accounts.password_rules.name_last_name),
            Self::Email => tr!(lang, accounts.password_rules.name_email),
        }
    }
}

/// Django's `UserAttributeSimilarityValidator` with its default 0.7: compares the password with each attribute
/// and with each word of it (split on non-word characters), using the Ratcliff/Obershelp ratio.
fn too_similar(password: &str, user: UserAttributes<'_>) -> Option<Attribute> {
    const MAX_SIMILARITY: f64 = 0.7;
    let password = password.to_lowercase();
    let password: Vec<char> = password.chars().collect();
    for (name, value) in [
        (Attribute::Username, user.username),
        (Attribute::FirstName, user.first_name),
        (Attribute::LastName, user.last_name),
        (Attribute::Email, user.email),
    ] {
        let value = value.to_lowercase();
        // A password much longer than the attribute cannot reach the ratio; skip the quadratic work.
        if value.is_empty() || password.len() as f64 >= 10.0 * value.chars().count() as f64 / MAX_SIMILARITY {
            continue;
        }
        let parts = std::iter::once(value.as_str()).chain(
            value
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|p| !p.is_empty()),
        );
        for part in parts {
            let part: Vec<char> = part.chars().collect();
            if ratio(&password, &part) >= MAX_SIMILARITY {
                return Some(name);
            }
        }
    }
    None
}

/// Ratcliff/Obershelp similarity, as Python's `difflib.SequenceMatcher.ratio()`: 2·matches / total length.
fn ratio(a: &[char], b: &[char]) -> f64 {
    let total = a.len() + b.len();
    if total == 0 {
        return 1.0;
    }
    2.0 * matching_characters(a, b) as f64 / total as f64
}

fn matching_characters(a: &[char], b: &[char]) -> usize {
    // Longest common block, then recurse on both sides of it.
    let (mut best_len, mut best_a, mut best_b) = (0, 0, 0);
    let mut previous = vec![0usize; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![0usize; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            if ca == cb {
                current[j + 1] = previous[j] + 1;
                if current[j + 1] > best_len {
                    best_len = current[j + 1];
                    best_a = i + 1 - best_len;
                    best_b = j + 1 - best_len;
                }
            }
        }
        previous = current;
    }
    if best_len == 0 {
        return 0;
    }
    best_len
        + matching_characters(&a[..best_a], &b[..best_b])
        + matching_characters(&a[best_a + best_len..], &b[best_b + best_len..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserAttributes<'static> {
        UserAttributes {
            username: "marguerite",
            email: "marguerite.duras@example.com",
            first_name: "Marguerite",
            last_name: "Duras",
        }
    }

    #[test]
    fn each_rule_has_its_own_message() {
        assert_eq!(
            validate("short1!", user()),
            ["This password is too short. It must contain at least 8 characters."]
        );
        assert_eq!(validate("password123", user()), ["This password is too common."]);
        assert!(
            validate("83749261530", user())
                .iter()
                .any(|m| *m == "This password is entirely numeric.")
        );
        assert_eq!(
            validate("Marguerite1", user()),
            ["The password is too similar to the username."]
        );
        assert_eq!(
            validate("duras2024", user()),
            ["The password is too similar to the last name."]
        );
        assert!(
            validate(&"x".repeat(MAX_LENGTH + 1), user())[0]
                .english()
                .starts_with("Ensure this value has at most 4096")
        );
        // In French the attribute is named in French too.
        assert_eq!(
            validate("duras2024", user())[0].get(Lang::Fr),
            "Le mot de passe est trop semblable au champ « nom »."
        );
        assert!(validate("correct horse battery staple", user()).is_empty());
        assert!(validate("Tr4vel-Lisbon-Blue", user()).is_empty());
    }

    #[test]
    fn common_list_is_complete() {
        assert!(COMMON.len() >= 19_000, "{}", COMMON.len());
        assert!(COMMON.contains("qwerty"));
    }

    #[test]
    fn ratio_matches_difflib() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        // Values from Python: SequenceMatcher(a=..., b=...).ratio()
        assert!((ratio(&chars("abcd"), &chars("bcde")) - 0.75).abs() < 1e-9);
        assert!((ratio(&chars("marguerite1"), &chars("marguerite")) - 20.0 / 21.0).abs() < 1e-9);
        assert_eq!(ratio(&chars("abc"), &chars("xyz")), 0.0);
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_never_do() {
        let stored = hash("Tr4vel-Lisbon-Blue".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("Tr4vel-Lisbon-Blue".into(), Some(stored.clone())).await);
        assert!(!verify("wrong".into(), Some(stored)).await);
        assert!(!verify("anything".into(), None).await);
        assert!(
            PasswordHash::new(DUMMY_HASH).is_ok(),
            "the dummy hash parses, so its check costs a full verify"
        );
    }
}
