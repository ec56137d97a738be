//! `/chat` and `/chat/{id}`: the sidebar of conversations, the messages of the branch on screen and the composer.
//! Every control is a form (`ActionForm`), so the page works without JavaScript; with it, replies stream in token by
//! token over Server-Sent Events and Enter sends.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::accounts::pages::login_redirect;
use crate::chat::server_fns::{
    DeleteConversation, EditMessage, Regenerate, SelectBranch, SendMessage, StopReply, UpdateConversation,
    get_chat_context, get_conversation,
};
use crate::chat::types::{ChatContext, ChatError, ConversationView, MessageView, PAGE_SIZE};
use crate::core::i18n::Lang;
use crate::core::layout::{NoScriptRefresh, rcdata_text};

/// The actions of the page, shared by its parts.
#[derive(Clone, Copy)]
struct Actions {
    send: ServerAction<SendMessage>,
    regenerate: ServerAction<Regenerate>,
    edit: ServerAction<EditMessage>,
    stop: ServerAction<StopReply>,
    branch: ServerAction<SelectBranch>,
    update: ServerAction<UpdateConversation>,
    delete: ServerAction<DeleteConversation>,
}

impl Actions {
    fn new() -> Self {
        Self {
            send: ServerAction::new(),
            regenerate: ServerAction::new(),
            edit: ServerAction::new(),
            stop: ServerAction::new(),
            branch: ServerAction::new(),
            update: ServerAction::new(),
            delete: ServerAction::new(),
        }
    }

    /// Changes whenever any action completes, so the data is fetched again.
    fn version(self) -> usize {
        self.send.version().get()
            + self.regenerate.version().get()
            + self.edit.version().get()
            + self.stop.version().get()
            + self.branch.version().get()
            + self.update.version().get()
            + self.delete.version().get()
    }

    /// The message of the last failed action, if any (the newest action's outcome wins).
    fn error(self) -> Option<String> {
        let err = |v: Option<Result<_, ChatError>>| v.and_then(Result::err);
        err(self.send.value().get().map(|r| r.map(|_| ())))
            .or_else(|| err(self.regenerate.value().get().map(|r| r.map(|_| ()))))
            .or_else(|| err(self.edit.value().get().map(|r| r.map(|_| ()))))
            .or_else(|| err(self.stop.value().get()))
            .or_else(|| err(self.branch.value().get()))
            .or_else(|| err(self.update.value().get()))
            .or_else(|| err(self.delete.value().get()))
            .map(|e| e.message(Lang::current()))
    }
}

// Each part returns an `AnyView`: erasing the view types at part boundaries keeps them shallow enough for the
// release build's type-depth limit and avoids one giant monomorphised hydration routine per page.

/// The text of a reply streaming into the page: (message id, text so far).
type Live = RwSignal<Option<(i64, String)>>;

/// `/chat` (a new conversation) and `/chat/{id}`.
#[component]
pub fn ChatPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    // `/chat/{id}`: an id that is not a number names no conversation (404, like one that is not yours).
    let raw_id = Memo::new(move |_| params.with(|p| p.get("id")));
    let id = Memo::new(move |_| raw_id.get().and_then(|v| v.parse::<i64>().ok()));
    let archived = Memo::new(move |_| query.with(|q| q.get("archived").is_some()));
    let offset =
        Memo::new(move |_| query.with(|q| q.get("offset").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0).max(0)));
    let search = Memo::new(move |_| query.with(|q| q.get("q")).filter(|q| !q.trim().is_empty()));
    let actions = Actions::new();
    let refresh = RwSignal::new(0usize);
    let context = Resource::new(
        move || {
            (
                archived.get(),
                offset.get(),
                search.get(),
                actions.version(),
                refresh.get(),
            )
        },
        |(archived, offset, q, ..)| get_chat_context(archived, offset, q),
    );
    let conversation = Resource::new(
        move || (raw_id.get(), actions.version(), refresh.get()),
        |(raw_id, ..)| async move {
            match raw_id.map(|raw| raw.parse::<i64>()) {
                Some(Ok(id)) => get_conversation(id).await.map(Some),
                Some(Err(_)) => Err(ChatError::NotFound),
                None => Ok(None),
            }
        },
    );
    let live: Live = RwSignal::new(None);
    let t = Lang::current();

    // A message sent from /chat created a conversation: go to it. A deleted conversation: back to /chat.
    Effect::new(move |_| {
        if let Some(Ok(sent)) = actions.send.value().get()
            && id.get_untracked() != Some(sent.conversation_id)
        {
            use_navigate()(&format!("/chat/{}", sent.conversation_id), Default::default());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = actions.delete.value().get() {
            use_navigate()("/chat", Default::default());
        }
    });
    #[cfg(feature = "hydrate")]
    client::follow_replies(conversation, live, refresh);

    view! {
        <div class="chat">
            <Transition fallback=move || view! { <p class="loading">{t.t("Loading…", "Chargement…")}</p> }>
                {move || Suspend::new(async move {
                    match context.await {
                        Ok(ctx) => view! { <Sidebar ctx=ctx.clone() current=id archived offset/> }.into_any(),
                        Err(ChatError::Unauthenticated) => login_redirect().into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.message(t)}</p> }.into_any(),
                    }
                })}
            </Transition>
            <section class="conversation" aria-label=t.t("Conversation", "Conversation")>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let ctx = context.await.ok();
                        match conversation.await {
                            Ok(view) => view! { <ConversationPane view ctx actions live/> }.into_any(),
                            Err(ChatError::NotFound) => {
                                crate::core::not_found::set_not_found_status();
                                view! {
                                <Title text=t.t("Not found", "Introuvable")/>
                                <h1>{t.t("Conversation not found", "Conversation introuvable")}</h1>
                                <p>
                                    {t.t("It does not exist, or it is not yours. ", "Elle n’existe pas, ou elle n’est pas à vous. ")}
                                    <a href="/chat">{t.t("Start a new one", "En commencer une nouvelle")}</a>
                                </p>
                            }.into_any()
                            }
                            Err(_) => ().into_any(),
                        }
                    })}
                </Transition>
            </section>
        </div>
    }
}

#[component]
fn Sidebar(ctx: ChatContext, current: Memo<Option<i64>>, archived: Memo<bool>, offset: Memo<i64>) -> impl IntoView {
    let t = Lang::current();
    let base = if archived.get_untracked() {
        "/chat?archived=1&"
    } else {
        "/chat?"
    };
    let newer =
        (offset.get_untracked() > 0).then(|| format!("{base}offset={}", (offset.get_untracked() - PAGE_SIZE).max(0)));
    let older = ctx
        .has_more
        .then(|| format!("{base}offset={}", offset.get_untracked() + PAGE_SIZE));
    let items = ctx
        .conversations
        .into_iter()
        .map(|c| {
            let href = format!("/chat/{}", c.id);
            let is_current = move || current.get() == Some(c.id);
            view! {
                <li class:pinned=c.is_pinned>
                    <a href=href aria-current=move || is_current().then_some("page") data-testid="conversation-link">
                        {c.is_pinned.then_some(view! { <span class="pin" aria-label=t.t("Pinned", "Épinglée")>"📌 "</span> })}
                        {c.title}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="sidebar" aria-label="Conversations">
            <a class="button new-chat" href="/chat">{t.t("+ New conversation", "+ Nouvelle conversation")}</a>
            <form class="search" method="get" action="/chat" role="search">
                <label for="q" class="visually-hidden">{t.t("Search conversations", "Chercher dans les conversations")}</label>
                <input id="q" name="q" type="search" maxlength="200"
                    placeholder=t.t("Search titles and messages", "Chercher dans les titres et les messages")
                    value=ctx.query.clone().unwrap_or_default() data-testid="search"/>
            </form>
            {ctx.query.clone().map(|q| view! {
                <p class="hint" data-testid="search-results">
                    {match t { Lang::En => format!("Results for “{q}” · "), Lang::Fr => format!("Résultats pour « {q} » · ") }}
                    <a href="/chat">{t.t("Clear", "Effacer")}</a>
                </p>
            })}
            <p class="filters">
                <a href="/chat" aria-current=move || (!archived.get()).then_some("page")>{t.t("Active", "Actives")}</a>
                " · "
                <a href="/chat?archived=1" aria-current=move || archived.get().then_some("page")>{t.t("Archived", "Archivées")}</a>
            </p>
            <ul class="conversation-list">{items}</ul>
            <p class="pager">
                {newer.map(|href| view! { <a href=href>{t.t("← Newer", "← Plus récentes")}</a> })}
                {older.map(|href| view! { <a href=href>{t.t("Older →", "Plus anciennes →")}</a> })}
            </p>
        </nav>
    }
    .into_any()
}

#[component]
fn ConversationPane(
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
        || t.t("New conversation", "Nouvelle conversation").to_string(),
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
                {t.t("No AI model is configured: replies come from the built-in demo provider. Set ", "Aucun modèle d’IA n’est configuré : les réponses viennent du fournisseur de démonstration intégré. Définissez ")}
                <code>"MISTRAL_API_KEY"</code>
                {t.t(" to use a real model.", " pour utiliser un vrai modèle.")}
            </p>
        })}
        {view.clone().map(|v| view! { <ConversationHeader view=v models=models.clone() actions/> })}
        {view.is_none().then(|| view! {
            <h1>{t.t("New conversation", "Nouvelle conversation")}</h1>
            <p class="hint">{t.t("Using ", "Modèle : ")} {preferred.clone()} "."</p>
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
fn copy_code(ev: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    client::copy_code(&ev);
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

#[component]
fn ConversationHeader(view: ConversationView, models: Vec<String>, actions: Actions) -> impl IntoView {
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
                        {if view.is_pinned { t.t("Unpin", "Désépingler") } else { t.t("Pin", "Épingler") }}
                    </button>
                </ActionForm>
                <ActionForm action=actions.update>
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="archived" value=(!archived).to_string()/>
                    <button type="submit" class="link">
                        {if archived { t.t("Restore", "Restaurer") } else { t.t("Archive", "Archiver") }}
                    </button>
                </ActionForm>
                <a href=format!("/chat/{id}/export/md") download>{t.t("Export Markdown", "Exporter en Markdown")}</a>
                <a href=format!("/chat/{id}/export/json") download>{t.t("Export JSON", "Exporter en JSON")}</a>
                <details>
                    <summary>{t.t("Rename", "Renommer")}</summary>
                    <ActionForm action=actions.update attr:class="inline-form">
                        <input type="hidden" name="id" value=id/>
                        <label for="title">{t.t("Title", "Titre")}</label>
                        <input id="title" name="title" value=view.title.clone() maxlength="255" required/>
                        <button type="submit">{t.t("Save", "Enregistrer")}</button>
                    </ActionForm>
                </details>
                <details>
                    <summary>{t.t("Settings", "Réglages")}</summary>
                    <ActionForm action=actions.update attr:class="form">
                        <input type="hidden" name="id" value=id/>
                        <label for="model">{t.t("Model", "Modèle")}</label>
                        <select id="model" name="model">
                            <option value="default" selected=current_model.is_empty()>{t.t("My preferred model", "Mon modèle préféré")}</option>
                            {models.into_iter().map(|m| {
                                let selected = m == current_model;
                                view! { <option value=m.clone() selected=selected>{m.clone()}</option> }
                            }).collect_view()}
                        </select>
                        <label for="system_prompt">{t.t("System prompt", "Consigne système")}</label>
                        <textarea id="system_prompt" name="system_prompt" rows="3">{rcdata_text(&view.system_prompt)}</textarea>
                        <label for="tags">{t.t("Tags (comma-separated)", "Étiquettes (séparées par des virgules)")}</label>
                        <input id="tags" name="tags" value=view.tags.join(", ")/>
                        <button type="submit">{t.t("Save", "Enregistrer")}</button>
                    </ActionForm>
                </details>
                <details>
                    <summary>{t.t("Delete", "Supprimer")}</summary>
                    <ActionForm action=actions.delete>
                        <input type="hidden" name="id" value=id/>
                        <p>{t.t("Delete this conversation and all its messages?", "Supprimer cette conversation et tous ses messages ?")}</p>
                        <button type="submit" class="danger">{t.t("Delete conversation", "Supprimer la conversation")}</button>
                    </ActionForm>
                </details>
            </div>
        </header>
    }
    .into_any()
}

#[component]
fn MessageItem(
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
        t.t("You", "Vous")
    } else {
        t.t("Assistant", "Assistant")
    };
    let (index, count) = message.branch;
    let body = if generating {
        view! { <div class="message-body streaming" data-testid="streaming">{streamed}<span class="cursor" aria-hidden="true">"▍"</span></div> }.into_any()
    } else {
        view! { <div class="message-body markdown" inner_html=message.html.clone()></div> }.into_any()
    };
    let status_note = match message.status.as_str() {
        "stopped" => Some(t.t("Stopped.", "Arrêtée.")),
        "interrupted" => Some(t.t(
            "Interrupted: the server stopped while writing this reply.",
            "Interrompue : le serveur s’est arrêté pendant qu’il écrivait cette réponse.",
        )),
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
                                <button type="submit" class="link" aria-label=t.t("Previous version", "Version précédente")>"‹"</button>
                            </ActionForm>
                        })}
                        <span data-testid="branch-position">{format!("{index}/{count}")}</span>
                        {message.next_sibling.map(|next| view! {
                            <ActionForm action=actions.branch attr:class="inline">
                                <input type="hidden" name="message_id" value=next.to_string()/>
                                <button type="submit" class="link" aria-label=t.t("Next version", "Version suivante")>"›"</button>
                            </ActionForm>
                        })}
                    </div>
                })}
            </div>
            {body}
            {status_note.map(|note| view! { <p class="message-status">{note}</p> })}
            {message.error.clone().map(|error| view! {
                <div class="message-error" role="alert" data-testid="message-error">
                    <p>{error}</p>
                    <ActionForm action=actions.regenerate attr:class="inline">
                        <input type="hidden" name="message_id" value=message_id/>
                        <button type="submit" disabled=busy>{t.t("Retry", "Réessayer")}</button>
                    </ActionForm>
                </div>
            })}
            <div class="message-actions">
                {generating.then(|| view! {
                    <ActionForm action=actions.stop attr:class="inline">
                        <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
                        <input type="hidden" name="message_id" value=message_id/>
                        <button type="submit" data-testid="stop">{t.t("Stop", "Arrêter")}</button>
                    </ActionForm>
                })}
                {(is_last_reply && !generating && message.error.is_none()).then(|| view! {
                    <ActionForm action=actions.regenerate attr:class="inline">
                        <input type="hidden" name="message_id" value=message_id/>
                        <button type="submit" class="link" disabled=busy data-testid="regenerate">{t.t("Regenerate", "Régénérer")}</button>
                    </ActionForm>
                })}
                {(message.role == "user").then(|| view! {
                    <details class="edit">
                        <summary>{t.t("Edit", "Modifier")}</summary>
                        <ActionForm action=actions.edit attr:class="form">
                            <input type="hidden" name="message_id" value=message_id/>
                            <label for=format!("edit-{id}")>{t.t("Edit your message", "Modifiez votre message")}</label>
                            <textarea id=format!("edit-{id}") name="content" rows="3">{rcdata_text(&message.content)}</textarea>
                            <button type="submit" disabled=busy>{t.t("Save and send", "Enregistrer et envoyer")}</button>
                        </ActionForm>
                    </details>
                })}
            </div>
        </li>
    }
    .into_any()
}

#[component]
fn Composer(conversation_id: Option<i64>, generating: Option<i64>, actions: Actions) -> impl IntoView {
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    // Empty the box once a message went through.
    Effect::new(move |_| {
        if let Some(Ok(_)) = actions.send.value().get()
            && let Some(el) = textarea.get_untracked()
        {
            el.set_value("");
        }
    });
    let pending = actions.send.pending();
    let t = Lang::current();
    let disabled = move || generating.is_some() || pending.get();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        // Enter sends, Shift+Enter starts a new line (and nothing interrupts an IME composition).
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            #[cfg(feature = "hydrate")]
            client::submit_form_of(&ev);
        }
    };
    view! {
        <ActionForm action=actions.send attr:class="composer">
            {conversation_id.map(|id| view! { <input type="hidden" name="conversation_id" value=id.to_string()/> })}
            <label for="content" class="visually-hidden">{t.t("Message", "Message")}</label>
            <textarea id="content" name="content" rows="3" node_ref=textarea required
                placeholder=t.t(
                    "Message ThiCode — Enter sends, Shift+Enter adds a line",
                    "Écrivez à ThiCode — Entrée envoie, Maj+Entrée ajoute une ligne",
                )
                on:keydown=on_keydown data-testid="composer"></textarea>
            <button type="submit" disabled=disabled data-testid="send">
                {move || if generating.is_some() {
                    t.t("Generating…", "Génération…")
                } else if pending.get() {
                    t.t("Sending…", "Envoi…")
                } else {
                    t.t("Send", "Envoyer")
                }}
            </button>
        </ActionForm>
    }
    .into_any()
}

/// Browser-only parts: following a reply over Server-Sent Events, and submitting on Enter.
#[cfg(feature = "hydrate")]
mod client {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{EventSource, MessageEvent};

    use super::Live;
    use crate::chat::types::{ChatError, ConversationView};

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

    /// Streams the reply being generated in the conversation on screen, if any, into `live`; refetches the page
    /// when it ends.
    pub(super) fn follow_replies(
        conversation: Resource<Result<Option<ConversationView>, ChatError>>,
        live: Live,
        refresh: RwSignal<usize>,
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
            let done = Closure::<dyn FnMut(MessageEvent)>::new(move |_e: MessageEvent| {
                current.set_value(None);
                refresh.update(|v| *v += 1);
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
            button.set_text_content(Some(crate::core::i18n::Lang::current().t("Copied", "Copié")));
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
}
