//! `/chat` and `/chat/{id}`: the sidebar of conversations, the messages of the branch on screen and the composer.
//! Every control is a form (`ActionForm`), so the page works without JavaScript; with it, replies stream in token by
//! token over Server-Sent Events and Enter sends. One component (or a small family) per file; `client` holds the
//! browser-only code.

#[cfg(feature = "hydrate")]
mod client;
mod composer;
mod conversation;
mod message;
mod sidebar;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::accounts::pages::login_redirect;
use crate::chat::server_fns::{
    DeleteConversation, EditMessage, Regenerate, SelectBranch, SendMessage, StopReply, UpdateConversation,
    get_chat_context, get_conversation,
};
use crate::core::error::AppError;
use crate::core::i18n::Lang;

use conversation::ConversationPane;
use sidebar::Sidebar;

/// The actions of the page, shared by its parts.
#[derive(Clone, Copy)]
pub(super) struct Actions {
    send: ServerAction<SendMessage>,
    regenerate: ServerAction<Regenerate>,
    edit: ServerAction<EditMessage>,
    stop: ServerAction<StopReply>,
    branch: ServerAction<SelectBranch>,
    update: ServerAction<UpdateConversation>,
    delete: ServerAction<DeleteConversation>,
}

impl Actions {
    pub(super) fn new() -> Self {
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
    pub(super) fn version(self) -> usize {
        self.send.version().get()
            + self.regenerate.version().get()
            + self.edit.version().get()
            + self.stop.version().get()
            + self.branch.version().get()
            + self.update.version().get()
            + self.delete.version().get()
    }

    /// The message of the last failed action, if any (the newest action's outcome wins).
    pub(super) fn error(self) -> Option<String> {
        let err = |v: Option<Result<_, AppError>>| v.and_then(Result::err);
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
pub(super) type Live = RwSignal<Option<(i64, String)>>;

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
                Some(Err(_)) => Err(AppError::NotFound),
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
                        Err(AppError::Unauthenticated) => login_redirect().into_any(),
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
                            Err(AppError::NotFound) => {
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
