//! The SMTP path for real: lettre's client talks to a minimal SMTP server on 127.0.0.1 (plain, as a local relay;
//! STARTTLS needs a certificate the public roots trust, which a test cannot have).

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
