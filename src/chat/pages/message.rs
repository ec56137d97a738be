//! One message: who wrote it, its version switch, its text (streaming or rendered Markdown), its status and error,
//! and its actions (stop, regenerate, retry, edit).

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::tr;

use crate::chat::types::MessageView;
use crate::core::i18n::Lang;
use crate::core::layout::rcdata_text;

use super::{Actions, Live};

#[component]
pub(super) fn MessageItem(
    message: MessageView,
    conversation_id: i64,
    is_last_reply: bool,
    busy: bool,
    actions: Actions,
    live: Live,
) -> impl IntoView {
    let id = message.id;
    let generating = message.is_generating();
    let stored = message.content.clone();
    let streamed = move || {
        live.with(|l| match l {
            Some((live_id, text)) if *live_id == id => text.clone(),
            _ => stored.clone(),
        })
    };
    let t = Lang::current();
    let role_label = if message.role == "user" {
        tr!(t, chat.message.you)
    } else {
        tr!(t, chat.message.assistant)
    };
    let (index, count) = message.branch;
    let body = if generating {
        view! { <div class="message-body streaming" data-testid="streaming">{streamed}<span class="cursor" aria-hidden="true">"▍"</span></div> }.into_any()
    } else {
        view! { <div class="message-body markdown" inner_html=message.html.clone()></div> }.into_any()
    };
    let status_note = match message.status.as_str() {
        "stopped" => Some(tr!(t, chat.message.stopped)),
        "interrupted" => Some(tr!(t, chat.message.interrupted_server_stopped_while)),
        _ => None,
    };
    let message_id = id;
    view! {
        <li class=format!("message {}", message.role) data-status=message.status.clone() data-testid=format!("message-{}", message.role)>
            <div class="message-meta">
                <strong>{role_label}</strong>
                {message.model.clone().filter(|_| message.role == "assistant").map(|m| view! { <span class="model">{m}</span> })}
                {(count > 1).then(|| view! {
                    <div class="branches">
                        {message.prev_sibling.map(|prev| view! {
                            <ActionForm action=actions.branch attr:class="inline">
                                <input type="hidden" name="message_id" value=prev.to_string()/>
                                <button type="submit" class="link" aria-label=tr!(t, chat.message.previous_version)>"‹"</button>
                            </ActionForm>
                        })}
                        <span data-testid="branch-position">{format!("{index}/{count}")}</span>
                        {message.next_sibling.map(|next| view! {
                            <ActionForm action=actions.branch attr:class="inline">
                                <input type="hidden" name="message_id" value=next.to_string()/>
                                <button type="submit" class="link" aria-label=tr!(t, chat.message.next_version)>"›"</button>
                            </ActionForm>
                        })}
                    </div>
                })}
            </div>
            {body}
            {status_note.map(|note| view! { <p class="message-status">{note}</p> })}
            {message.error.clone().map(|error| view! {
                <div class="message-error" role="alert" data-testid="message-error">
                    <p>{error.get(t).to_string()}</p>
                    <ActionForm action=actions.regenerate attr:class="inline">
                        <input type="hidden" name="message_id" value=message_id/>
                        <button type="submit" disabled=busy>{tr!(t, chat.message.retry)}</button>
                    </ActionForm>
                </div>
            })}
            <div class="message-actions">
                {generating.then(|| view! {
                    <ActionForm action=actions.stop attr:class="inline">
                        <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
                        <input type="hidden" name="message_id" value=message_id/>
                        <button type="submit" data-testid="stop">{tr!(t, chat.message.stop)}</button>
                    </ActionForm>
                })}
                {(is_last_reply && !generating && message.error.is_none()).then(|| view! {
                    <ActionForm action=actions.regenerate attr:class="inline">
                        <input type="hidden" name="message_id" value=message_id/>
                        <button type="submit" class="link" disabled=busy data-testid="regenerate">{tr!(t, chat.message.regenerate)}</button>
                    </ActionForm>
                })}
                {(message.role == "user").then(|| view! {
                    <details class="edit">
                        <summary>{tr!(t, chat.message.edit)}</summary>
                        <ActionForm action=actions.edit attr:class="form">
                            <input type="hidden" name="message_id" value=message_id/>
                            <label for=format!("edit-{id}")>{tr!(t, chat.message.edit_message)}</label>
                            <textarea id=format!("edit-{id}") name="content" rows="3">{rcdata_text(&message.content)}</textarea>
                            <button type="submit" disabled=busy>{tr!(t, chat.message.save_send)}</button>
                        </ActionForm>
                    </details>
                })}
            </div>
        </li>
    }
    .into_any()
}
