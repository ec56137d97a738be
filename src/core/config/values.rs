//! Reading one setting's text: numbers, booleans, origins, URLs, networks, and the development secret kept on disk.

use std::path::Path;

use super::ConfigError;

/// Name of the development secret's file in the data folder.
pub(super) const DEV_SECRET_FILE: &str = "secret_key";

/// The secret kept in `file`, created (readable by its owner only) with a new random secret when missing or unusable.
/// A file that others may read is made private again (with a warning in the log at start).
pub(super) fn kept_secret(file: &Path) -> Result<String, ConfigError> {
    let problem = |e: std::io::Error| {
        ConfigError::new(
            "SECRET_KEY",
            format!(
                "not set, and the development secret cannot be kept in {}: {e}",
                file.display()
            ),
        )
    };
    if let Some(secret) = read_secret(file).map_err(problem)? {
        return Ok(secret);
    }
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(problem)?;
    }
    // Written to a new file of our own (never one planted under that name), then published under the real name only
    // if no other process did so first; the loser of such a race reads the winner's secret.
    let secret = random_secret();
    let temporary = file.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut out| {
        std::io::Write::write_all(&mut out, secret.as_bytes())?;
        out.sync_all()
    });
    let published = written.and_then(|()| {
        // A short or unreadable file left by an earlier failure is replaced; a good one is kept.
        if file.exists() {
            std::fs::remove_file(file)?;
        }
        std::fs::hard_link(&temporary, file)
    });
    let _ = std::fs::remove_file(&temporary);
    match published {
        Ok(()) => Ok(secret),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_secret(file).map_err(problem)?.ok_or_else(|| problem(e))
        }
        Err(e) => Err(problem(e)),
    }
}

/// The secret in `file` if it holds one (at least 32 characters), made readable by its owner only.
pub(super) fn read_secret(file: &Path) -> std::io::Result<Option<String>> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let text = text.trim();
    if text.len() < 32 {
        return Ok(None);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::metadata(file)?.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(Some(text.to_string()))
}

/// A comma-separated list of networks (`10.0.0.0/8`) or single addresses (`127.0.0.1`, `::1`).
pub(super) fn parse_networks(key: &'static str, list: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        key,
                        format!("expected addresses or networks such as 10.0.0.0/8 or ::1, got {item:?}"),
                    )
                })
        })
        .collect()
}

pub(super) fn random_secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

pub(super) fn parse_bool(env: &str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::new(env, format!("expected true or false, got {value:?}"))),
    }
}

pub(super) fn parse_number<T: std::str::FromStr>(env: &str, value: &str, what: &str) -> Result<T, ConfigError> {
    value
        .parse()
        .map_err(|_| ConfigError::new(env, format!("expected {what}, got {value:?}")))
}

/// Checks `scheme://host[:port]` with nothing after it, as browsers send in `Origin`.
pub(super) fn parse_origin(env: &str, value: &str) -> Result<String, ConfigError> {
    let origin = value.trim().trim_end_matches('/');
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err(ConfigError::new(
            env,
            format!("{value:?} is not an origin like https://example.com"),
        ));
    };
    let host_ok = !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' '])
        && rest
            .rsplit_once(':')
            .is_none_or(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if !matches!(scheme, "http" | "https") || !host_ok {
        return Err(ConfigError::new(
            env,
            format!("{value:?} is not an origin like https://example.com"),
        ));
    }
    Ok(origin.to_ascii_lowercase())
}

pub(super) fn parse_http_url(env: &str, value: &str) -> Result<String, ConfigError> {
    let url = value.trim().trim_end_matches('/');
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(url.to_string()),
        _ => Err(ConfigError::new(
            env,
            format!("expected an http(s):// URL, got {value:?}"),
        )),
    }
}

/// Rejects secrets that are short, repetitive or obviously placeholders.
pub(super) fn check_secret_strength(secret: &str) -> Result<(), String> {
    let distinct = secret.chars().collect::<std::collections::BTreeSet<_>>().len();
    let lower = secret.to_ascii_lowercase();
    if secret.chars().count() < 32 {
        return Err(format!(
            "too short ({} characters); use at least 32 random characters",
            secret.chars().count()
        ));
    }
    if distinct < 10 {
        return Err("too repetitive; use at least 32 random characters".into());
    }
    if [
        "insecure",
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "password",
        "example",
    ]
    .iter()
    .any(|word| lower.contains(word))
    {
        return Err("looks like a placeholder; generate one with `openssl rand -hex 32`".into());
    }
    Ok(())
}
