//! Browser-only parts: following a reply over Server-Sent Events, keeping the view at the latest message, copying,
//! drafts, the drawer, and submitting on Enter.

use leptos::prelude::*;

use crate::tr;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

use super::{Live, LiveReply};
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
    conversation: crate::core::codec::Resource<Result<Option<ConversationView>, AppError>>,
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
        live.set(Some(LiveReply {
            id: message_id,
            text: content,
            ..LiveReply::default()
        }));
        let url = format!("/chat/{conversation_id}/messages/{message_id}/events");
        let Ok(source) = EventSource::new(&url) else { return };
        // Each event may carry `html`: the server's rendering of the whole text so far.
        let read = |e: &MessageEvent, key: &str| -> Option<(String, Option<String>)> {
            let data = e.data().as_string()?;
            let value: serde_json::Value = serde_json::from_slice(data.as_bytes()).ok()?;
            let text = value.get(key)?.as_str()?.to_string();
            let html = value.get("html").and_then(|h| h.as_str()).map(str::to_string);
            Some((text, html))
        };
        let snapshot = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some((text, html)) = read(&e, "content") {
                live.update(|l| {
                    // The steps told so far stay.
                    let steps = l.take().filter(|r| r.id == message_id).and_then(|r| r.steps);
                    *l = Some(LiveReply {
                        id: message_id,
                        text,
                        html,
                        steps,
                    });
                });
            }
        });
        // A tool call started or ended: the server's rendering of every step so far (`links`: the pages found).
        let step = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some((links, html)) = read(&e, "links") {
                live.update(|l| {
                    if let Some(reply) = l
                        && reply.id == message_id
                    {
                        reply.steps = Some((html.unwrap_or_default(), links));
                    }
                });
            }
        });
        let delta = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some((text, html)) = read(&e, "text") {
                live.update(|l| {
                    if let Some(reply) = l
                        && reply.id == message_id
                    {
                        reply.text.push_str(&text);
                        if html.is_some() {
                            reply.html = html;
                        }
                    }
                });
            }
        });
        let done = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let message = e
                .data()
                .as_string()
                .and_then(|data| serde_json::from_slice::<MessageView>(data.as_bytes()).ok());
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
        let _ = source.add_event_listener_with_callback("step", step.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("done", done.as_ref().unchecked_ref());
        current.set_value(Some(Follow {
            message_id,
            source,
            _handlers: vec![snapshot, delta, step, done],
        }));
    });
}

/// Clicks in the list of messages, for the controls drawn on every message without handlers of their own: a code
/// block's Copy button copies its code, a message's Copy button its Markdown source (from `sources`, by id), and its
/// Edit link opens the editor in place (`editing`) instead of following the link.
pub(super) fn on_messages_click(
    ev: &leptos::ev::MouseEvent,
    sources: StoredValue<Vec<(i64, String)>>,
    editing: RwSignal<Option<i64>>,
) {
    let Some(target) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
        return;
    };
    let t = crate::core::i18n::Lang::current();
    let closest = |selector: &str| target.closest(selector).ok().flatten();
    if target.class_list().contains("copy") {
        let code = closest(".code-block")
            .and_then(|block| block.query_selector("code").ok().flatten())
            .and_then(|code| code.text_content());
        if let Some(text) = code {
            copy_text(&text);
            target.set_text_content(Some(tr!(t, chat.client.copied)));
        }
    } else if let Some(button) = closest("[data-copy]") {
        let id = button.get_attribute("data-copy").and_then(|v| v.parse::<i64>().ok());
        let text = sources.with_value(|all| all.iter().find(|(m, _)| Some(*m) == id).map(|(_, text)| text.clone()));
        if let Some(text) = text {
            copy_text(&text);
            show_copied(&button, true);
            set_timeout(move || show_copied(&button, false), std::time::Duration::from_secs(2));
        }
    } else if let Some(button) = closest("[data-decide]") {
        // Allow or Deny of a call waiting for approval: answered in the background (the stream then shows the call
        // running or denied), without the form's page load.
        ev.prevent_default();
        let answer = button.get_attribute("data-decide").unwrap_or_default();
        if let [conversation, message, call, allow] = answer.split(':').collect::<Vec<_>>()[..] {
            if let Some(form) = closest("form")
                && let Ok(buttons) = form.query_selector_all("button")
            {
                for i in 0..buttons.length() {
                    if let Some(b) = buttons.get(i).and_then(|b| b.dyn_into::<web_sys::Element>().ok()) {
                        let _ = b.set_attribute("disabled", "");
                    }
                }
            }
            use leptos::server_fn::ServerFn;
            let body = format!(
                "conversation_id={conversation}&message_id={message}&call_id={}&allow={allow}&{}={}",
                crate::core::document::encode_component(call),
                crate::core::csrf::FORM_FIELD,
                crate::core::document::encode_component(&crate::core::csrf::token())
            );
            if let Ok(xhr) = web_sys::XmlHttpRequest::new()
                && xhr.open("POST", crate::chat::server_fns::DecideCall::PATH).is_ok()
            {
                let _ = xhr.set_request_header("Content-Type", "application/x-www-form-urlencoded");
                let _ = xhr.set_request_header("Accept", "application/json");
                let _ = xhr.send_with_opt_str(Some(&body));
            }
        }
    } else if let Some(id) = closest("[data-edit]")
        .and_then(|link| link.get_attribute("data-edit"))
        .and_then(|v| v.parse::<i64>().ok())
    {
        ev.prevent_default();
        editing.set(Some(id));
        // The editor is drawn on the next turn; `autofocus` only works when a page loads, so focus it then.
        request_animation_frame(move || {
            if let Some(area) = document()
                .get_element_by_id(&format!("edit-{id}"))
                .and_then(|el| el.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
            {
                let _ = area.focus();
                let end = area.value().encode_utf16().count() as u32;
                let _ = area.set_selection_range(end, end);
            }
        });
    }
}

/// A message's Copy button saying that it copied (a check mark, "Copied"), or back to its usual self.
fn show_copied(button: &web_sys::Element, copied: bool) {
    use crate::core::icons::Icon;
    let t = crate::core::i18n::Lang::current();
    let (label, icon) = if copied {
        (tr!(t, chat.client.copied), Icon::Check)
    } else {
        (tr!(t, chat.message.copy), Icon::Copy)
    };
    let _ = button.set_attribute("aria-label", label);
    let _ = button.set_attribute("data-tip", label);
    button.set_inner_html(icon.markup());
}

/// Submits the form around the event's target, as its submit button would.
pub(super) fn submit_form_of(ev: &web_sys::Event) {
    let form = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| el.closest("form").ok().flatten())
        .and_then(|el| el.dyn_into::<web_sys::HtmlFormElement>().ok());
    if let Some(form) = form {
        let _ = form.request_submit();
    }
}

/// How close to the end (px) still counts as "at the bottom".
const BOTTOM_SLACK: i32 = 48;

/// Keeps the conversation at its latest message while the reader is there: when it opens or is shown again, and
/// as a reply streams in. Scrolling up stops it (`on_scroll`), the jump button or reaching the end again resumes.
pub(super) fn follow_bottom(scroller: NodeRef<leptos::html::Div>, at_bottom: RwSignal<bool>, live: Live) {
    // Also when the page asks for the end again (a send shows the newest messages): once they are drawn.
    Effect::new(move |_| {
        if scroller.get().is_some() && at_bottom.get() {
            scroll_to_bottom(scroller, false);
            request_animation_frame(move || {
                if at_bottom.try_get_untracked().unwrap_or(false) {
                    scroll_to_bottom(scroller, false);
                }
            });
        }
    });
    Effect::new(move |_| {
        live.track();
        // Asked again in the next frame: a scroll up in between (its event comes first) wins.
        request_animation_frame(move || {
            if at_bottom.try_get_untracked().unwrap_or(false) {
                scroll_to_bottom(scroller, false);
            }
        });
    });
}

/// Whether the reader is at the end of the conversation, after a scroll.
pub(super) fn on_scroll(scroller: NodeRef<leptos::html::Div>, at_bottom: RwSignal<bool>) {
    if let Some(el) = scroller.try_get_untracked().flatten() {
        let near = el.scroll_height() - el.scroll_top() - el.client_height() <= BOTTOM_SLACK;
        if near != at_bottom.get_untracked() {
            at_bottom.set(near);
        }
    }
}

/// Scrolls the conversation to its end (smoothly for the jump button, unless the user asked for less motion).
pub(super) fn scroll_to_bottom(scroller: NodeRef<leptos::html::Div>, smooth: bool) {
    if let Some(el) = scroller.try_get_untracked().flatten() {
        let reduced = window()
            .match_media("(prefers-reduced-motion: reduce)")
            .ok()
            .flatten()
            .is_some_and(|m| m.matches());
        let options = web_sys::ScrollToOptions::new();
        options.set_top(f64::from(el.scroll_height()));
        options.set_behavior(if smooth && !reduced {
            web_sys::ScrollBehavior::Smooth
        } else {
            web_sys::ScrollBehavior::Instant
        });
        el.scroll_to_with_scroll_to_options(&options);
    }
}

/// Makes the composer as tall as its text (up to the limit its style sets), where the browser does not do it itself
/// (`field-sizing: content`).
pub(super) fn grow(el: &web_sys::HtmlTextAreaElement) {
    if web_sys::css::supports_with_value("field-sizing", "content").unwrap_or(false) {
        return;
    }
    let style = web_sys::HtmlElement::style(el);
    let _ = style.set_property("height", "auto");
    let _ = style.set_property("height", &format!("{}px", el.scroll_height()));
}

/// Puts `text` on the clipboard.
pub(super) fn copy_text(text: &str) {
    let _ = window().navigator().clipboard().write_text(text);
}

/// Puts a suggestion in the composer and gives it the focus.
pub(super) fn fill_composer(text: &str) {
    if let Some(el) = document()
        .get_element_by_id("content")
        .and_then(|el| el.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    {
        el.set_value(text);
        let _ = el.focus();
        if let Some(storage) = drafts() {
            let _ = storage.set_item(&draft_key(None), text);
        }
    }
}

/// Closes the phone's conversation drawer whenever the page moves to another address (a conversation was picked).
pub(super) fn close_drawer_on_navigation() {
    let location = leptos_router::hooks::use_location();
    Effect::new(move |_| {
        location.pathname.track();
        location.search.track();
        if let Some(toggle) = document()
            .get_element_by_id("drawer")
            .and_then(|el| el.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            toggle.set_checked(false);
        }
    });
}

fn draft_key(conversation_id: Option<i64>) -> String {
    match conversation_id {
        Some(id) => format!("thicode.draft.{id}"),
        None => "thicode.draft.new".to_string(),
    }
}

fn drafts() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

/// The composer a re-render of the page is replacing while it has the focus: its conversation and selection.
#[derive(Clone, Copy)]
struct Focused {
    conversation_id: Option<i64>,
    start: u32,
    end: u32,
}

thread_local! {
    static FOCUSED: std::cell::Cell<Option<Focused>> = const { std::cell::Cell::new(None) };
}

/// The composer's box in an event's target (the box itself: its handlers keep working, from the element, while the
/// page re-renders and its old view, whose references are gone, is still on screen).
pub(super) fn composer_of(ev: &web_sys::Event) -> Option<web_sys::HtmlTextAreaElement> {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
}

/// Remembers what is in the composer, for when the user comes back to this conversation.
pub(super) fn keep_draft(el: &web_sys::HtmlTextAreaElement, conversation_id: Option<i64>) {
    if let Some(storage) = drafts() {
        let key = draft_key(conversation_id);
        let _ = if el.value().is_empty() {
            storage.remove_item(&key)
        } else {
            storage.set_item(&key, &el.value())
        };
    }
    // Typing on while the page replaces the box: the new one takes the caret from here.
    if let Some(mut focused) = FOCUSED.get()
        && focused.conversation_id == conversation_id
    {
        focused.start = el.selection_start().ok().flatten().unwrap_or(0);
        focused.end = el.selection_end().ok().flatten().unwrap_or(focused.start);
        FOCUSED.set(Some(focused));
    }
}

/// Called as the page starts re-rendering the composer (its conversation was fetched again: a reply stopped or
/// ended, a branch changed): if the box has the focus, the one that replaces it takes the focus and the caret.
pub(super) fn composer_leaving(conversation_id: Option<i64>) {
    let Some(el) = document()
        .active_element()
        .and_then(|el| el.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
        .filter(|el| el.id() == "content")
    else {
        return;
    };
    let start = el.selection_start().ok().flatten().unwrap_or(0);
    let end = el.selection_end().ok().flatten().unwrap_or(start);
    FOCUSED.set(Some(Focused {
        conversation_id,
        start,
        end,
    }));
}

/// Shows the draft of the conversation on screen in the composer: the box stays when the page moves from one
/// conversation to another, so each time it is shown it takes that conversation's draft (none: empty, or the text
/// it was given, `initial`). A box that replaces a focused one of the same conversation takes its focus and caret,
/// unless the user has put the focus somewhere else since.
pub(super) fn restore_draft(textarea: NodeRef<leptos::html::Textarea>, conversation_id: Option<i64>, initial: String) {
    Effect::new(move |_| {
        let (Some(el), Some(storage)) = (textarea.get(), drafts()) else {
            return;
        };
        let draft = storage.get_item(&draft_key(conversation_id)).ok().flatten();
        let text = draft.as_deref().unwrap_or(&initial);
        if el.value() != text {
            el.set_value(text);
        }
        if let Some(focused) = FOCUSED.take()
            && focused.conversation_id == conversation_id
        {
            let elsewhere = document()
                .active_element()
                .is_some_and(|active| Some(&active) != document().body().map(Into::into).as_ref());
            if !elsewhere {
                let _ = el.focus();
                let _ = el.set_selection_range(focused.start, focused.end);
            }
        }
    });
}

thread_local! {
    /// The conversation (none: a new one) whose composer sent the message on its way.
    static SENDING_FROM: std::cell::Cell<Option<Option<i64>>> = const { std::cell::Cell::new(None) };
}

/// A message is on its way from the composer of `conversation_id`.
pub(super) fn sending_from(conversation_id: Option<i64>) {
    SENDING_FROM.set(Some(conversation_id));
}

/// The message on its way went through: its composer's draft is done with (called by the page, which outlives the
/// composer the send came from).
pub(super) fn forget_sent_draft() {
    if let (Some(conversation_id), Some(storage)) = (SENDING_FROM.take(), drafts()) {
        let _ = storage.remove_item(&draft_key(conversation_id));
    }
}

/// Calls `then` each time the element (the sidebar's "More" link) comes into view, while it is on the page.
pub(super) fn when_visible(target: NodeRef<leptos::html::A>, then: impl Fn() + Clone + 'static) {
    Effect::new(move |_| {
        let Some(el) = target.get() else { return };
        let then = then.clone();
        let callback = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            let visible = entries.iter().any(|entry| {
                entry
                    .dyn_into::<web_sys::IntersectionObserverEntry>()
                    .is_ok_and(|e| e.is_intersecting())
            });
            if visible {
                then();
            }
        });
        let Ok(observer) = web_sys::IntersectionObserver::new(callback.as_ref().unchecked_ref()) else {
            return;
        };
        observer.observe(&el);
        let kept = StoredValue::new_local(Some((observer, callback)));
        on_cleanup(move || {
            if let Some(Some((observer, _callback))) = kept.try_update_value(Option::take) {
                observer.disconnect();
            }
        });
    });
}

/// While the temporary chat `id` is on screen, the tab says goodbye as it closes (or navigates away from the app):
/// the server forgets the chat unless the same tab comes back within seconds (a reload). A page kept in the
/// back-forward cache may be shown again without asking the server: it says nothing, and the idle timeout applies. A
/// browser that sends no `Origin` is refused the goodbye; its chat waits for the idle timeout too.
pub(super) fn say_goodbye_on_leave(id: i64) {
    let handle = window_event_listener(leptos::ev::pagehide, move |ev| {
        if ev.persisted() {
            return;
        }
        let body = format!(
            "{}={}",
            crate::core::csrf::FORM_FIELD,
            crate::core::document::encode_component(&crate::core::csrf::token())
        );
        let _ = window()
            .navigator()
            .send_beacon_with_opt_str(&format!("/chat/{id}/leave"), Some(&body));
    });
    on_cleanup(move || handle.remove());
}
