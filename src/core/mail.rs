//! Outgoing email through lettre: `console` (development: printed on standard output, like Django's console
//! backend), `file` (one `.eml` per message in a folder; tests read them) or `smtp` (STARTTLS and credentials, e.g.
//! SendGrid at smtp.sendgrid.net:587 with user `apikey`). Every message has a text and an HTML part. Mail that a
//! request asks for is composed and sent in the background by the [`Outbox`], so an answer never waits for (nor
//! reveals anything through the timing of) a lookup or a relay.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::core::config::{ConfigError, EmailBackend, EmailConfig};

/// Where mail goes, built once from the configuration.
#[derive(Clone)]
pub enum Mailer {
    /// Printed on standard output.
    Console,
    /// Written as `.eml` files.
    File(AsyncFileTransport<Tokio1Executor>),
    /// Sent through an SMTP relay.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Console => "Mailer::Console",
            Self::File(_) => "Mailer::File",
            Self::Smtp(_) => "Mailer::Smtp",
        })
    }
}

/// A message to send: one recipient, a subject, a text and an HTML body.
#[derive(Debug, Clone)]
pub struct Email {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// Why a message was not sent. Its text may quote the relay's answer (which can name the recipient); [`MailError::kind`]
/// is what the logs get.
#[derive(Debug, thiserror::Error)]
#[error("email not sent: {0}")]
pub struct MailError(String, &'static str);

impl MailError {
    fn new(kind: &'static str, detail: impl std::fmt::Display) -> Self {
        Self(detail.to_string(), kind)
    }

    /// The kind of failure, without the recipient or the relay's words.
    pub fn kind(&self) -> &'static str {
        self.1
    }
}

fn smtp_error(e: &lettre::transport::smtp::Error) -> MailError {
    let kind = if e.is_permanent() {
        "the relay refused the message"
    } else if e.is_transient() {
        "the relay deferred the message"
    } else if e.is_timeout() {
        "the relay timed out"
    } else if e.is_tls() {
        "TLS with the relay failed"
    } else {
        "the relay could not be reached"
    };
    MailError::new(kind, e)
}

impl Mailer {
    /// Builds the configured backend; the file backend's folder is created now.
    pub fn from_config(config: &EmailConfig) -> Result<Self, ConfigError> {
        match config.backend {
            EmailBackend::Console => Ok(Self::Console),
            EmailBackend::File => {
                std::fs::create_dir_all(&config.file_path).map_err(|e| ConfigError {
                    key: "EMAIL_FILE_PATH".into(),
                    problem: format!("cannot create {}: {e}", config.file_path.display()),
                })?;
                Ok(Self::File(AsyncFileTransport::new(&config.file_path)))
            }
            EmailBackend::Smtp => {
                let host = config.host.as_deref().unwrap_or_default();
                let builder = if config.use_tls {
                    // STARTTLS is required: a relay that does not offer it gets nothing in clear text.
                    let mut tls = TlsParameters::builder(host.to_string());
                    if let Some(file) = &config.tls_ca_file {
                        let problem = |problem: String| ConfigError {
                            key: "EMAIL_TLS_CA_FILE".into(),
                            problem,
                        };
                        let pem =
                            std::fs::read(file).map_err(|e| problem(format!("cannot read {}: {e}", file.display())))?;
                        let not_pem = || problem(format!("{} holds no PEM certificate", file.display()));
                        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                            return Err(not_pem());
                        }
                        let ca = Certificate::from_pem(&pem).map_err(|_| not_pem())?;
                        tls = tls.add_root_certificate(ca);
                    }
                    let tls = tls.build().map_err(|e| ConfigError {
                        key: "EMAIL_HOST".into(),
                        problem: e.to_string(),
                    })?;
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).tls(Tls::Required(tls))
                } else {
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                };
                let mut builder = builder.port(config.port);
                if let (Some(user), Some(password)) = (&config.host_user, &config.host_password) {
                    builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_string()));
                }
                Ok(Self::Smtp(builder.build()))
            }
        }
    }

    /// Sends `email` from `from`.
    pub async fn send(&self, from: &str, email: Email) -> Result<(), MailError> {
        let from: Mailbox = from.parse().map_err(|e| {
            MailError::new(
                "DEFAULT_FROM_EMAIL is not an address",
                format!("DEFAULT_FROM_EMAIL: {e}"),
            )
        })?;
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| MailError::new("the recipient is not an address", format!("recipient: {e}")))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(email.subject)
            .multipart(MultiPart::alternative_plain_html(email.text, email.html))
            .map_err(|e| MailError::new("the message could not be built", e))?;
        match self {
            Self::Console => {
                print_message(&message);
                Ok(())
            }
            Self::File(transport) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::new("the mail file could not be written", e)),
            Self::Smtp(transport) => transport.send(message).await.map(|_| ()).map_err(|e| smtp_error(&e)),
        }
    }
}

#[allow(clippy::print_stdout)] // the console backend's whole purpose
fn print_message(message: &Message) {
    println!("{}\n{}", String::from_utf8_lossy(&message.formatted()), "-".repeat(79));
}

/// Most messages sent at once; more wait for a turn.
const CONCURRENT_SENDS: usize = 4;

/// Most messages waiting or being sent; more are refused (and logged) rather than held in memory without bound.
const OUTBOX_CAPACITY: usize = 1024;

/// Waits before the second and third attempt at a failing send.
const RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(10)];

/// Mail composed and sent in the background, each message in a task of its own (at most [`CONCURRENT_SENDS`] at a
/// time) with two retries; a message that still fails is logged (never its recipient or content). A task that
/// panics still counts as done, so [`Outbox::idle`] always returns. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<OutboxInner>,
}

struct OutboxInner {
    metrics: crate::core::metrics::Metrics,
    mailer: Mailer,
    from: String,
    turns: tokio::sync::Semaphore,
    pending: AtomicUsize,
    idle: tokio::sync::Notify,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Outbox({} pending)", self.inner.pending.load(Ordering::SeqCst))
    }
}

/// Counts a message as pending for as long as it lives (dropped on success, failure or panic).
struct Pending(Arc<OutboxInner>);

impl Drop for Pending {
    fn drop(&mut self) {
        if self.0.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Outbox {
    /// An outbox sending through `mailer` from `from`, counted in `metrics`.
    pub fn new(mailer: Mailer, from: String, metrics: crate::core::metrics::Metrics) -> Self {
        Self {
            inner: Arc::new(OutboxInner {
                metrics,
                mailer,
                from,
                turns: tokio::sync::Semaphore::new(CONCURRENT_SENDS),
                pending: AtomicUsize::new(0),
                idle: tokio::sync::Notify::new(),
            }),
        }
    }

    /// Queues `compose`: it runs after the current request, and the mail it yields (if any) is sent then.
    pub fn post(&self, compose: impl Future<Output = Option<Email>> + Send + 'static) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!("email not queued: no async runtime");
            return;
        };
        if self.inner.pending.fetch_add(1, Ordering::SeqCst) >= OUTBOX_CAPACITY {
            drop(Pending(self.inner.clone()));
            self.inner.metrics.mail_failed();
            tracing::error!("email not queued: the outbox is full");
            return;
        }
        let pending = Pending(self.inner.clone());
        runtime.spawn(async move {
            let inner = pending.0.clone();
            let Ok(_turn) = inner.turns.acquire().await else { return };
            if let Some(email) = compose.await {
                inner.metrics.mail_queued();
                if send_with_retries(&inner.mailer, &inner.from, email).await {
                    inner.metrics.mail_sent();
                } else {
                    inner.metrics.mail_failed();
                }
            }
            drop(pending);
        });
    }

    /// Returns once every queued message has been sent or given up (tests, and a graceful shutdown).
    pub async fn idle(&self) {
        loop {
            let notified = self.inner.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.inner.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Sends `email`, trying again on failure; whether it was sent.
async fn send_with_retries(mailer: &Mailer, from: &str, email: Email) -> bool {
    let attempts = RETRY_DELAYS.len() + 1;
    for attempt in 1..=attempts {
        match mailer.send(from, email.clone()).await {
            Ok(()) => return true,
            Err(e) if attempt < attempts => {
                tracing::warn!(error = %e.kind(), attempt, "email not sent; trying again");
                tokio::time::sleep(RETRY_DELAYS[attempt - 1]).await;
            }
            Err(e) => tracing::error!(error = %e.kind(), attempts, "email not sent; giving up"),
        }
    }
    false
}
