//! The tools' address guard against live listeners: every request aims at a loopback listener that records any
//! contact, and none may be contacted unless the guard allows its address. No test sends traffic outside
//! 127.0.0.0/8 or ::1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use thicode::tools::guard::{Guard, Refused, refusal_of};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A listener on `ip` that counts connections and answers each with `answer` (an HTTP response).
async fn recorder(ip: &str, answer: String) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let contacts = Arc::new(AtomicUsize::new(0));
    let seen = contacts.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (addr, contacts)
}

fn ok_answer() -> String {
    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".to_string()
}

fn redirect_to(location: &str) -> String {
    format!("HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
}

async fn get(guard: &Guard, url: &str) -> Result<u16, Refused> {
    let client = guard.client(Duration::from_secs(5));
    let request = client.request(reqwest::Method::GET, url)?;
    match request.send().await {
        Ok(response) => Ok(response.status().as_u16()),
        Err(e) => Err(refusal_of(&e).unwrap_or_else(|| panic!("{url}: not a refusal: {e:?}"))),
    }
}

#[tokio::test]
async fn loopback_in_every_spelling_is_never_contacted() {
    let (addr, contacts) = recorder("127.0.0.1", ok_answer()).await;
    let port = addr.port();
    let guard = Guard::public();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f000001:{port}/"),
        format!("http://0x7f.0.0.1:{port}/"),
        format!("http://0177.0.0.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::ffff:7f00:1]:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://LocalHost.:{port}/"),
    ] {
        let refused = get(&guard, &url).await;
        assert!(matches!(refused, Err(Refused::Private { .. })), "{url}: {refused:?}");
    }
    assert_eq!(contacts.load(Ordering::SeqCst), 0, "no request reached the listener");
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_by_the_resolver() {
    // Past the URL check (`localhost` has its own rule there), the resolver decides on the addresses themselves.
    let guard = Guard::public();
    let refused = guard.resolve("localhost").await;
    assert!(matches!(refused, Err(Refused::Private { .. })), "{refused:?}");
    // A listed name is resolved to its (private) addresses.
    let listed = Guard::allowing(&["localhost".to_string()]);
    let found = listed.resolve("localhost").await.unwrap();
    assert!(found.iter().all(|a| a.ip().is_loopback()), "{found:?}");
}

#[tokio::test]
async fn an_allowed_loopback_host_is_reached_but_its_redirect_elsewhere_is_not() {
    // The target: another loopback address, not allowed.
    let (target, target_contacts) = recorder("127.0.0.2", ok_answer()).await;
    // The allowed host redirects there (by literal address), and to itself by another spelling.
    let (allowed, allowed_contacts) = recorder("127.0.0.1", redirect_to(&format!("http://{target}/secret"))).await;
    let guard = Guard::allowing(&["127.0.0.1/32".to_string()]);
    let refused = get(&guard, &format!("http://{allowed}/")).await;
    assert!(
        matches!(&refused, Err(Refused::Private { address: Some(ip), .. }) if ip.to_string() == "127.0.0.2"),
        "{refused:?}"
    );
    assert_eq!(allowed_contacts.load(Ordering::SeqCst), 1, "the allowed host was asked");
    assert_eq!(
        target_contacts.load(Ordering::SeqCst),
        0,
        "the redirect target was never contacted"
    );

    // The same target directly, and in its decimal spelling: refused before any connection.
    for url in [
        format!("http://{target}/"),
        format!("http://2130706434:{}/", target.port()),
    ] {
        assert!(matches!(get(&guard, &url).await, Err(Refused::Private { .. })), "{url}");
    }
    assert_eq!(target_contacts.load(Ordering::SeqCst), 0);

    // An allowed host answering 200 is reached.
    let (plain, plain_contacts) = recorder("127.0.0.1", ok_answer()).await;
    assert_eq!(get(&guard, &format!("http://{plain}/")).await, Ok(200));
    assert_eq!(plain_contacts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirects_are_few() {
    // A host that redirects to itself forever.
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let contacts = Arc::new(AtomicUsize::new(0));
    let seen = contacts.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(redirect_to(&format!("http://{addr}/{n}")).as_bytes())
                    .await;
                let _ = socket.shutdown().await;
            });
        }
    });
    let guard = Guard::allowing(&["127.0.0.1".to_string()]);
    assert_eq!(
        get(&guard, &format!("http://{addr}/")).await,
        Err(Refused::TooManyRedirects)
    );
    assert_eq!(
        contacts.load(Ordering::SeqCst),
        thicode::tools::guard::MAX_REDIRECTS + 1
    );
}

#[tokio::test]
async fn ipv6_loopback_is_never_contacted() {
    // Only where the machine has ::1.
    let Ok(listener) = TcpListener::bind(("::1", 0)).await else {
        return;
    };
    let addr = listener.local_addr().unwrap();
    let contacts = Arc::new(AtomicUsize::new(0));
    let seen = contacts.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    let guard = Guard::public();
    for url in [
        format!("http://[::1]:{}/", addr.port()),
        format!("http://[0:0:0:0:0:0:0:1]:{}/", addr.port()),
    ] {
        assert!(matches!(get(&guard, &url).await, Err(Refused::Private { .. })), "{url}");
    }
    assert_eq!(contacts.load(Ordering::SeqCst), 0);
}
