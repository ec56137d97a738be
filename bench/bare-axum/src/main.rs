//! `bare-axum ADDR FILE`: serves `GET /api/chat/conversations/` with the JSON value in FILE, serialised anew for each
//! request (as a handler would), and nothing else.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3211".to_string());
    let file = args.next().expect("usage: bare-axum ADDR FILE");
    let text = std::fs::read_to_string(&file)?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(std::io::Error::other)?;
    let value = Arc::new(value);
    let app = Router::new().route(
        "/api/chat/conversations/",
        get(move || {
            let value = value.clone();
            async move { Json(value.as_ref().clone()) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
