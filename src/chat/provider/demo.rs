//! The built-in demo provider (no API key configured) and fitting a history into the model's context window.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::StreamExt;

use super::{ChatRequest, ReplyStream, StreamEvent, Usage, WireMessage};

/// The demo reply: says that no model is configured and echoes the prompt, streamed word by word.
pub(super) fn demo_stream(request: &ChatRequest) -> ReplyStream {
    let last = request.messages.iter().rev().find(|m| m.role == "user");
    let prompt = last.map(|m| m.content.as_str()).unwrap_or_default();
    let mut quoted: String = prompt
        .chars()
        .take(4000)
        .collect::<String>()
        .lines()
        .map(|l| format!("> {l}\n"))
        .collect();
    let images = last.map_or(0, |m| m.images.len());
    if images > 0 {
        quoted.push_str(&format!("\nwith {images} image(s) attached.\n"));
    }
    let text = format!(
        "**Demo reply — no AI model is configured.** ThiCode is running without `MISTRAL_API_KEY`, so this answer \
         comes from the built-in demo provider. Set the key (or `MISTRAL_BASE_URL` for any OpenAI-compatible \
         server) and restart to talk to a real model.\n\nYou wrote:\n\n{quoted}"
    );
    let words: Vec<String> = text.split_inclusive(' ').map(str::to_string).collect();
    let completion_tokens = words.len() as u64;
    let prompt_tokens = request
        .messages
        .iter()
        .map(|m| m.content.split_whitespace().count() as u64)
        .sum();
    let finish = StreamEvent::Finish {
        finish_reason: Some("stop".to_string()),
        usage: Some(Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
        }),
    };
    let events = words.into_iter().map(StreamEvent::Delta).chain(std::iter::once(finish));
    Box::pin(futures_util::stream::iter(events).then(|event| async move {
        if matches!(event, StreamEvent::Delta(_)) {
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        Ok(event)
    }))
}

/// Trims `messages` (system prompt first, newest last) to fit `context_tokens`, dropping the oldest turns after the
/// system prompt; the newest message is always kept. Tokens are estimated at 4 characters each, and a quarter of the
/// window is left for the reply.
pub fn fit_context(messages: Vec<WireMessage>, context_tokens: u64) -> Vec<WireMessage> {
    let budget = (context_tokens.saturating_mul(3) / 4).saturating_mul(4) as usize;
    let cost = WireMessage::cost;
    let (system, turns): (Vec<_>, Vec<_>) = messages.into_iter().partition(|m| m.role == "system");
    let mut turns = VecDeque::from(turns);
    let mut total: usize = system.iter().chain(turns.iter()).map(cost).sum();
    while total > budget && turns.len() > 1 {
        if let Some(dropped) = turns.pop_front() {
            total -= cost(&dropped);
        }
    }
    system.into_iter().chain(turns).collect()
}
