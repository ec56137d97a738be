//! Browser-only parts: following a reply over Server-Sent Events, copying code, and submitting on Enter.

use leptos::prelude::*;

use crate::tr;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

use super::Live;
use crate::chat::types::{ConversationView, MessageView};
use crate::core::error::AppError;

/// An open stream and its handlers; dropping it closes the stream.
struct Follow {
    message_id: i64,
    source: EventSource,
    _handlers: Vec<Closure<dyn FnMut(MessageEvent)>>,
}

impl Drop for Follow {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Streams the reply being generated in the conversation on screen, if any, into `live`; when it ends, the `done`
/// event's message takes the streamed text's place (the page is fetched again only if that message cannot be read).
pub(super) fn follow_replies(
    conversation: Resource<Result<Option<ConversationView>, AppError>>,
    live: Live,
    refresh: RwSignal<usize>,
    finished: impl Fn(MessageView) -> bool + Copy + 'static,
) {
    let current = StoredValue::new_local(None::<Follow>);
    Effect::new(move |_| {
        let generating = conversation.get().and_then(Result::ok).flatten().and_then(|v| {
            v.messages
                .iter()
                .find(|m| m.is_generating())
                .map(|m| (v.id, m.id, m.content.clone()))
        });
        let Some((conversation_id, message_id, content)) = generating else {
            current.set_value(None);
            return;
        };
        if current.with_value(|f| f.as_ref().is_some_and(|f| f.message_id == message_id)) {
            return;
        }
        live.set(Some((message_id, content)));
        let url = format!("/chat/{conversation_id}/messages/{message_id}/events");
        let Ok(source) = EventSource::new(&url) else { return };
        let text_of = |e: &MessageEvent, key: &str| -> Option<String> {
            let data = e.data().as_string()?;
            let value: serde_json::Value = serde_json::from_str(&data).ok()?;
            value.get(key)?.as_str().map(str::to_string)
        };
        let snapshot = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(text) = text_of(&e, "content") {
                live.set(Some((message_id, text)));
            }
        });
        let delta = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(text) = text_of(&e, "text") {
                live.update(|l| {
                    if let Some((id, so_far)) = l
                        && *id == message_id
                    {
                        so_far.push_str(&text);
                    }
                });
            }
        });
        let done = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let message = e
                .data()
                .as_string()
                .and_then(|data| serde_json::from_str::<MessageView>(&data).ok());
            let placed = message.is_some_and(finished);
            live.set(None);
            if !placed {
                refresh.update(|v| *v += 1);
            }
            // Closes the stream (this handler is dropped once it returns).
            current.set_value(None);
        });
        let _ = source.add_event_listener_with_callback("snapshot", snapshot.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("delta", delta.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("done", done.as_ref().unchecked_ref());
        current.set_value(Some(Follow {
            message_id,
            source,
            _handlers: vec![snapshot, delta, done],
        }));
    });
}

/// Copies the text of the code block whose Copy button was clicked.
pub(super) fn copy_code(ev: &leptos::ev::MouseEvent) {
    let Some(button) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .filter(|el| el.class_list().contains("copy"))
    else {
        return;
    };
    let code = button
        .closest(".code-block")
        .ok()
        .flatten()
        .and_then(|block| block.query_selector("code").ok().flatten())
        .and_then(|code| code.text_content());
    if let Some(text) = code {
        let _ = window().navigator().clipboard().write_text(&text);
        button.set_text_content(Some(tr!(crate::core::i18n::Lang::current(), chat.client.copied)));
    }
}

/// Submits the form around the event's target, as the Send button would.
pub(super) fn submit_form_of(ev: &leptos::ev::KeyboardEvent) {
    let form = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| el.closest("form").ok().flatten())
        .and_then(|el| el.dyn_into::<web_sys::HtmlFormElement>().ok());
    if let Some(form) = form {
        let _ = form.request_submit();
    }
}
