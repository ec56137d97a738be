//! The conversation on screen: demo banner, header with its actions (pin, archive, export, rename, settings,
//! delete), the messages and the composer.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::tr;
use leptos_meta::Title;

use crate::chat::types::{ChatContext, ConversationView};
use crate::core::i18n::Lang;
use crate::core::layout::{NoScriptRefresh, rcdata_text};

use super::composer::Composer;
use super::message::MessageItem;
use super::{Actions, Live};

#[component]
pub(super) fn ConversationPane(
    view: Option<ConversationView>,
    ctx: Option<ChatContext>,
    actions: Actions,
    live: Live,
) -> impl IntoView {
    let t = Lang::current();
    let demo = ctx.as_ref().is_some_and(|c| c.demo);
    let models = ctx.as_ref().map(|c| c.models.clone()).unwrap_or_default();
    let preferred = ctx.as_ref().map(|c| c.preferred_model.clone()).unwrap_or_default();
    let generating = view
        .as_ref()
        .and_then(|v| v.messages.iter().find(|m| m.is_generating()).map(|m| m.id));
    let conversation_id = view.as_ref().map(|v| v.id);
    let title = view.as_ref().map_or_else(
        || tr!(t, chat.conversation.new_conversation).to_string(),
        |v| v.title.clone(),
    );
    let last_reply = view
        .as_ref()
        .and_then(|v| v.messages.iter().rev().find(|m| m.role == "assistant").map(|m| m.id));
    let messages = view.as_ref().map(|v| v.messages.clone()).unwrap_or_default();
    view! {
        <Title text=title.clone()/>
        {demo.then(|| view! {
            <p class="demo-banner" role="status" data-testid="demo-banner">
                {tr!(t, chat.conversation.no_ai_model_configured)}
                <code>"MISTRAL_API_KEY"</code>
                {tr!(t, chat.conversation.use_real_model)}
            </p>
        })}
        {view.clone().map(|v| view! { <ConversationHeader view=v models=models.clone() actions/> })}
        {view.is_none().then(|| view! {
            <h1>{tr!(t, chat.conversation.new_conversation)}</h1>
            <p class="hint">{tr!(t, chat.conversation.using)} {preferred.clone()} "."</p>
        })}
        {generating.map(|_| view! { <NoScriptRefresh seconds=2/> })}
        <ol class="messages" aria-live="polite" on:click=copy_code>
            {messages.into_iter().map(|m| {
                let is_last_reply = Some(m.id) == last_reply;
                view! { <MessageItem message=m conversation_id=conversation_id.unwrap_or_default() is_last_reply busy=generating.is_some() actions live/> }
            }).collect_view()}
        </ol>
        <Show when=move || actions.error().is_some()>
            <p class="form-error" role="alert" data-testid="chat-error">{move || actions.error()}</p>
        </Show>
        <Composer conversation_id generating actions/>
    }
    .into_any()
}

/// The Copy button of a code block (rendered on the server inside the message HTML): copies the block's text.
pub(super) fn copy_code(ev: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    super::client::copy_code(&ev);
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

#[component]
pub(super) fn ConversationHeader(view: ConversationView, models: Vec<String>, actions: Actions) -> impl IntoView {
    let id = view.id;
    let archived = view.status == "archived";
    let current_model = view.model.clone();
    let t = Lang::current();
    view! {
        <header class="conversation-header">
            <h1 data-testid="conversation-title">{view.title.clone()}</h1>
            {(!view.tags.is_empty()).then(|| view! {
                <ul class="tags">{view.tags.iter().map(|t| view! { <li>{t.clone()}</li> }).collect_view()}</ul>
            })}
            <div class="conversation-actions">
                <ActionForm action=actions.update>
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="pinned" value=(!view.is_pinned).to_string()/>
                    <button type="submit" class="link">
                        {if view.is_pinned { tr!(t, chat.conversation.unpin) } else { tr!(t, chat.conversation.pin) }}
                    </button>
                </ActionForm>
                <ActionForm action=actions.update>
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="archived" value=(!archived).to_string()/>
                    <button type="submit" class="link">
                        {if archived { tr!(t, chat.conversation.restore) } else { tr!(t, chat.conversation.archive) }}
                    </button>
                </ActionForm>
                <a href=format!("/chat/{id}/export/md") download>{tr!(t, chat.conversation.export_markdown)}</a>
                <a href=format!("/chat/{id}/export/json") download>{tr!(t, chat.conversation.export_json)}</a>
                <details>
                    <summary>{tr!(t, chat.conversation.rename)}</summary>
                    <ActionForm action=actions.update attr:class="inline-form">
                        <input type="hidden" name="id" value=id/>
                        <label for="title">{tr!(t, chat.conversation.title)}</label>
                        <input id="title" name="title" value=view.title.clone() maxlength="255" required/>
                        <button type="submit">{tr!(t, chat.conversation.save)}</button>
                    </ActionForm>
                </details>
                <details>
                    <summary>{tr!(t, chat.conversation.settings)}</summary>
                    <ActionForm action=actions.update attr:class="form">
                        <input type="hidden" name="id" value=id/>
                        <label for="model">{tr!(t, chat.conversation.model)}</label>
                        <select id="model" name="model">
                            <option value="default" selected=current_model.is_empty()>{tr!(t, chat.conversation.my_preferred_model)}</option>
                            {models.into_iter().map(|m| {
                                let selected = m == current_model;
                                view! { <option value=m.clone() selected=selected>{m.clone()}</option> }
                            }).collect_view()}
                        </select>
                        <label for="system_prompt">{tr!(t, chat.conversation.system_prompt)}</label>
                        <textarea id="system_prompt" name="system_prompt" rows="3">{rcdata_text(&view.system_prompt)}</textarea>
                        <label for="tags">{tr!(t, chat.conversation.tags_comma_separated)}</label>
                        <input id="tags" name="tags" value=view.tags.join(", ")/>
                        <button type="submit">{tr!(t, chat.conversation.save)}</button>
                    </ActionForm>
                </details>
                <details>
                    <summary>{tr!(t, chat.conversation.delete)}</summary>
                    <ActionForm action=actions.delete>
                        <input type="hidden" name="id" value=id/>
                        <p>{tr!(t, chat.conversation.delete_conversation_all_messages)}</p>
                        <button type="submit" class="danger">{tr!(t, chat.conversation.delete_conversation)}</button>
                    </ActionForm>
                </details>
            </div>
        </header>
    }
    .into_any()
}
