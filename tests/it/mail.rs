//! The SMTP path for real: lettre's client talks to a minimal SMTP server on 127.0.0.1 — in clear text as to a local
//! relay, and with STARTTLS and credentials as to SendGrid, the server's certificate issued by a test CA that the
//! mailer trusts through `EMAIL_TLS_CA_FILE`.

use std::path::Path;

use thicode::core::config::{Config, Sources};
use thicode::core::mail::{Email, Mailer};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Accepts one SMTP session and returns (envelope commands, message data).
async fn smtp_server(listener: TcpListener) -> (Vec<String>, String) {
    let (stream, _) = listener.accept().await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 test ESMTP\r\n").await.unwrap();
    let (mut commands, mut data) = (Vec::new(), String::new());
    while let Some(line) = lines.next_line().await.unwrap() {
        let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        commands.push(line.clone());
        match verb.as_str() {
            "EHLO" => write.write_all(b"250-test\r\n250 8BITMIME\r\n").await.unwrap(),
            "DATA" => {
                write.write_all(b"354 end with .\r\n").await.unwrap();
                while let Some(body) = lines.next_line().await.unwrap() {
                    if body == "." {
                        break;
                    }
                    data.push_str(&body);
                    data.push('\n');
                }
                write.write_all(b"250 queued\r\n").await.unwrap();
                // The pooled client keeps the connection for later messages; the test has what it needs.
                break;
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await.unwrap();
                break;
            }
            _ => write.write_all(b"250 ok\r\n").await.unwrap(),
        }
    }
    (commands, data)
}

#[tokio::test]
async fn smtp_backend_delivers_text_and_html_parts() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = tokio::spawn(smtp_server(listener));
    let settings = [
        ("EMAIL_BACKEND", "smtp"),
        ("EMAIL_HOST", "127.0.0.1"),
        ("EMAIL_PORT", port.as_str()),
        ("EMAIL_USE_TLS", "false"),
    ];
    let config = Config::from_sources(&Sources::from_pairs(Path::new("/tmp"), settings)).unwrap();
    let mailer = Mailer::from_config(&config.email).unwrap();
    let email = Email {
        to: "ada@example.com".into(),
        subject: "Hello over SMTP".into(),
        text: "plain body".into(),
        html: "<p>html body</p>".into(),
    };
    mailer.send("ThiCode <noreply@example.com>", email).await.unwrap();
    let (commands, data) = server.await.unwrap();
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("MAIL FROM:<noreply@example.com>")),
        "{commands:?}"
    );
    assert!(
        commands.iter().any(|c| c.starts_with("RCPT TO:<ada@example.com>")),
        "{commands:?}"
    );
    assert!(data.contains("Subject: Hello over SMTP"), "{data}");
    assert!(
        data.contains("plain body") && data.contains("<p>html body</p>"),
        "{data}"
    );
    assert!(data.contains("multipart/alternative"), "{data}");
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_an_error_not_a_panic() {
    let settings = [
        ("EMAIL_BACKEND", "smtp"),
        ("EMAIL_HOST", "127.0.0.1"),
        ("EMAIL_PORT", "1"),
        ("EMAIL_USE_TLS", "false"),
    ];
    let config = Config::from_sources(&Sources::from_pairs(Path::new("/tmp"), settings)).unwrap();
    let mailer = Mailer::from_config(&config.email).unwrap();
    let email = Email {
        to: "ada@example.com".into(),
        subject: "x".into(),
        text: "x".into(),
        html: "x".into(),
    };
    assert!(mailer.send("noreply@example.com", email).await.is_err());
}

/// A test certificate authority and a certificate for `localhost` issued by it: (CA PEM, TLS acceptor).
fn tls_for_localhost() -> (String, tokio_rustls::TlsAcceptor) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    use tokio_rustls::rustls;
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "ThiCode test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    (ca.pem(), tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

/// One SMTP session that offers STARTTLS and, once encrypted, AUTH: (commands before TLS, commands after, data).
async fn starttls_server(listener: TcpListener, tls: tokio_rustls::TlsAcceptor) -> (Vec<String>, Vec<String>, String) {
    let (stream, _) = listener.accept().await.unwrap();
    let mut plain = BufReader::new(stream);
    plain.get_mut().write_all(b"220 test ESMTP\r\n").await.unwrap();
    let mut before = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        plain.read_line(&mut line).await.unwrap();
        let command = line.trim_end().to_string();
        before.push(command.clone());
        match command.to_ascii_uppercase().as_str() {
            c if c.starts_with("EHLO") => plain
                .get_mut()
                .write_all(b"250-test\r\n250-STARTTLS\r\n250 8BITMIME\r\n")
                .await
                .unwrap(),
            "STARTTLS" => {
                plain.get_mut().write_all(b"220 go ahead\r\n").await.unwrap();
                break;
            }
            // Anything else before encryption would leak: refuse it.
            _ => plain.get_mut().write_all(b"530 STARTTLS first\r\n").await.unwrap(),
        }
    }
    let encrypted = tls.accept(plain.into_inner()).await.unwrap();
    let mut secure = BufReader::new(encrypted);
    let (mut after, mut data) = (Vec::new(), String::new());
    loop {
        line.clear();
        if secure.read_line(&mut line).await.unwrap() == 0 {
            break;
        }
        let command = line.trim_end().to_string();
        after.push(command.clone());
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
            "AUTH" => b"235 authenticated\r\n",
            "DATA" => {
                secure.get_mut().write_all(b"354 end with .\r\n").await.unwrap();
                loop {
                    line.clear();
                    secure.read_line(&mut line).await.unwrap();
                    if line.trim_end() == "." {
                        break;
                    }
                    data.push_str(&line);
                }
                secure.get_mut().write_all(b"250 queued\r\n").await.unwrap();
                break;
            }
            _ => b"250 ok\r\n",
        };
        secure.get_mut().write_all(reply).await.unwrap();
    }
    (before, after, data)
}

#[tokio::test]
async fn smtp_sends_only_after_starttls_with_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, acceptor) = tls_for_localhost();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = tokio::spawn(starttls_server(listener, acceptor));
    let settings = [
        ("EMAIL_BACKEND", "smtp"),
        ("EMAIL_HOST", "localhost"),
        ("EMAIL_PORT", port.as_str()),
        ("EMAIL_HOST_USER", "apikey"),
        ("EMAIL_HOST_PASSWORD", "SG.secret"),
        ("EMAIL_TLS_CA_FILE", ca_file.to_str().unwrap()),
    ];
    let config = Config::from_sources(&Sources::from_pairs(dir.path(), settings)).unwrap();
    assert!(config.email.use_tls, "STARTTLS is the default");
    let mailer = Mailer::from_config(&config.email).unwrap();
    let email = Email {
        to: "ada@example.com".into(),
        subject: "Over TLS".into(),
        text: "secret plain".into(),
        html: "<p>secret html</p>".into(),
    };
    mailer.send("ThiCode <noreply@example.com>", email).await.unwrap();
    let (before, after, data) = server.await.unwrap();
    assert_eq!(before.len(), 2, "only EHLO and STARTTLS in clear text: {before:?}");
    assert_eq!(before[1], "STARTTLS");
    let auth = after.iter().find(|c| c.starts_with("AUTH")).expect("credentials sent");
    let expected = "AUTH PLAIN AGFwaWtleQBTRy5zZWNyZXQ="; // base64 of "\0apikey\0SG.secret"
    assert_eq!(auth, expected, "{after:?}");
    assert!(
        after.iter().any(|c| c.starts_with("RCPT TO:<ada@example.com>")),
        "{after:?}"
    );
    assert!(
        data.contains("Subject: Over TLS") && data.contains("secret plain"),
        "{data}"
    );
}

#[tokio::test]
async fn smtp_refuses_a_server_it_cannot_trust() {
    let (_, acceptor) = tls_for_localhost();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = tokio::spawn(async move {
        // The handshake fails on the client's side; whatever the server sees afterwards does not matter.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), starttls_server(listener, acceptor)).await;
    });
    let settings = [
        ("EMAIL_BACKEND", "smtp"),
        ("EMAIL_HOST", "localhost"),
        ("EMAIL_PORT", port.as_str()),
        ("EMAIL_HOST_USER", "apikey"),
        ("EMAIL_HOST_PASSWORD", "SG.secret"),
    ];
    let config = Config::from_sources(&Sources::from_pairs(Path::new("/tmp"), settings)).unwrap();
    let mailer = Mailer::from_config(&config.email).unwrap();
    let email = Email {
        to: "ada@example.com".into(),
        subject: "x".into(),
        text: "x".into(),
        html: "x".into(),
    };
    let error = mailer.send("ThiCode <noreply@example.com>", email).await.unwrap_err();
    assert!(!error.to_string().is_empty());
    server.abort();
}

#[tokio::test]
async fn a_bad_ca_file_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("ca.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    for file in [bad.to_str().unwrap(), "/nonexistent/ca.pem"] {
        let settings = [
            ("EMAIL_BACKEND", "smtp"),
            ("EMAIL_HOST", "localhost"),
            ("EMAIL_TLS_CA_FILE", file),
        ];
        let config = Config::from_sources(&Sources::from_pairs(dir.path(), settings)).unwrap();
        let error = Mailer::from_config(&config.email).unwrap_err();
        assert_eq!(error.key, "EMAIL_TLS_CA_FILE", "{file}");
    }
}
