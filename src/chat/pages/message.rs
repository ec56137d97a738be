//! One message: its text (a reply as sanitised Markdown, also while it streams; a user's message as written, with
//! fenced code as code), its status and error, and its toolbar — copy, edit (user), regenerate (the last reply), the
//! version switch ‹ 2/3 ›, and a quiet line with the model, tokens and time to first token.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::chat::types::MessageView;
use crate::core::i18n::Lang;
use crate::core::icons::{Icon, Svg};
use crate::core::layout::rcdata_text;
use crate::files::ui::{keep_files_html, message_files_html};
use crate::tr;

use super::{Actions, Live};
use crate::core::csrf::CsrfField;

#[component]
pub(super) fn MessageItem(
    message: MessageView,
    conversation_id: i64,
    is_last_reply: bool,
    is_last_user: bool,
    /// The message being edited in place, if any (the page's: opened by `?edit=` or by the Edit link).
    editing: RwSignal<Option<i64>>,
    busy: bool,
    actions: Actions,
    live: Live,
    /// In a temporary chat: copy only (no edit, branch, regenerate or retry, which would need stored history).
    #[prop(optional)]
    temporary: bool,
) -> impl IntoView {
    let stored = !temporary;
    let t = Lang::current();
    let id = message.id;
    let is_user = message.role == "user";
    let generating = message.is_generating();
    let is_editing = move || editing.get() == Some(id);
    let stored_html = message.html.clone();
    let shown_html = move || {
        live.with(|l| match l {
            Some(reply) if reply.id == id => reply
                .html
                .clone()
                .unwrap_or_else(|| crate::core::error::escape_html(&reply.text)),
            _ => stored_html.clone(),
        })
    };
    // The tool calls above the text and the pages they found under it: as stored, or as the stream tells them.
    let stored_steps = (message.steps_html.clone(), message.links_html.clone());
    let shown_steps = move || {
        live.with(|l| match l {
            Some(reply) if reply.id == id => reply.steps.clone(),
            _ => None,
        })
        .unwrap_or_else(|| stored_steps.clone())
    };
    let (index, count) = message.branch;
    let body_class = if is_user {
        "message-body plain"
    } else {
        "message-body markdown"
    };
    let body = if generating {
        view! {
            <div class=body_class data-testid="streaming" inner_html=shown_html></div>
            <span class="cursor" aria-hidden="true">"▍"</span>
        }
        .into_any()
    } else {
        view! { <div class=body_class inner_html=message.html.clone()></div> }.into_any()
    };
    let status_note = match message.status.as_str() {
        "stopped" => Some(tr!(t, chat.message.stopped)),
        "interrupted" => Some(tr!(t, chat.message.interrupted_server_stopped_while)),
        _ => None,
    };
    let quiet = (!is_user).then(|| quiet_line(&message, t)).flatten();
    let source = message.content.clone();
    let message_files = message.attachments.clone();
    let copy_label = tr!(t, chat.message.copy);
    let edit_href = format!("/chat/{conversation_id}?edit={id}");
    let close_href = format!("/chat/{conversation_id}");
    let can_regenerate = is_last_reply && !generating && message.error.is_none();
    let classes = format!(
        "message {}{}",
        message.role,
        if is_last_reply || is_last_user { " last" } else { "" }
    );
    view! {
        <li class=classes data-status=message.status.clone() data-testid=format!("message-{}", message.role)>
            <span class="visually-hidden">{if is_user { tr!(t, chat.message.you) } else { tr!(t, chat.message.assistant) }}</span>
            {move || is_editing().then(|| (source.clone(), close_href.clone(), message_files.clone())).map(|(source, close_href, files)| view! {
                <ActionForm action=actions.edit attr:class="edit-form">
                    <CsrfField/>
                    <input type="hidden" name="message_id" value=id/>
                    <label for=format!("edit-{id}") class="visually-hidden">{tr!(t, chat.message.edit_message)}</label>
                    <textarea id=format!("edit-{id}") name="content" rows="4" required=files.is_empty() autofocus
                        on:keydown=move |ev| if ev.key() == "Escape" { editing.set(None) }>
                        {rcdata_text(&source)}
                    </textarea>
                    // The message's files go with the edit unless unticked.
                    {(!files.is_empty()).then(|| view! { <div inner_html=keep_files_html(&files, t)></div> })}
                    <div class="modal-actions">
                        <a class="button" href=close_href
                            on:click=move |ev| { ev.prevent_default(); editing.set(None); }>
                            {tr!(t, core.dialog.cancel)}
                        </a>
                        <button type="submit" class="primary" disabled=busy>{tr!(t, chat.message.save_send)}</button>
                    </div>
                </ActionForm>
            })}
            <div class="message-content" hidden=is_editing>
                {if generating {
                    let steps = shown_steps.clone();
                    view! {
                        <div class="steps-slot" inner_html=move || steps().0></div>
                    }.into_any()
                } else {
                    (!message.steps_html.is_empty()).then(|| view! {
                        <div class="steps-slot" inner_html=message.steps_html.clone()></div>
                    }).into_any()
                }}
                {body}
                {if generating {
                    view! { <div class="links-slot" inner_html=move || shown_steps().1></div> }.into_any()
                } else {
                    (!message.links_html.is_empty()).then(|| view! {
                        <div class="links-slot" inner_html=message.links_html.clone()></div>
                    }).into_any()
                }}
                {(!message.attachments.is_empty() || !message.sources.is_empty()).then(|| view! {
                    <div class="message-extras" inner_html=message_files_html(&message.attachments, &message.sources, t)></div>
                })}
            </div>
            {status_note.map(|note| view! { <p class="message-status">{note}</p> })}
            {message.error.clone().map(|error| view! {
                <div class="message-error" role="alert" data-testid="message-error">
                    <p>{error.get(t).to_string()}</p>
                    {stored.then(|| view! {
                        <ActionForm action=actions.regenerate attr:class="inline">
                            <CsrfField/>
                            <input type="hidden" name="message_id" value=id/>
                            <button type="submit" disabled=busy>
                                <Svg icon=Icon::Refresh/>{tr!(t, chat.message.retry)}
                            </button>
                        </ActionForm>
                    })}
                </div>
            })}
            <div class="message-tools">
                {(count > 1).then(|| view! {
                    <div class="branches">
                        {message.prev_sibling.map(|prev| view! {
                            <ActionForm action=actions.branch>
                                <CsrfField/>
                                <input type="hidden" name="message_id" value=prev.to_string()/>
                                <button type="submit" class="icon-button small" aria-label=tr!(t, chat.message.previous_version)
                                    data-tip=tr!(t, chat.message.previous_version)>
                                    <Svg icon=Icon::ChevronLeft/>
                                </button>
                            </ActionForm>
                        })}
                        <span data-testid="branch-position">{format!("{index}/{count}")}</span>
                        {message.next_sibling.map(|next| view! {
                            <ActionForm action=actions.branch>
                                <CsrfField/>
                                <input type="hidden" name="message_id" value=next.to_string()/>
                                <button type="submit" class="icon-button small" aria-label=tr!(t, chat.message.next_version)
                                    data-tip=tr!(t, chat.message.next_version)>
                                    <Svg icon=Icon::ChevronRight/>
                                </button>
                            </ActionForm>
                        })}
                    </div>
                })}
                {(!generating).then(|| view! {
                    // Drawn for every message, so kept static: the list's own click handler copies and opens
                    // the editor (`client::on_messages_click`), and the icons are written as they are.
                    <span class="fades">
                        <button type="button" class="icon-button small js-only" data-copy=id data-testid="copy-message"
                            aria-label=copy_label data-tip=copy_label inner_html=Icon::Copy.markup()>
                        </button>
                        {(is_user && stored).then(|| view! {
                            <a class="icon-button small" href=edit_href.clone() data-edit=id data-testid="edit"
                                aria-label=tr!(t, chat.message.edit) data-tip=tr!(t, chat.message.edit)
                                inner_html=Icon::Pencil.markup()>
                            </a>
                        })}
                        {stored.then(|| view! {
                            <ActionForm action=actions.fork>
                                <CsrfField/>
                                <input type="hidden" name="message_id" value=id/>
                                <button type="submit" class="icon-button small" data-testid="fork"
                                    aria-label=tr!(t, chat.share.fork) data-tip=tr!(t, chat.share.fork)
                                    inner_html=Icon::Branch.markup()>
                                </button>
                            </ActionForm>
                        })}
                        {(can_regenerate && stored).then(|| view! {
                            <ActionForm action=actions.regenerate>
                                <CsrfField/>
                                <input type="hidden" name="message_id" value=id/>
                                <button type="submit" class="icon-button small" disabled=busy data-testid="regenerate"
                                    aria-label=tr!(t, chat.message.regenerate) data-tip=tr!(t, chat.message.regenerate)>
                                    <Svg icon=Icon::Refresh/>
                                </button>
                            </ActionForm>
                        })}
                    </span>
                })}
                {quiet.map(|line| view! { <span class="quiet" data-testid="message-details">{line}</span> })}
            </div>
        </li>
    }
}

/// The model, the tokens written and the time to the first token of a reply, when known.
fn quiet_line(message: &MessageView, t: Lang) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(model) = &message.model {
        parts.push(model.clone());
    }
    if let Some(tokens) = message.tokens {
        parts.push(tr!(t, chat.message.tokens, count = tokens).to_string());
    }
    if let Some(ms) = message.first_token_ms {
        // Tenths of a second in whole numbers: float formatting would add ~17 KB to the client.
        let tenths = (ms.max(0) + 50) / 100;
        let seconds = format!("{}.{}", tenths / 10, tenths % 10);
        parts.push(tr!(t, chat.message.first_token, seconds = seconds).to_string());
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}
