//! Password hashing (argon2id, OWASP parameters, on a bounded pool of background threads) and the password rules — at least
//! Django's four validators: minimum length, common passwords, entirely numeric, similarity to the user's details.

use std::collections::HashSet;
use std::io::Read;
use std::sync::LazyLock;

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};

use crate::core::i18n::{Lang, Text};
use crate::core::workers::{WorkError, Workers};
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
/// Requests that may wait for a hashing slot, per slot; one more is refused at once (503, [`RETRY_AFTER_SECONDS`]).
pub const QUEUE_PER_SLOT: usize = 8;
/// What a refused request is told to wait: the queue drains in well under a second.
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// A hash with the same parameters, verified when the account does not exist so timing reveals nothing.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2yu7ZBDkpEzCyqSXlnWT8LiCkGyz/NNLEqMU2sYaiRg";

fn params() -> Params {
    // The parameters are constants known to be valid; `default()` holds the same values should that ever change.
    Params::new(MEMORY_KIB, ITERATIONS, LANES, None).unwrap_or_default()
}

/// Hashing failed: refused because too many are waiting, or broken (only on a failing random source).
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing slot is taken and the queue is full; try again in [`RETRY_AFTER_SECONDS`].
    #[error("too many passwords are being checked at once")]
    Overloaded,
    /// The computation itself failed.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

impl From<HashError> for crate::core::error::AppError {
    fn from(cause: HashError) -> Self {
        match cause {
            HashError::Overloaded => Self::Overloaded(RETRY_AFTER_SECONDS),
            HashError::Failed(_) => Self::internal("password hashing", cause),
        }
    }
}

/// The password-hashing work of one server: at most `slots` argon2 computations at once (each holds 19 MiB), on a
/// [`Workers`] pool of threads that run below the request workers' priority, at most `queue` more waiting, and
/// anything beyond refused at once with [`HashError::Overloaded`]. So a burst of logins from many addresses costs a
/// bounded amount of memory and at most the CPU the rest of the server leaves, instead of a thread and 19 MiB per
/// request. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Hashing(Workers);

impl Default for Hashing {
    /// One slot less than the machine has cores (at least one), and [`QUEUE_PER_SLOT`] waiting per slot.
    fn default() -> Self {
        Self(Workers::per_core("thicode-hashing", QUEUE_PER_SLOT))
    }
}

impl Hashing {
    /// At most `slots` (at least one) computations at once and `queue` waiting.
    pub fn new(slots: usize, queue: usize) -> Self {
        Self(Workers::new("thicode-hashing", slots, queue))
    }

    /// Computations running or waiting now.
    pub fn in_use(&self) -> usize {
        self.0.in_use()
    }

    /// Whether a computation asked for now would be refused (a cheap check before other work).
    pub fn is_full(&self) -> bool {
        self.0.is_full()
    }

    /// Runs one argon2 computation on a hashing thread when one is free, or refuses when the queue is full. A request
    /// that goes away meanwhile leaves its work to be skipped; work already running finishes and keeps its slot.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
        self.0.run(work).await.map_err(|e| match e {
            WorkError::Overloaded => HashError::Overloaded,
            WorkError::Failed(why) => HashError::Failed(why),
        })
    }

    /// Hashes `password` into a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.run(move || hash_now(&password)).await?
    }

    /// Whether `password` matches a stored PHC string. With `None` (no such account) the dummy hash is checked, so
    /// the answer takes the same time and is always false.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, HashError> {
        let exists = stored.is_some();
        let matches = self
            .run(move || verify_now(&password, stored.as_deref().unwrap_or(DUMMY_HASH)))
            .await?;
        Ok(exists && matches)
    }
}

/// Argon2's working memory for one computation. glibc serves a freed block of this size from its arenas the next
/// time and never returns it to the system (its mmap threshold rises to the size of the first block freed), so a
/// burst on several blocking threads used to leave 19 MiB behind per thread. An allocation above glibc's highest
/// mmap threshold (32 MiB on 64-bit) is always mapped on its own and unmapped when dropped; only the blocks used
/// are ever touched, so the rest of the reservation costs no memory.
fn working_memory(blocks: usize) -> Vec<Block> {
    const MAPPED_ALONE: usize = 33 * 1024; // blocks of 1 KiB: just over 32 MiB
    let mut memory = Vec::with_capacity(blocks.max(MAPPED_ALONE));
    memory.resize(blocks, Block::default());
    memory
}

/// The raw argon2 output of `password` with `salt` under a stored hash's algorithm, version and parameters.
fn compute(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
) -> Result<Output, HashError> {
    let failed = |e: &dyn std::fmt::Display| HashError::Failed(e.to_string());
    let length = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let mut out = vec![0u8; length];
    let memory = working_memory(params.block_count());
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, memory)
        .map_err(|e| failed(&e))?;
    Output::new(&out).map_err(|e| failed(&e))
}

fn hash_now(password: &str) -> Result<String, HashError> {
    let failed = |e: &dyn std::fmt::Display| HashError::Failed(e.to_string());
    let bytes = argon2::password_hash::try_generate_salt().map_err(|e| failed(&e))?;
    let salt = Salt::new(&bytes).map_err(|e| failed(&e))?;
    let params = params();
    let output = compute(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password.as_bytes(),
        &salt,
    )?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(salt),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

fn verify_now(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm.as_str()),
        Params::try_from(&parsed),
        parsed.salt.as_ref(),
        parsed.hash.as_ref(),
    ) else {
        return false;
    };
    let version = parsed.version.map_or(Ok(Version::default()), Version::try_from);
    let Ok(version) = version else { return false };
    // `Output`'s equality is constant-time.
    compute(algorithm, version, params, password.as_bytes(), salt).is_ok_and(|computed| computed == *expected)
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
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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
        let hashing = Hashing::default();
        let stored = hashing.hash("Tr4vel-Lisbon-Blue".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            hashing
                .verify("Tr4vel-Lisbon-Blue".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(!hashing.verify("wrong".into(), Some(stored.clone())).await.unwrap());
        assert!(!hashing.verify("anything".into(), None).await.unwrap());
        assert!(
            !hashing
                .verify("anything".into(), Some("not a hash".into()))
                .await
                .unwrap()
        );
        assert!(
            PasswordHash::new(DUMMY_HASH).is_ok(),
            "the dummy hash parses, so its check costs a full verify"
        );
        // The hash is the one the argon2 crate's own verifier accepts (older stored hashes keep working both ways).
        use argon2::password_hash::PasswordVerifier;
        let parsed = PasswordHash::new(&stored).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"Tr4vel-Lisbon-Blue", &parsed)
                .is_ok()
        );
        assert!(
            hashing
                .verify("Tr4vel-Lisbon-Blue".into(), Some(stored.replace("$v=19", "")))
                .await
                .is_ok()
        );
        assert_eq!(hashing.in_use(), 0, "every admission is given back");
    }

    /// Blocking work that runs until `released`, counting how many run at once.
    fn held(
        running: &Arc<AtomicUsize>,
        most: &Arc<AtomicUsize>,
        released: &Arc<AtomicBool>,
    ) -> impl FnOnce() + Send + 'static {
        let (running, most, released) = (running.clone(), most.clone(), released.clone());
        move || {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            while !released.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            running.fetch_sub(1, Ordering::SeqCst);
        }
    }

    async fn until(condition: impl Fn() -> bool) {
        while !condition() {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_runs_within_the_slots_and_the_queue_and_the_rest_is_refused_at_once() {
        let hashing = Hashing::new(2, 3);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let released = Arc::new(AtomicBool::new(false));
        let admitted: Vec<_> = (0..5)
            .map(|_| {
                let (hashing, work) = (hashing.clone(), held(&running, &most, &released));
                tokio::spawn(async move { hashing.run(work).await })
            })
            .collect();
        // Two running, three queued.
        until(|| hashing.in_use() == 5 && running.load(Ordering::SeqCst) == 2).await;
        for _ in 0..3 {
            let refused = hashing.run(|| ()).await;
            assert!(matches!(refused, Err(HashError::Overloaded)), "{refused:?}");
        }
        assert_eq!(hashing.in_use(), 5, "a refusal holds no place");
        released.store(true, Ordering::SeqCst);
        for task in admitted {
            task.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2, "never more than the slots at once");
        assert_eq!(hashing.in_use(), 0);
        // Once drained, new work is admitted again.
        hashing.run(|| ()).await.unwrap();
    }

    #[tokio::test]
    async fn abandoned_work_is_skipped_and_running_work_keeps_its_slot() {
        let hashing = Hashing::new(1, 1);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let released = Arc::new(AtomicBool::new(false));
        let first = tokio::spawn({
            let (hashing, work) = (hashing.clone(), held(&running, &most, &released));
            async move { hashing.run(work).await }
        });
        until(|| running.load(Ordering::SeqCst) == 1).await;
        // The request whose computation runs goes away: the computation keeps its slot until it ends.
        first.abort();
        let _ = first.await;
        assert_eq!(hashing.in_use(), 1);
        let skipped = Arc::new(AtomicBool::new(true));
        let queued = tokio::spawn({
            let (hashing, skipped) = (hashing.clone(), skipped.clone());
            async move { hashing.run(move || skipped.store(false, Ordering::SeqCst)).await }
        });
        until(|| hashing.in_use() == 2).await;
        assert!(matches!(hashing.run(|| ()).await, Err(HashError::Overloaded)));
        queued.abort();
        let _ = queued.await;
        released.store(true, Ordering::SeqCst);
        until(|| hashing.in_use() == 0).await;
        assert!(
            skipped.load(Ordering::SeqCst),
            "the work of a request that went away is not done"
        );
        assert_eq!(most.load(Ordering::SeqCst), 1);
        hashing.run(|| ()).await.unwrap();
    }
}
