//! Outgoing email through lettre: `console` (development: printed on standard output, like Django's console
//! backend), `file` (one `.eml` per message in a folder; tests read them) or `smtp` (STARTTLS and credentials, e.g.
//! SendGrid at smtp.sendgrid.net:587 with user `apikey`). Every message has a text and an HTML part. Mail that a
//! request asks for is composed and sent in the background by the [`Outbox`], so an answer never waits for (nor
//! reveals anything through the timing of) a lookup or a relay.

use std::future::Future;
use std::pin::Pin;
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

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
#[error("email not sent: {0}")]
pub struct MailError(String);

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
        let from: Mailbox = from
            .parse()
            .map_err(|e| MailError(format!("DEFAULT_FROM_EMAIL: {e}")))?;
        let to: Mailbox = email.to.parse().map_err(|e| MailError(format!("recipient: {e}")))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(email.subject)
            .multipart(MultiPart::alternative_plain_html(email.text, email.html))
            .map_err(|e| MailError(e.to_string()))?;
        match self {
            Self::Console => {
                print_message(&message);
                Ok(())
            }
            Self::File(transport) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError(e.to_string())),
            Self::Smtp(transport) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError(e.to_string())),
        }
    }
}

#[allow(clippy::print_stdout)] // the console backend's whole purpose
fn print_message(message: &Message) {
    println!("{}\n{}", String::from_utf8_lossy(&message.formatted()), "-".repeat(79));
}

/// A message to compose in the background: it looks up what it needs and yields the mail, or nothing to send.
type Job = Pin<Box<dyn Future<Output = Option<Email>> + Send>>;

/// How many jobs may wait; more are refused (and logged) rather than held in memory without bound.
const OUTBOX_CAPACITY: usize = 256;

/// Waits before the second and third attempt at a failing send.
const RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(10)];

/// A small in-process queue of mail: one worker composes each message and sends it, with two retries; a message that
/// still fails is logged (never its recipient or content). Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<OutboxInner>,
}

struct OutboxInner {
    jobs: tokio::sync::mpsc::Sender<Job>,
    pending: AtomicUsize,
    idle: tokio::sync::Notify,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Outbox({} pending)", self.inner.pending.load(Ordering::SeqCst))
    }
}

impl Outbox {
    /// Starts the worker on the current Tokio runtime, sending through `mailer` from `from`.
    pub fn start(mailer: Mailer, from: String) -> Self {
        let (jobs, mut queue) = tokio::sync::mpsc::channel::<Job>(OUTBOX_CAPACITY);
        let inner = Arc::new(OutboxInner {
            jobs,
            pending: AtomicUsize::new(0),
            idle: tokio::sync::Notify::new(),
        });
        let worker = Arc::downgrade(&inner);
        let work = async move {
            while let Some(job) = queue.recv().await {
                if let Some(email) = job.await {
                    send_with_retries(&mailer, &from, email).await;
                }
                let Some(inner) = worker.upgrade() else { break };
                if inner.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
                    inner.idle.notify_waiters();
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(work);
            }
            Err(_) => tracing::warn!("no async runtime: the outbox will not send mail"),
        }
        Self { inner }
    }

    /// Queues `compose`: it runs after the current request, in the worker, and its mail (if any) is sent then.
    pub fn post(&self, compose: impl Future<Output = Option<Email>> + Send + 'static) {
        self.inner.pending.fetch_add(1, Ordering::SeqCst);
        if self.inner.jobs.try_send(Box::pin(compose)).is_err() {
            tracing::error!("email not queued: the outbox is full or stopped");
            if self.inner.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
                self.inner.idle.notify_waiters();
            }
        }
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

async fn send_with_retries(mailer: &Mailer, from: &str, email: Email) {
    let attempts = RETRY_DELAYS.len() + 1;
    for attempt in 1..=attempts {
        match mailer.send(from, email.clone()).await {
            Ok(()) => return,
            Err(e) if attempt < attempts => {
                tracing::warn!(error = %e, attempt, "email not sent; trying again");
                tokio::time::sleep(RETRY_DELAYS[attempt - 1]).await;
            }
            Err(e) => tracing::error!(error = %e, attempts, "email not sent; giving up"),
        }
    }
}
