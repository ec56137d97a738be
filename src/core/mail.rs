//! Outgoing email through lettre: `console` (development: printed on standard output, like Django's console
//! backend), `file` (one `.eml` per message in a folder; tests read them) or `smtp` (STARTTLS and credentials, e.g.
//! SendGrid at smtp.sendgrid.net:587 with user `apikey`). Every message has a text and an HTML part.

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
