//! Typed settings, parsed once at start-up — the counterpart of Django's `settings.py`.
//!
//! Every setting has one name (its environment variable) and one place in `Leptos.toml` (`[section] key`). Sources,
//! strongest first: the process environment, a `.env` file, `Leptos.toml`, the built-in default; figment layers them
//! ([`Sources`]) and remembers where each value came from, so an error names the file of a bad value. Relative paths are
//! resolved against the folder of the `Leptos.toml` that was read (or the working directory when there is none), so
//! the binary behaves the same from any working directory.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

mod sources;
mod values;

pub use sources::Sources;
use sources::absolute;
use values::{
    DEV_SECRET_FILE, check_secret_strength, kept_secret, parse_bool, parse_http_url, parse_networks, parse_number,
    parse_origin, random_secret,
};

/// One setting: its environment name, its `Leptos.toml` location and what it is for.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// Environment variable name; also the name used in `.env` and in error messages.
    pub env: &'static str,
    /// `Leptos.toml` section.
    pub section: &'static str,
    /// `Leptos.toml` key inside the section.
    pub key: &'static str,
}

macro_rules! keys {
    ($($env:literal => $section:literal . $key:literal),* $(,)?) => {
        /// Every setting ThiCode reads; `.env.example` documents each of them (a test checks it).
        pub const KEYS: &[Key] = &[$(Key { env: $env, section: $section, key: $key }),*];
    };
}

keys! {
    "THICODE_ENV" => "app"."env",
    "RUST_LOG" => "app"."log",
    "LEPTOS_SITE_ADDR" => "server"."site_addr",
    "LEPTOS_SITE_ROOT" => "server"."site_root",
    "SITE_URL" => "server"."site_url",
    "FRONTEND_URL" => "server"."frontend_url",
    "DATABASE_URL" => "database"."url",
    "SECRET_KEY" => "security"."secret_key",
    "SESSION_COOKIE_SECURE" => "security"."session_cookie_secure",
    "SECURE_HSTS_SECONDS" => "security"."hsts_seconds",
    "CORS_ALLOWED_ORIGINS" => "security"."cors_allowed_origins",
    "TRUSTED_PROXIES" => "security"."trusted_proxies",
    "FIRST_USER_IS_STAFF" => "security"."first_user_is_staff",
    "METRICS_TOKEN" => "security"."metrics_token",
    "METRICS_ALLOWED_ADDRESSES" => "security"."metrics_allowed_addresses",
    "MISTRAL_API_KEY" => "ai"."api_key",
    "MISTRAL_BASE_URL" => "ai"."base_url",
    "MISTRAL_DEFAULT_MODEL" => "ai"."default_model",
    "MISTRAL_TIMEOUT_SECONDS" => "ai"."timeout_seconds",
    "MISTRAL_MAX_RETRIES" => "ai"."max_retries",
    "EMAIL_BACKEND" => "email"."backend",
    "EMAIL_FILE_PATH" => "email"."file_path",
    "EMAIL_HOST" => "email"."host",
    "EMAIL_PORT" => "email"."port",
    "EMAIL_USE_TLS" => "email"."use_tls",
    "EMAIL_TLS_CA_FILE" => "email"."tls_ca_file",
    "EMAIL_HOST_USER" => "email"."host_user",
    "EMAIL_HOST_PASSWORD" => "email"."host_password",
    "DEFAULT_FROM_EMAIL" => "email"."default_from_email",
    "MAX_REQUEST_BODY_BYTES" => "limits"."max_request_body_bytes",
    "MAX_MESSAGE_CHARS" => "limits"."max_message_chars",
    "RATE_LIMIT_MESSAGES_PER_MINUTE" => "limits"."rate_limit_messages_per_minute",
    "RATE_LIMIT_MESSAGES_PER_DAY" => "limits"."rate_limit_messages_per_day",
    "RATE_LIMIT_ANONYMOUS_PER_MINUTE" => "limits"."rate_limit_anonymous_per_minute",
    "TEMPORARY_CHAT_IDLE_MINUTES" => "limits"."temporary_chat_idle_minutes",
    "MAX_IMPORT_BYTES" => "limits"."max_import_bytes",
    "FILES_DIR" => "files"."dir",
    "S3_BUCKET" => "files"."s3_bucket",
    "S3_ENDPOINT" => "files"."s3_endpoint",
    "S3_REGION" => "files"."s3_region",
    "S3_ACCESS_KEY_ID" => "files"."s3_access_key_id",
    "S3_SECRET_ACCESS_KEY" => "files"."s3_secret_access_key",
    "MAX_FILE_BYTES" => "files"."max_file_bytes",
    "MAX_FILES_PER_MESSAGE" => "files"."max_files_per_message",
    "MAX_FILE_STORAGE_PER_USER" => "files"."max_storage_per_user",
    "MAX_IMAGE_PIXELS" => "files"."max_image_pixels",
    "VISION_MODELS" => "ai"."vision_models",
    "EMBEDDING_MODEL" => "ai"."embedding_model",
    "OCR_MODEL" => "ai"."ocr_model",
    "WEB_SEARCH_BACKEND" => "tools"."web_search_backend",
    "WEB_SEARCH_URL" => "tools"."web_search_url",
    "WEB_SEARCH_API_KEY" => "tools"."web_search_api_key",
    "WEB_FETCH_ENABLED" => "tools"."web_fetch_enabled",
    "MCP_ALLOWED_HOSTS" => "tools"."mcp_allowed_hosts",
    "MCP_STDIO_ENABLED" => "tools"."mcp_stdio_enabled",
    "TOOL_MAX_ROUNDS" => "tools"."max_rounds",
    "TOOL_CALLS_PER_DAY" => "tools"."calls_per_day",
    "TOOL_CALL_TIMEOUT_SECONDS" => "tools"."call_timeout_seconds",
    "TOOL_MODELS" => "tools"."models",
    "TOOL_APPROVAL_SECONDS" => "tools"."approval_seconds",
}

/// A comma-separated setting's items, trimmed, without empty ones.
fn comma_list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

/// A model setting: its value, `default` when unset, empty when set to `off` (or `none`).
fn model_or_off(value: Option<&str>, default: &str) -> String {
    match value.map(str::trim) {
        None => default.to_string(),
        Some(v) if v.eq_ignore_ascii_case("off") || v.eq_ignore_ascii_case("none") => String::new(),
        Some(v) => v.to_string(),
    }
}

/// The tools' settings: a web search backend needs its URL (SearXNG) or its key (Brave, Tavily).
fn tools_config(src: &Sources) -> Result<ToolsConfig, ConfigError> {
    let web_search = match src.get("WEB_SEARCH_BACKEND").map(str::trim).unwrap_or("none") {
        "" | "none" | "off" => None,
        name => {
            let backend = SearchBackend::parse(name).ok_or_else(|| {
                ConfigError::new(
                    "WEB_SEARCH_BACKEND",
                    format!("expected none, searxng, brave or tavily, got {name:?}"),
                )
            })?;
            let url = match (src.get("WEB_SEARCH_URL"), backend.default_url()) {
                (Some(url), _) => parse_http_url("WEB_SEARCH_URL", url)?,
                (None, Some(default)) => default.to_string(),
                (None, None) => {
                    return Err(ConfigError::new(
                        "WEB_SEARCH_URL",
                        "required for searxng: the instance's address, e.g. http://127.0.0.1:8888",
                    ));
                }
            };
            let api_key = src.get("WEB_SEARCH_API_KEY").map(str::trim).filter(|k| !k.is_empty());
            if api_key.is_none() && backend != SearchBackend::Searxng {
                return Err(ConfigError::new("WEB_SEARCH_API_KEY", format!("required for {name}")));
            }
            Some(WebSearchConfig {
                backend,
                url,
                api_key: api_key.map(Secret::new),
            })
        }
    };
    let mcp_allowed_hosts: Vec<String> = comma_list(src.get("MCP_ALLOWED_HOSTS"));
    for host in &mcp_allowed_hosts {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let network = bare.parse::<ipnet::IpNet>().is_ok() || bare.parse::<std::net::IpAddr>().is_ok();
        let name = !bare.is_empty()
            && bare.len() <= 253
            && bare.split('.').all(|label| {
                !label.is_empty() && label.len() <= 63 && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !network && !name {
            return Err(ConfigError::new(
                "MCP_ALLOWED_HOSTS",
                format!(
                    "expected host names, addresses or networks such as mcp.internal, 10.0.0.0/8 or ::1, got {host:?}"
                ),
            ));
        }
    }
    let max_rounds = parse_number(
        "TOOL_MAX_ROUNDS",
        src.get("TOOL_MAX_ROUNDS").unwrap_or("8"),
        "a whole number",
    )?;
    if max_rounds == 0 || max_rounds > 50 {
        return Err(ConfigError::new("TOOL_MAX_ROUNDS", "must be between 1 and 50"));
    }
    let call_timeout_seconds = parse_number(
        "TOOL_CALL_TIMEOUT_SECONDS",
        src.get("TOOL_CALL_TIMEOUT_SECONDS").unwrap_or("30"),
        "a whole number of seconds",
    )?;
    if call_timeout_seconds == 0 || call_timeout_seconds > 600 {
        return Err(ConfigError::new(
            "TOOL_CALL_TIMEOUT_SECONDS",
            "must be between 1 and 600",
        ));
    }
    let approval_seconds = parse_number(
        "TOOL_APPROVAL_SECONDS",
        src.get("TOOL_APPROVAL_SECONDS").unwrap_or("600"),
        "a whole number of seconds",
    )?;
    if approval_seconds == 0 || approval_seconds > 86_400 {
        return Err(ConfigError::new("TOOL_APPROVAL_SECONDS", "must be between 1 and 86400"));
    }
    Ok(ToolsConfig {
        web_search,
        web_fetch_enabled: src
            .get("WEB_FETCH_ENABLED")
            .map_or(Ok(false), |v| parse_bool("WEB_FETCH_ENABLED", v))?,
        mcp_allowed_hosts,
        mcp_stdio_enabled: src
            .get("MCP_STDIO_ENABLED")
            .map_or(Ok(false), |v| parse_bool("MCP_STDIO_ENABLED", v))?,
        max_rounds,
        calls_per_day: parse_number(
            "TOOL_CALLS_PER_DAY",
            src.get("TOOL_CALLS_PER_DAY").unwrap_or("0"),
            "a whole number",
        )?,
        call_timeout_seconds,
        models: comma_list(src.get("TOOL_MODELS")),
        approval_seconds,
    })
}

/// Origins CORS allows in development when `CORS_ALLOWED_ORIGINS` is not set: the dev servers of a separate client
/// (Vite's 5173 and 5174) on both loopback names. Production allows none unless configured.
pub const DEV_CORS_ORIGINS: &[&str] = &[
    "http://localhost:5173",
    "http://localhost:5174",
    "http://127.0.0.1:5173",
    "http://127.0.0.1:5174",
];

/// A configuration problem, always naming the key at fault.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct ConfigError {
    /// The setting's environment name (or the file at fault).
    pub key: String,
    /// What is wrong with it, in one sentence.
    pub problem: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            problem: problem.into(),
        }
    }

    /// Names the file the bad value was read from, when it is not the environment.
    fn set_in(mut self, sources: &Sources) -> Self {
        if let Some(origin) = sources.origin(&self.key).filter(|o| o != ENVIRONMENT) {
            self.problem = format!("{} (in {origin})", self.problem);
        }
        self
    }
}

/// The name of the process environment among the sources.
const ENVIRONMENT: &str = "the environment";

/// A secret value whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where it is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Development (default, zero configuration) or production (strict checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Local use: defaults work, cookies may travel over plain HTTP.
    Development,
    /// Public deployment: a strong secret and secure cookies are required.
    Production,
}

/// Where outgoing email goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailBackend {
    /// Printed to the log (development default).
    Console,
    /// One `.eml` file per message in [`EmailConfig::file_path`].
    File,
    /// Sent through an SMTP server with STARTTLS.
    Smtp,
}

/// AI provider settings.
#[derive(Debug, Clone)]
pub struct AiConfig {
    /// Base URL without `/v1`.
    pub base_url: String,
    /// API key; `None` selects the built-in demo provider.
    pub api_key: Option<Secret>,
    /// Model used when neither the user nor the conversation picks one.
    pub default_model: String,
    /// Longest silence from the provider (before the reply or between chunks), in seconds.
    pub idle_timeout_seconds: u64,
    /// Retries of a failed request before its first token.
    pub max_retries: u32,
    /// Models that read images, for servers whose model list does not say (`capabilities.vision`).
    pub vision_models: Vec<String>,
    /// The embeddings model documents are searched with (`/v1/embeddings`); empty (`off`): full-text search only.
    pub embedding_model: String,
    /// The OCR model scanned PDFs are read with (`/v1/ocr`, Mistral's); empty (`off`): none.
    pub ocr_model: String,
}

/// Tools the model may call (issue #27).
#[derive(Debug, Clone)]
pub struct ToolsConfig {
    /// The web search tool's backend and where it is; `None`: no web search (the default).
    pub web_search: Option<WebSearchConfig>,
    /// Whether the page reader (fetching a URL's readable text) is offered.
    pub web_fetch_enabled: bool,
    /// Internal host names and networks MCP servers — and only they — may be reached at (the tools' guard refuses
    /// private, loopback and link-local addresses otherwise).
    pub mcp_allowed_hosts: Vec<String>,
    /// Whether staff may add MCP servers started as a local command (stdio); off by default.
    pub mcp_stdio_enabled: bool,
    /// Rounds of tool calls one reply may make before it must answer.
    pub max_rounds: u32,
    /// Tool calls a user may make per day (0: no limit).
    pub calls_per_day: u32,
    /// Longest a single tool call may run before the model is told it timed out.
    pub call_timeout_seconds: u64,
    /// Models taken to call functions when the provider's model list does not say.
    pub models: Vec<String>,
    /// How long a call marked "ask first" waits for the user's answer.
    pub approval_seconds: u64,
}

/// A web search backend.
#[derive(Debug, Clone)]
pub struct WebSearchConfig {
    /// SearXNG, Brave or Tavily.
    pub backend: SearchBackend,
    /// Its API's base URL (SearXNG: the instance; Brave and Tavily: their public API unless set).
    pub url: String,
    /// The key Brave and Tavily require.
    pub api_key: Option<Secret>,
}

/// The search backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchBackend {
    /// A SearXNG instance's JSON API (`/search?format=json`; the instance must allow the `json` format).
    Searxng,
    /// Brave Search's web search API (a key).
    Brave,
    /// Tavily's search API (a key).
    Tavily,
}

impl SearchBackend {
    /// Its name in the settings.
    pub fn name(self) -> &'static str {
        match self {
            Self::Searxng => "searxng",
            Self::Brave => "brave",
            Self::Tavily => "tavily",
        }
    }

    /// The backend named `name` (`searxng`, `brave`, `tavily`); `None` for `none` or anything else.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "searxng" => Some(Self::Searxng),
            "brave" => Some(Self::Brave),
            "tavily" => Some(Self::Tavily),
            _ => None,
        }
    }

    /// Where the backend's API is when no URL is set (SearXNG has none: it is self-hosted).
    pub fn default_url(self) -> Option<&'static str> {
        match self {
            Self::Searxng => None,
            Self::Brave => Some("https://api.search.brave.com"),
            Self::Tavily => Some("https://api.tavily.com"),
        }
    }
}

/// Where files live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStorage {
    /// A folder on this machine (the default: `data/files`).
    Local(PathBuf),
    /// An S3-compatible store (AWS S3, MinIO, Garage, R2…), shared by every instance.
    S3(S3Config),
}

/// An S3-compatible bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Endpoint URL (`https://s3.eu-west-3.amazonaws.com`, `http://127.0.0.1:9000`); `None`: AWS for the region.
    pub endpoint: Option<String>,
    /// Region (`us-east-1` unless set).
    pub region: String,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<Secret>,
}

/// Attachments: where they are kept and how large they may be.
#[derive(Debug, Clone)]
pub struct FilesConfig {
    /// The storage.
    pub storage: FileStorage,
    /// Largest file accepted, in bytes.
    pub max_file_bytes: u64,
    /// Most files one message may carry.
    pub max_files_per_message: usize,
    /// Bytes of files a user may keep (0: no limit).
    pub max_storage_per_user: u64,
    /// Largest image decoded, in pixels (width × height): larger ones are refused before any memory is taken.
    pub max_image_pixels: u64,
}

/// Outgoing email settings (Django's names).
#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// Which backend delivers mail.
    pub backend: EmailBackend,
    /// Folder for the file backend.
    pub file_path: PathBuf,
    /// SMTP host.
    pub host: Option<String>,
    /// SMTP port.
    pub port: u16,
    /// Upgrade SMTP connections with STARTTLS (Django's `EMAIL_USE_TLS`); off only for a relay on a trusted host.
    pub use_tls: bool,
    /// A PEM certificate authority trusted for STARTTLS besides the public roots (a private relay's own CA).
    pub tls_ca_file: Option<PathBuf>,
    /// SMTP user name.
    pub host_user: Option<String>,
    /// SMTP password.
    pub host_password: Option<Secret>,
    /// The `From:` address.
    pub default_from_email: String,
}

/// Security settings.
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// Signs tokens; required and strong in production.
    pub secret_key: Secret,
    /// Whether the session cookie carries `Secure`.
    pub session_cookie_secure: bool,
    /// HSTS max-age sent in production (0 turns it off).
    pub hsts_seconds: u64,
    /// Origins allowed by CORS and trusted for CSRF (`scheme://host[:port]`).
    pub cors_allowed_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers name the client (none by default).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where the development secret is kept when `SECRET_KEY` is not set (development only; see [`Config::load`]).
    pub secret_key_file: Option<PathBuf>,
    /// Whether the first account of the instance, when it is made by registering, becomes staff (a one-person
    /// install without a shell for `thicode createsuperuser`).
    pub first_user_is_staff: bool,
    /// The bearer token `/metrics` asks for (`METRICS_TOKEN`); with neither this nor an allowed address, `/metrics`
    /// does not exist.
    pub metrics_token: Option<Secret>,
    /// Client addresses (or networks) allowed to read `/metrics` without the token.
    pub metrics_allowed_addresses: Vec<ipnet::IpNet>,
}

/// Request and usage limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body accepted; bigger ones get 413.
    pub max_request_body_bytes: usize,
    /// Longest chat message, in characters.
    pub max_message_chars: usize,
    /// Messages a user may send per minute (0 = no limit).
    pub rate_limit_messages_per_minute: u32,
    /// Messages a user may send per day (0 = no limit).
    pub rate_limit_messages_per_day: u32,
    /// Requests one client address may make per minute to the anonymous API routes (0 = no limit).
    pub rate_limit_anonymous_per_minute: u32,
    /// Minutes after which a temporary chat nobody looked at or wrote in is forgotten (at least 1).
    pub temporary_chat_idle_minutes: u64,
    /// Largest file of conversations imported (`/settings/import`, `POST /api/chat/import/`), in bytes; also the
    /// most a ZIP archive may unpack to.
    pub max_import_bytes: u64,
}

/// All of ThiCode's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Development or production.
    pub env: Environment,
    /// Log filter in `tracing` target syntax (`info,thicode=debug`).
    pub log: String,
    /// Address the server listens on.
    pub site_addr: SocketAddr,
    /// Folder with the built client (`pkg/`) and public assets.
    pub site_root: PathBuf,
    /// Public address of the site, used in links and as the trusted origin.
    pub site_url: String,
    /// Another client's address for emailed links (`{frontend_url}/reset-password/{token}`); default: the site.
    pub frontend_url: Option<String>,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Security settings.
    pub security: SecurityConfig,
    /// AI provider settings.
    pub ai: AiConfig,
    /// Email settings.
    pub email: EmailConfig,
    /// Limits.
    pub limits: Limits,
    /// Attachments.
    pub files: FilesConfig,
    /// Tools the model may call.
    pub tools: ToolsConfig,
    /// The `Leptos.toml` that was read, if any.
    pub config_file: Option<PathBuf>,
}

impl Config {
    /// Loads and validates the configuration from the real sources. In development without `SECRET_KEY`, the secret
    /// is generated once and kept in the data folder (`data/secret_key`, mode 0600), so a restart does not end every
    /// API session.
    pub fn load(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        let sources = Sources::load(config_file)?;
        Self::from_sources(&sources)
            .map_err(|e| e.set_in(&sources))?
            .with_kept_secret()
    }

    /// In development without `SECRET_KEY`: the secret kept in `secret_key_file` (created on first use).
    pub fn with_kept_secret(mut self) -> Result<Self, ConfigError> {
        if let Some(file) = &self.security.secret_key_file {
            self.security.secret_key = Secret::new(kept_secret(file)?);
        }
        Ok(self)
    }

    /// Parses and validates settings; the first problem found is returned, naming its key.
    pub fn from_sources(src: &Sources) -> Result<Self, ConfigError> {
        let env = match src.get("THICODE_ENV").unwrap_or("development") {
            "development" | "dev" => Environment::Development,
            "production" | "prod" => Environment::Production,
            other => {
                return Err(ConfigError::new(
                    "THICODE_ENV",
                    format!("expected development or production, got {other:?}"),
                ));
            }
        };
        let production = env == Environment::Production;
        let path = |value: &str| absolute(&src.base_dir, Path::new(value));

        let site_addr_text = src.get("LEPTOS_SITE_ADDR").unwrap_or("127.0.0.1:3000");
        let site_addr: SocketAddr = parse_number("LEPTOS_SITE_ADDR", site_addr_text, "an address like 127.0.0.1:3000")?;
        let site_root = path(src.get("LEPTOS_SITE_ROOT").unwrap_or("target/site"));
        let site_url = match src.get("SITE_URL") {
            Some(url) => parse_origin("SITE_URL", url)?,
            None => format!("http://{site_addr}"),
        };

        let frontend_url = src
            .get("FRONTEND_URL")
            .filter(|url| !url.trim().is_empty())
            .map(|url| parse_origin("FRONTEND_URL", url))
            .transpose()?;

        let database_url = match src.get("DATABASE_URL") {
            None => format!("sqlite://{}", path("data/thicode.db").display()),
            Some(url) => normalise_database_url(url, &src.base_dir)?,
        };

        let secret_key = match src.get("SECRET_KEY") {
            Some(secret) => {
                if production {
                    check_secret_strength(secret).map_err(|problem| ConfigError::new("SECRET_KEY", problem))?;
                }
                Secret::new(secret)
            }
            None if production => {
                return Err(ConfigError::new(
                    "SECRET_KEY",
                    "required in production: set at least 32 random characters (`openssl rand -hex 32`)",
                ));
            }
            // Replaced by the secret kept in this file when the real sources are loaded (`Config::load`).
            None => Secret::new(random_secret()),
        };
        let secret_key_file = src
            .get("SECRET_KEY")
            .is_none()
            .then(|| path("data").join(DEV_SECRET_FILE));
        let trusted_proxies = src
            .get("TRUSTED_PROXIES")
            .map_or(Ok(Vec::new()), |v| parse_networks("TRUSTED_PROXIES", v))?;
        let metrics_allowed_addresses = src
            .get("METRICS_ALLOWED_ADDRESSES")
            .map_or(Ok(Vec::new()), |v| parse_networks("METRICS_ALLOWED_ADDRESSES", v))?;
        let metrics_token = match src.get("METRICS_TOKEN").map(str::trim).filter(|t| !t.is_empty()) {
            Some(token) if token.len() < 16 => {
                return Err(ConfigError::new(
                    "METRICS_TOKEN",
                    "must be at least 16 characters (a bearer token anyone could guess protects nothing)",
                ));
            }
            token => token.map(|t| Secret::new(t.to_string())),
        };
        let session_cookie_secure = match src.get("SESSION_COOKIE_SECURE") {
            Some(v) => parse_bool("SESSION_COOKIE_SECURE", v)?,
            None => production,
        };
        if production && !session_cookie_secure {
            return Err(ConfigError::new(
                "SESSION_COOKIE_SECURE",
                "must be true in production: session cookies must never travel over plain HTTP",
            ));
        }
        let hsts_seconds = match src.get("SECURE_HSTS_SECONDS") {
            Some(v) => parse_number("SECURE_HSTS_SECONDS", v, "a number of seconds")?,
            None => 31_536_000,
        };
        let cors_allowed_origins = match src.get("CORS_ALLOWED_ORIGINS") {
            Some(list) => list
                .split(',')
                .filter(|o| !o.trim().is_empty())
                .map(|o| parse_origin("CORS_ALLOWED_ORIGINS", o))
                .collect::<Result<Vec<_>, _>>()?,
            None if production => Vec::new(),
            None => DEV_CORS_ORIGINS.iter().map(|o| (*o).to_string()).collect(),
        };

        let ai = AiConfig {
            base_url: parse_http_url(
                "MISTRAL_BASE_URL",
                src.get("MISTRAL_BASE_URL").unwrap_or("https://api.mistral.ai"),
            )?,
            api_key: src.get("MISTRAL_API_KEY").map(Secret::new),
            default_model: src
                .get("MISTRAL_DEFAULT_MODEL")
                .unwrap_or("mistral-small-latest")
                .to_string(),
            idle_timeout_seconds: parse_number(
                "MISTRAL_TIMEOUT_SECONDS",
                src.get("MISTRAL_TIMEOUT_SECONDS").unwrap_or("60"),
                "a whole number of seconds",
            )?,
            max_retries: parse_number(
                "MISTRAL_MAX_RETRIES",
                src.get("MISTRAL_MAX_RETRIES").unwrap_or("3"),
                "a whole number",
            )?,
            vision_models: comma_list(src.get("VISION_MODELS")),
            embedding_model: model_or_off(src.get("EMBEDDING_MODEL"), "mistral-embed"),
            ocr_model: model_or_off(src.get("OCR_MODEL"), "mistral-ocr-latest"),
        };
        if ai.idle_timeout_seconds == 0 {
            return Err(ConfigError::new("MISTRAL_TIMEOUT_SECONDS", "must be at least 1"));
        }
        if ai.base_url.ends_with("/v1") {
            return Err(ConfigError::new(
                "MISTRAL_BASE_URL",
                "give the base URL without /v1 (e.g. https://api.mistral.ai)",
            ));
        }

        let backend = match src.get("EMAIL_BACKEND").unwrap_or("console") {
            "console" => EmailBackend::Console,
            "file" => EmailBackend::File,
            "smtp" => EmailBackend::Smtp,
            other => {
                return Err(ConfigError::new(
                    "EMAIL_BACKEND",
                    format!("expected console, file or smtp, got {other:?}"),
                ));
            }
        };
        let email = EmailConfig {
            file_path: path(src.get("EMAIL_FILE_PATH").unwrap_or("data/emails")),
            host: src.get("EMAIL_HOST").map(str::to_string),
            port: parse_number(
                "EMAIL_PORT",
                src.get("EMAIL_PORT").unwrap_or("587"),
                "a port number (1-65535)",
            )?,
            use_tls: src
                .get("EMAIL_USE_TLS")
                .map_or(Ok(true), |v| parse_bool("EMAIL_USE_TLS", v))?,
            tls_ca_file: src.get("EMAIL_TLS_CA_FILE").filter(|v| !v.trim().is_empty()).map(path),
            host_user: src.get("EMAIL_HOST_USER").map(str::to_string),
            host_password: src.get("EMAIL_HOST_PASSWORD").map(Secret::new),
            default_from_email: src
                .get("DEFAULT_FROM_EMAIL")
                .unwrap_or("ThiCode <noreply@localhost>")
                .to_string(),
            backend,
        };
        if email.backend == EmailBackend::Smtp && email.host.is_none() {
            return Err(ConfigError::new("EMAIL_HOST", "required when EMAIL_BACKEND is smtp"));
        }
        if email.port == 0 {
            return Err(ConfigError::new(
                "EMAIL_PORT",
                "expected a port number (1-65535), got \"0\"",
            ));
        }

        let limits = Limits {
            max_request_body_bytes: parse_number(
                "MAX_REQUEST_BODY_BYTES",
                src.get("MAX_REQUEST_BODY_BYTES").unwrap_or("2097152"),
                "a number of bytes",
            )?,
            max_message_chars: parse_number(
                "MAX_MESSAGE_CHARS",
                src.get("MAX_MESSAGE_CHARS").unwrap_or("32000"),
                "a whole number of characters",
            )?,
            rate_limit_messages_per_minute: parse_number(
                "RATE_LIMIT_MESSAGES_PER_MINUTE",
                src.get("RATE_LIMIT_MESSAGES_PER_MINUTE").unwrap_or("20"),
                "a whole number (0 turns the limit off)",
            )?,
            rate_limit_messages_per_day: parse_number(
                "RATE_LIMIT_MESSAGES_PER_DAY",
                src.get("RATE_LIMIT_MESSAGES_PER_DAY").unwrap_or("1000"),
                "a whole number (0 turns the limit off)",
            )?,
            rate_limit_anonymous_per_minute: parse_number(
                "RATE_LIMIT_ANONYMOUS_PER_MINUTE",
                src.get("RATE_LIMIT_ANONYMOUS_PER_MINUTE").unwrap_or("60"),
                "a whole number (0 turns the limit off)",
            )?,
            temporary_chat_idle_minutes: parse_number::<u64>(
                "TEMPORARY_CHAT_IDLE_MINUTES",
                src.get("TEMPORARY_CHAT_IDLE_MINUTES").unwrap_or("30"),
                "a whole number of minutes",
            )?
            .max(1),
            max_import_bytes: parse_number(
                "MAX_IMPORT_BYTES",
                src.get("MAX_IMPORT_BYTES").unwrap_or("104857600"),
                "a number of bytes",
            )?,
        };
        if limits.max_request_body_bytes < 1024 {
            return Err(ConfigError::new("MAX_REQUEST_BODY_BYTES", "must be at least 1024"));
        }
        let files = files_config(src, &path)?;

        let tools = tools_config(src)?;

        Ok(Self {
            env,
            log: src.get("RUST_LOG").unwrap_or("info,sqlx=warn").to_string(),
            site_addr,
            site_root,
            site_url,
            frontend_url,
            database_url,
            security: SecurityConfig {
                secret_key,
                session_cookie_secure,
                hsts_seconds,
                cors_allowed_origins,
                trusted_proxies,
                secret_key_file,
                first_user_is_staff: src
                    .get("FIRST_USER_IS_STAFF")
                    .map_or(Ok(false), |v| parse_bool("FIRST_USER_IS_STAFF", v))?,
                metrics_token,
                metrics_allowed_addresses,
            },
            ai,
            email,
            limits,
            files,
            tools,
            config_file: src.config_file.clone(),
        })
    }

    /// The largest body of a post that carries files: every file a message may carry at its largest, and the
    /// ordinary limit for the rest of the form.
    pub fn max_upload_body_bytes(&self) -> u64 {
        self.files
            .max_file_bytes
            .saturating_mul(self.files.max_files_per_message as u64)
            .saturating_add(self.limits.max_request_body_bytes as u64)
    }

    /// Whether the production checks and headers apply.
    pub fn is_production(&self) -> bool {
        self.env == Environment::Production
    }

    /// Origins whose unsafe requests are accepted: the site itself plus the CORS list.
    pub fn trusted_origins(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.site_url.as_str()).chain(self.security.cors_allowed_origins.iter().map(String::as_str))
    }
}

/// The attachment settings: the local folder unless `S3_BUCKET` names a bucket.
fn files_config(src: &Sources, path: &dyn Fn(&str) -> PathBuf) -> Result<FilesConfig, ConfigError> {
    let text = |key: &'static str| src.get(key).map(str::trim).filter(|v| !v.is_empty());
    let storage = match text("S3_BUCKET") {
        None => FileStorage::Local(path(text("FILES_DIR").unwrap_or("data/files"))),
        Some(bucket) => FileStorage::S3(S3Config {
            bucket: bucket.to_string(),
            endpoint: text("S3_ENDPOINT")
                .map(|url| parse_http_url("S3_ENDPOINT", url))
                .transpose()?,
            region: text("S3_REGION").unwrap_or("us-east-1").to_string(),
            access_key_id: text("S3_ACCESS_KEY_ID").map(str::to_string),
            secret_access_key: text("S3_SECRET_ACCESS_KEY").map(Secret::new),
        }),
    };
    let config = FilesConfig {
        storage,
        max_file_bytes: parse_number(
            "MAX_FILE_BYTES",
            text("MAX_FILE_BYTES").unwrap_or("20971520"),
            "a number of bytes",
        )?,
        max_files_per_message: parse_number(
            "MAX_FILES_PER_MESSAGE",
            text("MAX_FILES_PER_MESSAGE").unwrap_or("10"),
            "a whole number",
        )?,
        max_storage_per_user: parse_number(
            "MAX_FILE_STORAGE_PER_USER",
            text("MAX_FILE_STORAGE_PER_USER").unwrap_or("524288000"),
            "a number of bytes (0 turns the limit off)",
        )?,
        max_image_pixels: parse_number(
            "MAX_IMAGE_PIXELS",
            text("MAX_IMAGE_PIXELS").unwrap_or("50000000"),
            "a number of pixels",
        )?,
    };
    if config.max_file_bytes < 1024 {
        return Err(ConfigError::new("MAX_FILE_BYTES", "must be at least 1024"));
    }
    if config.max_files_per_message == 0 {
        return Err(ConfigError::new("MAX_FILES_PER_MESSAGE", "must be at least 1"));
    }
    if config.max_image_pixels < 1_000_000 {
        return Err(ConfigError::new("MAX_IMAGE_PIXELS", "must be at least 1000000"));
    }
    Ok(config)
}

/// Checks the scheme and makes a relative SQLite path absolute (against the config folder).
fn normalise_database_url(url: &str, base_dir: &Path) -> Result<String, ConfigError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_string());
    }
    let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
        return Err(ConfigError::new(
            "DATABASE_URL",
            "expected sqlite://PATH or postgres://USER@HOST/NAME",
        ));
    };
    let (file, query) = rest.split_once('?').map_or((rest, None), |(f, q)| (f, Some(q)));
    if file.is_empty() {
        return Err(ConfigError::new("DATABASE_URL", "the SQLite URL names no file"));
    }
    let file = if file == ":memory:" {
        file.to_string()
    } else {
        absolute(base_dir, Path::new(file)).display().to_string()
    };
    Ok(match query {
        Some(q) => format!("sqlite://{file}?{q}"),
        None => format!("sqlite://{file}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_sources(&Sources::from_pairs(Path::new("/srv/thicode"), pairs.iter().copied()))
    }

    #[test]
    fn zero_configuration_gives_a_working_development_setup() {
        let config = load(&[]).expect("defaults are valid");
        assert_eq!(config.env, Environment::Development);
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.database_url, "sqlite:///srv/thicode/data/thicode.db");
        assert_eq!(config.site_root, PathBuf::from("/srv/thicode/target/site"));
        assert_eq!(config.email.backend, EmailBackend::Console);
        assert!(config.security.secret_key.expose().len() >= 32);
        assert!(!config.security.session_cookie_secure);
    }

    #[test]
    fn tools_are_off_until_configured_and_their_settings_are_checked() {
        let config = load(&[]).unwrap();
        assert!(config.tools.web_search.is_none());
        assert!(!config.tools.web_fetch_enabled && !config.tools.mcp_stdio_enabled);
        assert_eq!((config.tools.max_rounds, config.tools.calls_per_day), (8, 0));

        let config = load(&[
            ("WEB_SEARCH_BACKEND", "searxng"),
            ("WEB_SEARCH_URL", "http://127.0.0.1:8888/"),
            ("WEB_FETCH_ENABLED", "yes"),
            ("MCP_ALLOWED_HOSTS", "mcp.internal, 10.0.0.0/8,[::1], 127.0.0.1"),
            ("TOOL_MAX_ROUNDS", "3"),
            ("TOOL_CALLS_PER_DAY", "200"),
        ])
        .unwrap();
        let search = config.tools.web_search.unwrap();
        assert_eq!(
            (search.backend, search.url.as_str()),
            (SearchBackend::Searxng, "http://127.0.0.1:8888")
        );
        assert!(config.tools.web_fetch_enabled);
        assert_eq!(
            config.tools.mcp_allowed_hosts,
            ["mcp.internal", "10.0.0.0/8", "[::1]", "127.0.0.1"]
        );
        assert_eq!((config.tools.max_rounds, config.tools.calls_per_day), (3, 200));

        let brave = load(&[("WEB_SEARCH_BACKEND", "brave"), ("WEB_SEARCH_API_KEY", "secret-key")]).unwrap();
        let search = brave.tools.web_search.unwrap();
        assert_eq!(search.url, "https://api.search.brave.com");
        assert!(
            !format!("{search:?}").contains("secret-key"),
            "the key is never printed"
        );

        for (pairs, key) in [
            (&[("WEB_SEARCH_BACKEND", "google")][..], "WEB_SEARCH_BACKEND"),
            (&[("WEB_SEARCH_BACKEND", "searxng")][..], "WEB_SEARCH_URL"),
            (
                &[("WEB_SEARCH_BACKEND", "searxng"), ("WEB_SEARCH_URL", "searx.local")][..],
                "WEB_SEARCH_URL",
            ),
            (&[("WEB_SEARCH_BACKEND", "tavily")][..], "WEB_SEARCH_API_KEY"),
            (&[("WEB_FETCH_ENABLED", "maybe")][..], "WEB_FETCH_ENABLED"),
            (&[("MCP_ALLOWED_HOSTS", "http://mcp.internal")][..], "MCP_ALLOWED_HOSTS"),
            (&[("MCP_ALLOWED_HOSTS", "10.0.0.0/33")][..], "MCP_ALLOWED_HOSTS"),
            (&[("TOOL_MAX_ROUNDS", "0")][..], "TOOL_MAX_ROUNDS"),
            (&[("TOOL_MAX_ROUNDS", "many")][..], "TOOL_MAX_ROUNDS"),
            (&[("TOOL_CALLS_PER_DAY", "-1")][..], "TOOL_CALLS_PER_DAY"),
        ] {
            assert_eq!(load(pairs).expect_err(key).key, key, "{pairs:?}");
        }
    }

    #[test]
    fn production_refuses_a_missing_or_weak_secret_and_names_the_key() {
        let err = load(&[("THICODE_ENV", "production")]).expect_err("no secret");
        assert_eq!(err.key, "SECRET_KEY");
        let err = load(&[("THICODE_ENV", "production"), ("SECRET_KEY", "short")]).expect_err("short");
        assert!(err.to_string().starts_with("SECRET_KEY: too short"), "{err}");
        let err = load(&[("THICODE_ENV", "production"), ("SECRET_KEY", &"ab".repeat(20))]).expect_err("repetitive");
        assert!(err.to_string().contains("repetitive"), "{err}");
        let err = load(&[
            ("THICODE_ENV", "production"),
            ("SECRET_KEY", "django-insecure-0123456789abcdefghijklmn"),
        ])
        .expect_err("placeholder");
        assert!(err.to_string().contains("placeholder"), "{err}");
    }

    #[test]
    fn production_refuses_insecure_cookies() {
        let strong = "q7G2x9LmP4vR8tZ1wK6yN3bH5cJ0dF2s";
        let err = load(&[
            ("THICODE_ENV", "production"),
            ("SECRET_KEY", strong),
            ("SESSION_COOKIE_SECURE", "false"),
        ])
        .expect_err("insecure cookie");
        assert_eq!(err.key, "SESSION_COOKIE_SECURE");
        let ok = load(&[("THICODE_ENV", "production"), ("SECRET_KEY", strong)]).expect("valid production config");
        assert!(ok.security.session_cookie_secure);
        assert!(format!("{ok:?}").contains("Secret(***)") && !format!("{ok:?}").contains(strong));
    }

    #[test]
    fn malformed_values_name_their_key() {
        for (key, value) in [
            ("THICODE_ENV", "staging"),
            ("LEPTOS_SITE_ADDR", "localhost"),
            ("DATABASE_URL", "mysql://x"),
            ("EMAIL_BACKEND", "sendgrid"),
            ("EMAIL_PORT", "abc"),
            ("EMAIL_PORT", "70000"),
            ("SESSION_COOKIE_SECURE", "maybe"),
            ("CORS_ALLOWED_ORIGINS", "https://ok.example,not-an-origin"),
            ("MISTRAL_BASE_URL", "https://api.mistral.ai/v1"),
            ("MISTRAL_BASE_URL", "ftp://x"),
            ("RATE_LIMIT_MESSAGES_PER_DAY", "-1"),
            ("MAX_REQUEST_BODY_BYTES", "10"),
        ] {
            let err = load(&[(key, value)]).expect_err(key);
            assert_eq!(err.key, key, "{key}={value} gave {err}");
        }
        let err = load(&[("EMAIL_BACKEND", "smtp")]).expect_err("smtp without host");
        assert_eq!(err.key, "EMAIL_HOST");
    }

    #[test]
    fn toml_is_the_weakest_source_and_unknown_keys_are_refused() {
        let mut src = Sources::from_pairs(Path::new("/p"), [("EMAIL_PORT", "2525")]);
        src.merge_toml("[email]\nport = 25\nbackend = \"file\"\n[security]\ncors_allowed_origins = [\"https://a.example\", \"http://localhost:5173\"]\n[package.metadata.leptos]\noutput-name = \"x\"\n", "Leptos.toml")
            .expect("valid toml");
        let config = Config::from_sources(&src).expect("valid");
        assert_eq!(config.email.port, 2525);
        assert_eq!(config.email.backend, EmailBackend::File);
        assert_eq!(config.email.file_path, PathBuf::from("/p/data/emails"));
        assert_eq!(
            config.security.cors_allowed_origins,
            ["https://a.example", "http://localhost:5173"]
        );

        let err = Sources::default()
            .merge_toml("[email]\nprot = 25\n", "Leptos.toml")
            .expect_err("typo");
        assert!(err.to_string().contains("unknown setting `[email] prot`"), "{err}");
        let err = Sources::default()
            .merge_toml("[email\n", "Leptos.toml")
            .expect_err("bad toml");
        assert!(err.to_string().starts_with("Leptos.toml: not valid TOML"), "{err}");
    }

    #[test]
    fn values_keep_their_text_and_errors_name_the_file_they_came_from() {
        let src = Sources::from_pairs(Path::new("/p"), [("EMAIL_HOST_PASSWORD", "\"quoted\" [x] 007")]);
        let config = Config::from_sources(&src).expect("valid");
        assert_eq!(
            config.email.host_password.as_ref().map(Secret::expose),
            Some("\"quoted\" [x] 007")
        );

        let mut src = Sources::from_pairs(Path::new("/p"), []);
        src.merge_toml("[email]\nport = \"x\"\n", "/p/Leptos.toml")
            .expect("valid toml");
        let err = Config::from_sources(&src).expect_err("bad port").set_in(&src);
        assert!(
            err.to_string().starts_with("EMAIL_PORT: expected a port number"),
            "{err}"
        );
        assert!(err.to_string().ends_with("(in /p/Leptos.toml)"), "{err}");
        let src = Sources::from_pairs(Path::new("/p"), [("EMAIL_PORT", "x")]);
        let err = Config::from_sources(&src).expect_err("bad port").set_in(&src);
        assert!(err.to_string().ends_with("(in settings)"), "{err}");
    }

    #[test]
    fn shipped_files_document_and_parse_every_setting() {
        let example = include_str!("../../../.env.example");
        for key in KEYS {
            assert!(
                example.contains(&format!("# {}=", key.env)),
                ".env.example lacks {}",
                key.env
            );
        }
        let mut src = Sources::from_pairs(Path::new("/p"), []);
        src.merge_toml(include_str!("../../../Leptos.toml"), "Leptos.toml")
            .expect("shipped Leptos.toml parses");
        let config = Config::from_sources(&src).expect("shipped Leptos.toml is valid");
        assert_eq!(config.database_url, "sqlite:///p/data/thicode.db");
    }

    #[test]
    fn database_urls_are_normalised() {
        assert_eq!(
            load(&[("DATABASE_URL", "sqlite://db/x.db?mode=rwc")])
                .expect("ok")
                .database_url,
            "sqlite:///srv/thicode/db/x.db?mode=rwc"
        );
        assert_eq!(
            load(&[("DATABASE_URL", "sqlite:///abs/x.db")])
                .expect("ok")
                .database_url,
            "sqlite:///abs/x.db"
        );
        assert_eq!(
            load(&[("DATABASE_URL", "postgres://u@h/db")]).expect("ok").database_url,
            "postgres://u@h/db"
        );
    }
}
