//! `/chat` and `/chat/{id}`: the sidebar of conversations, the messages of the branch on screen and the composer.
//! Every control is a form (`ActionForm`), so the page works without JavaScript; with it, replies stream in token by
//! token over Server-Sent Events and Enter sends. One component (or a small family) per file; `client` holds the
//! browser-only code.

#[cfg(feature = "hydrate")]
mod client;
mod composer;
mod conversation;
mod groups;
mod import;
mod message;
mod shared;
mod shares;
mod shortcuts;
mod sidebar;

use leptos::prelude::*;

use crate::tr;
pub use import::ImportPage;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
pub use shared::SharedPage;
pub use shares::SharesPage;

use crate::accounts::pages::login_redirect;
use crate::chat::server_fns::{
    DeleteConversation, EditMessage, ForkMessage, Regenerate, SelectBranch, SendMessage, StopReply, UpdateConversation,
    get_chat_context, get_conversation,
};
use crate::chat::types::{ChatContext, ConversationSummary, ConversationView, MessageView, PAGE_SIZE, Sent};
use crate::core::dialog::{DIALOG_PARAM, Modal};
use crate::core::error::AppError;
use crate::core::i18n::Lang;

use crate::core::csrf::CsrfField;
use conversation::ConversationPane;
use shortcuts::ShortcutsDialog;
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
    fork: ServerAction<ForkMessage>,
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
            fork: ServerAction::new(),
        }
    }

    /// Changes whenever an action completes whose effect on the conversation on screen the page fetches again. A
    /// send, regenerate or edit is not one: its answer carries the conversation as it now is ([`Sent`]), and the
    /// reply's stream ends with the finished message, so a message costs one request and its stream. Nor are a delete
    /// or a fork: they leave the conversation on screen as it was, or the page goes to another.
    pub(super) fn refetch_version(self) -> usize {
        self.stop.version().get() + self.branch.version().get() + self.update.version().get()
    }

    /// [`Self::refetch_version`] for the sidebar's list, which a delete or a fork changes too.
    pub(super) fn list_version(self) -> usize {
        self.refetch_version() + self.delete.version().get() + self.fork.version().get()
    }

    /// The answers of send, regenerate and edit, each as it arrives.
    fn sent(self) -> [MappedSignal<Option<Result<Sent, AppError>>>; 3] {
        [self.send.value(), self.regenerate.value(), self.edit.value()]
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
            .or_else(|| err(self.fork.value().get().map(|r| r.map(|_| ()))))
            .map(|e| e.message(Lang::current()))
    }
}

/// Data the page already has without asking the server (from an action's answer or a stream's end): kept here,
/// then shown by bumping the version a resource depends on, whose fetcher takes it instead of fetching. (Writing
/// into a resource directly would do too, but a `Suspend` that reads it stops following it afterwards.)
struct Known<T: Send + Sync + 'static> {
    value: StoredValue<Option<T>>,
    version: RwSignal<usize>,
}

impl<T: Send + Sync + 'static> Clone for Known<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Known<T> {}

impl<T: Send + Sync + 'static> Known<T> {
    fn new() -> Self {
        Self {
            value: StoredValue::new(None),
            version: RwSignal::new(0),
        }
    }

    /// Tracks the version, for a resource's source.
    fn version(self) -> usize {
        self.version.get()
    }

    /// Keeps `value` for the next fetch, whatever starts it.
    fn keep(self, value: T) {
        self.value.set_value(Some(value));
    }

    /// Keeps `value` and starts the fetch that takes it.
    fn show(self, value: T) {
        self.keep(value);
        self.version.update(|v| *v += 1);
    }

    /// The kept value if `wanted` accepts it; it is taken either way.
    fn take(self, wanted: impl FnOnce(&T) -> bool) -> Option<T> {
        self.value
            .try_update_value(|v| v.take())
            .flatten()
            .filter(|value| wanted(value))
    }
}

/// Puts `summary` where the sidebar's first page lists it now: pinned ones first, then by last activity.
fn list_first(ctx: &mut ChatContext, summary: ConversationSummary) {
    let list = &mut ctx.conversations;
    list.retain(|c| c.id != summary.id);
    list.push(summary);
    list.sort_by_key(|c| std::cmp::Reverse((c.is_pinned, c.last_activity, c.id)));
    if list.len() > PAGE_SIZE as usize {
        list.truncate(PAGE_SIZE as usize);
        ctx.has_more = true;
    }
}

// Each part returns an `AnyView`: erasing the view types at part boundaries keeps them shallow enough for the
// release build's type-depth limit and avoids one giant monomorphised hydration routine per page.

/// A reply streaming into the page: its text so far, and that text rendered by the server (sanitised Markdown, as
/// the finished reply will be) once a stream event brought it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct LiveReply {
    /// The reply's id.
    pub id: i64,
    /// Its text so far.
    pub text: String,
    /// The server's rendering of a recent `text`.
    pub html: Option<String>,
    /// The server's rendering of its tool calls so far, and of the pages they found, once a step event brought it.
    pub steps: Option<(String, String)>,
}

/// The reply streaming into the page, if any.
pub(super) type Live = RwSignal<Option<LiveReply>>;

/// The conversation a Delete (in the sidebar's menus or the header's) asks to confirm: one dialog for the page.
#[derive(Clone, Copy)]
pub(super) struct Deleting(RwSignal<Option<(i64, String)>>);

impl Deleting {
    /// Opens the confirmation for conversation `id`.
    pub(super) fn ask(self, id: i64, title: String) {
        self.0.set(Some((id, title)));
        #[cfg(feature = "hydrate")]
        if let Some(dialog) = crate::core::dialog::client::dialog_named("delete-dialog") {
            let _ = dialog.show_modal();
        }
    }
}

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
    // Which dialog or edit form the address asks for (the links that open them without JavaScript), and a suggestion
    // to put in the composer: read as the page is rendered, not followed (with JavaScript the page opens them itself).
    let asked = move |name: &str| query.with_untracked(|q| q.get(name));
    let dialog = asked(DIALOG_PARAM);
    let actions = Actions::new();
    // The message being edited in place. The page keeps it, not the conversation pane: the pane is drawn again when
    // a reply ends or a title arrives, and that must not close an editor the user just opened. It follows the
    // address (`?edit=`; another conversation closes it) and closes once the edit is sent.
    let editing = RwSignal::new(asked("edit").and_then(|v| v.parse::<i64>().ok()));
    Effect::watch(
        move || (id.get(), query.with(|q| q.get("edit"))),
        move |(_, edit), _, _| editing.set(edit.as_deref().and_then(|v| v.parse::<i64>().ok())),
        false,
    );
    Effect::watch(
        move || actions.edit.version().get(),
        move |_, _, _| {
            if let Some(Ok(_)) = actions.edit.value().get_untracked() {
                editing.set(None);
            }
        },
        false,
    );
    // Bumped when a stream ends in a way the page cannot apply by itself.
    let refresh = RwSignal::new(0usize);
    let known_context = Known::<ChatContext>::new();
    let known_view = Known::<ConversationView>::new();
    let context = crate::core::codec::resource(
        move || {
            (
                archived.get(),
                offset.get(),
                search.get(),
                actions.list_version(),
                refresh.get(),
                known_context.version(),
            )
        },
        move |(archived, offset, q, ..)| async move {
            match known_context.take(|_| true) {
                Some(ctx) => Ok(ctx),
                None => get_chat_context(archived, offset, q).await,
            }
        },
    );
    let conversation = crate::core::codec::resource(
        move || {
            (
                raw_id.get(),
                actions.refetch_version(),
                refresh.get(),
                known_view.version(),
            )
        },
        move |(raw_id, ..)| async move {
            match raw_id.map(|raw| raw.parse::<i64>()) {
                Some(Ok(id)) => match known_view.take(|v| v.id == id) {
                    Some(view) => Ok(Some(view)),
                    None => get_conversation(id).await.map(Some),
                },
                Some(Err(_)) => Err(AppError::NotFound),
                None => Ok(None),
            }
        },
    );
    let live: Live = RwSignal::new(None);
    let deleting = Deleting(RwSignal::new(
        (dialog.as_deref() == Some("delete"))
            .then(|| id.get_untracked())
            .flatten()
            .map(|id| (id, String::new())),
    ));
    // The reader follows the latest message until they scroll up; another conversation opens at its end again.
    let at_bottom = RwSignal::new(true);
    Effect::new(move |_| {
        id.track();
        at_bottom.set(true);
    });
    let t = Lang::current();

    // A send, regenerate or edit answers with the conversation as it now is: show it (going to it when the send from
    // /chat created it) and list it first in the sidebar. A deleted conversation: back to /chat.
    let show = move |sent: Sent| {
        // What was just sent, and the reply to it, are what the reader wants to see.
        at_bottom.set(true);
        // A temporary chat is never listed.
        let in_sidebar = !sent.view.temporary
            && !archived.get_untracked()
            && offset.get_untracked() == 0
            && search.get_untracked().is_none();
        if in_sidebar && let Some(Ok(mut ctx)) = context.get_untracked() {
            list_first(&mut ctx, sent.summary.clone());
            known_context.show(ctx);
        }
        if id.get_untracked() == Some(sent.view.id) {
            known_view.show(sent.view);
        } else {
            // The navigation fetches the conversation: it finds it known.
            let path = format!("/chat/{}", sent.view.id);
            known_view.keep(sent.view);
            use_navigate()(&path, Default::default());
        }
    };
    // The finished reply of a stream, in place of the streamed text; `false` when it is not on screen.
    let finished = move |message: MessageView| {
        let Some(Ok(Some(mut view))) = conversation.get_untracked() else {
            return false;
        };
        let Some(slot) = view.messages.iter_mut().find(|m| m.id == message.id) else {
            return false;
        };
        *slot = message;
        known_view.show(view);
        true
    };
    for answer in actions.sent() {
        Effect::new(move |_| {
            if let Some(Ok(sent)) = answer.get() {
                show(sent);
            }
        });
    }
    // The files chosen in the composers, which outlive them until their message is sent.
    let uploads = crate::files::ui::Uploads::new();
    provide_context(uploads);
    Effect::new(move |_| {
        if let Some(Ok(_)) = actions.send.value().get() {
            #[cfg(feature = "hydrate")]
            {
                client::forget_sent_draft();
                for file in uploads.sent() {
                    crate::files::client::release(&file);
                }
            }
        }
    });
    // A branch made into a new chat: opened.
    Effect::new(move |_| {
        if let Some(Ok(new)) = actions.fork.value().get() {
            use_navigate()(&format!("/chat/{new}"), Default::default());
        }
    });
    // A deleted conversation: closed, and when it was the one on screen, back to /chat.
    Effect::new(move |_| {
        if let Some(Ok(())) = actions.delete.value().get() {
            #[cfg(feature = "hydrate")]
            crate::core::dialog::client::close_dialogs();
            let deleted = deleting.0.get_untracked().map(|(deleted, _)| deleted);
            if deleted.is_none() || deleted == id.get_untracked() {
                use_navigate()("/chat", Default::default());
            }
        }
    });
    #[cfg(feature = "hydrate")]
    client::follow_replies(conversation, live, refresh, finished);
    #[cfg(not(feature = "hydrate"))]
    let _ = finished;

    #[cfg(feature = "hydrate")]
    {
        client::close_drawer_on_navigation();
        shortcuts::client::install();
    }
    let delete_open = deleting.0.get_untracked().is_some();
    let shortcuts_open = dialog.as_deref() == Some("shortcuts");
    let close_delete = id
        .get_untracked()
        .map_or_else(|| "/chat".to_string(), |id| format!("/chat/{id}"));

    view! {
        <div class="chat">
            <input type="checkbox" id="drawer" class="drawer-toggle visually-hidden" aria-label=tr!(t, chat.sidebar.conversations)
                data-testid="drawer-toggle"/>
            <Transition fallback=move || view! { <p class="loading">{tr!(t, chat.page.loading)}</p> }>
                {move || Suspend::new(async move {
                    match context.await {
                        Ok(ctx) => view! { <Sidebar ctx=ctx.clone() current=id archived offset actions deleting/> }.into_any(),
                        Err(AppError::Unauthenticated) => login_redirect().into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.message(t)}</p> }.into_any(),
                    }
                })}
            </Transition>
            <label for="drawer" class="drawer-backdrop"><span class="visually-hidden">{tr!(t, chat.sidebar.close)}</span></label>
            <section class="conversation" aria-label=tr!(t, chat.page.conversation)>
                <Transition fallback=|| ()>
                    {move || {
                        let dialog = asked(DIALOG_PARAM);
                        let prompt = asked("prompt").unwrap_or_default();
                        let kept = crate::files::ui::kept_in_address(asked("attach").as_deref());
                        Suspend::new(async move {
                        let ctx = context.await.ok();
                        match conversation.await {
                            Ok(view) => view! {
                                <ConversationPane view ctx actions live deleting dialog editing prompt kept at_bottom/>
                            }.into_any(),
                            Err(AppError::NotFound) if id.get_untracked().is_some_and(|id| id < 0) => {
                                // A temporary chat (negative ids) that was forgotten.
                                crate::core::not_found::set_not_found_status();
                                view! {
                                <Title text=tr!(t, chat.temporary.gone_title)/>
                                <div class="column missing" data-testid="temporary-gone">
                                    <h1>{tr!(t, chat.temporary.gone_title)}</h1>
                                    <p>
                                        {tr!(t, chat.temporary.gone)}" "
                                        <a href="/chat">{tr!(t, chat.page.start_new_one)}</a>
                                    </p>
                                </div>
                            }.into_any()
                            }
                            Err(AppError::NotFound) => {
                                crate::core::not_found::set_not_found_status();
                                view! {
                                <Title text=tr!(t, chat.page.not_found)/>
                                <div class="column missing">
                                    <h1>{tr!(t, chat.page.conversation_not_found)}</h1>
                                    <p>
                                        {tr!(t, chat.page.does_not_exist_not)}
                                        <a href="/chat">{tr!(t, chat.page.start_new_one)}</a>
                                    </p>
                                </div>
                            }.into_any()
                            }
                            Err(_) => ().into_any(),
                        }
                    })}}
                </Transition>
            </section>
            <Modal id="delete-dialog" title=tr!(t, chat.conversation.delete_conversation).to_string() open=delete_open
                close=close_delete.clone()>
                <p>
                    {move || deleting.0.with(|d| d.as_ref().map(|(_, title)| title.clone()).filter(|t| !t.is_empty()))
                        .map(|title| format!("“{title}” — "))}
                    {tr!(t, chat.conversation.delete_conversation_all_messages)}
                </p>
                <ActionForm action=actions.delete>
                    <CsrfField/>
                    <input type="hidden" name="id" value=move || deleting.0.with(|d| d.as_ref().map(|(id, _)| id.to_string()).unwrap_or_default())/>
                    <div class="modal-actions">
                        <a class="button" href=close_delete data-close="">{tr!(t, core.dialog.cancel)}</a>
                        <button type="submit" class="danger" data-testid="confirm-delete">{tr!(t, chat.conversation.delete)}</button>
                    </div>
                </ActionForm>
            </Modal>
            <ShortcutsDialog open=shortcuts_open/>
        </div>
    }
}

crate::lazy_section!(shared_view, __preload_shared_view, SharedPages {
    /// `/s/{token}` (a shared conversation, for anyone with the link) as a lazy route: a split point of its own, so
    /// the account forms do not carry its code.
    SharedRoute => SharedPage,
});

crate::lazy_page!(
    /// `/chat` and `/chat/{id}` as a lazy route.
    ChatRoute => ChatPage
);
