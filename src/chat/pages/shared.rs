//! `/s/{token}`: a shared conversation, read-only, for anyone with its link (issue #29). Rendered on the server with
//! the same sanitised Markdown as the chat, no sidebar and no composer, `noindex`, with a title and a description
//! for link previews; a signed-in reader can copy it into their account.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use crate::chat::server_fns::{ContinueShared, shared_conversation};
use crate::chat::types::{SharedMessage, SharedView};
use crate::core::csrf::CsrfField;
use crate::core::error::AppError;
use crate::core::i18n::Lang;
use crate::files::Attachment;
use crate::tr;

/// The shared conversation of the path's token.
#[component]
pub fn SharedPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let shared = crate::core::codec::resource(token, shared_conversation);
    view! {
        // No search engine lists a shared conversation, whoever links to it.
        <Meta name="robots" content="noindex, nofollow"/>
        <Meta name="referrer" content="no-referrer"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match shared.await {
                    Ok(view) => view! { <Shared view/> }.into_any(),
                    Err(AppError::NotFound) => view! { <crate::core::not_found::NotFound/> }.into_any(),
                    Err(error) => {
                        #[cfg(feature = "ssr")]
                        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                            response.set_status(error.status());
                        }
                        let t = Lang::current();
                        view! { <p class="form-error" role="alert">{error.message(t)}</p> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Shared(view: SharedView) -> impl IntoView {
    let t = Lang::current();
    let continue_action = ServerAction::<ContinueShared>::new();
    // The copy is the reader's own conversation: opened.
    Effect::new(move |_| {
        if let Some(Ok(id)) = continue_action.value().get() {
            leptos_router::hooks::use_navigate()(&format!("/chat/{id}"), Default::default());
        }
    });
    let description = tr!(t, chat.share.description, title = &view.title).to_string();
    let next = format!("/s/{}", view.token);
    let token = view.token.clone();
    let messages = view
        .messages
        .into_iter()
        .map(|m| view! { <SharedItem message=m/> })
        .collect_view();
    view! {
        <Title text=view.title.clone()/>
        <Meta name="description" content=description.clone()/>
        <Meta property="og:title" content=view.title.clone()/>
        <Meta property="og:description" content=description/>
        <Meta property="og:type" content="article"/>
        <section class="shared" data-testid="shared">
            <header class="shared-header">
                <h1 data-testid="shared-title">{view.title.clone()}</h1>
                <p class="hint">
                    {tr!(t, chat.share.read_only)}" "
                    {tr!(t, chat.share.updated_at, date = format!("{} UTC", view.snapshot_date))}
                </p>
            </header>
            <ol class="messages shared-messages">{messages}</ol>
            <footer class="shared-actions">
                {if view.signed_in {
                    view! {
                        <ActionForm action=continue_action attr:class="inline">
                            <CsrfField/>
                            <input type="hidden" name="token" value=token/>
                            <button type="submit" class="primary" data-testid="continue-shared">
                                {tr!(t, chat.share.continue_here)}
                            </button>
                        </ActionForm>
                    }
                    .into_any()
                } else {
                    view! {
                        <a class="button primary" href=format!("/login?next={next}") data-testid="sign-in-to-continue">
                            {tr!(t, chat.share.sign_in_to_continue)}
                        </a>
                    }
                    .into_any()
                }}
                {move || continue_action.value().get().and_then(Result::err).map(|e| view! {
                    <p class="form-error" role="alert">{e.message(Lang::current())}</p>
                })}
            </footer>
        </section>
    }
}

#[component]
fn SharedItem(message: SharedMessage) -> impl IntoView {
    let t = Lang::current();
    let is_user = message.role == "user";
    let body_class = if is_user {
        "message-body plain"
    } else {
        "message-body markdown"
    };
    let attachments: Vec<Attachment> = message
        .files
        .iter()
        .map(|f| Attachment {
            id: 0,
            name: f.name.clone(),
            content_type: f.content_type.clone(),
            size: f.size,
            kind: f.kind.clone(),
        })
        .collect();
    let urls: Vec<String> = message.files.iter().map(|f| f.url.clone()).collect();
    let files = (!attachments.is_empty()).then(|| {
        crate::files::ui::files_html_at(&attachments, &[], t, |n, _| urls.get(n).cloned().unwrap_or_default())
    });
    view! {
        <li class=format!("message {}", message.role) data-testid=format!("shared-message-{}", message.role)>
            <span class="visually-hidden">{if is_user { tr!(t, chat.message.you) } else { tr!(t, chat.message.assistant) }}</span>
            <div class="message-content">
                {(!message.steps_html.is_empty()).then(|| view! {
                    <div class="steps-slot" inner_html=message.steps_html.clone()></div>
                })}
                <div class=body_class inner_html=message.html.clone()></div>
                {(!message.links_html.is_empty()).then(|| view! {
                    <div class="links-slot" inner_html=message.links_html.clone()></div>
                })}
                {files.map(|html| view! { <div class="message-extras" inner_html=html></div> })}
            </div>
        </li>
    }
}
