//! The conversation on screen: its header (drawer button, title renamed in place, model picker, pin, settings and a
//! menu with archive, export and delete), the messages in their own scrolling area, which follows a streaming reply
//! while the reader stays at the bottom, and the composer. A new conversation shows a greeting and suggestions.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::chat::types::{ChatContext, ConversationView};
use crate::core::dialog::{Modal, open_link};
use crate::core::i18n::Lang;
use crate::core::icons::{Icon, Svg};
use crate::core::layout::{NoScriptRefresh, rcdata_text};
use crate::tr;

use super::composer::Composer;
use super::message::MessageItem;
use super::sidebar::ArchiveToggle;
use super::{Actions, Deleting, Live};
use crate::core::csrf::CsrfField;
use crate::files::ui::{ModelChoice, Uploads};

#[component]
pub(super) fn ConversationPane(
    view: Option<ConversationView>,
    ctx: Option<ChatContext>,
    actions: Actions,
    live: Live,
    deleting: Deleting,
    /// The dialog the page's address opens (`?dialog=`).
    dialog: Option<String>,
    /// The message being edited in place (the page's).
    editing: RwSignal<Option<i64>>,
    /// Text for the composer to start with (`?prompt=`).
    prompt: String,
    /// Files for the composer to start with (`?attach=`, kept by a refused send without JavaScript).
    kept: Vec<crate::files::Attachment>,
    /// Whether the reader is at the latest message (kept by the page across renders).
    at_bottom: RwSignal<bool>,
) -> impl IntoView {
    let t = Lang::current();
    let demo = ctx.as_ref().is_some_and(|c| c.demo);
    let models = ctx.as_ref().map(|c| c.models.clone()).unwrap_or_default();
    let preferred = ctx.as_ref().map(|c| c.preferred_model.clone()).unwrap_or_default();
    let vision = ctx.as_ref().map(|c| c.vision_models.clone()).unwrap_or_default();
    // The picker's choice, for the composer's warning about images.
    provide_context(ModelChoice::new(
        view.as_ref().map(|v| v.model.clone()).unwrap_or_default(),
        preferred.clone(),
        vision,
    ));
    let uploads = use_context::<Uploads>().unwrap_or_default();
    let conversation_id = view.as_ref().map(|v| v.id);
    // Files dropped anywhere on the conversation go to its composer.
    let dragging = RwSignal::new(false);
    let on_dragover = move |ev: leptos::ev::DragEvent| {
        #[cfg(feature = "hydrate")]
        if crate::files::client::carries_files(&ev) {
            ev.prevent_default();
            dragging.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_dragleave = move |ev: leptos::ev::DragEvent| {
        // Only when leaving for somewhere outside the drop area.
        #[cfg(feature = "hydrate")]
        if crate::files::client::left_page(&ev) {
            dragging.set(false);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        crate::files::client::take_files(&ev, ev.data_transfer(), uploads, conversation_id);
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, uploads);
    };
    let greeting_name = ctx.as_ref().map(|c| c.greeting_name.clone()).unwrap_or_default();
    // The tools menu: the conversation's, or on the new chat the user's default.
    let tools_html = match &view {
        Some(v) => v.tools_html.clone(),
        None => ctx.as_ref().map(|c| c.tools_html.clone()).unwrap_or_default(),
    };
    let generating = view
        .as_ref()
        .and_then(|v| v.messages.iter().find(|m| m.is_generating()).map(|m| m.id));
    let asking = view.as_ref().is_some_and(|v| {
        v.messages
            .iter()
            .any(|m| m.steps_html.contains(r#"data-status="awaiting_approval""#))
    });
    let title = view.as_ref().map_or_else(
        || tr!(t, chat.conversation.new_conversation).to_string(),
        |v| v.title.clone(),
    );
    let last_reply = view
        .as_ref()
        .and_then(|v| v.messages.iter().rev().find(|m| m.role == "assistant").map(|m| m.id));
    let last_user = view
        .as_ref()
        .and_then(|v| v.messages.iter().rev().find(|m| m.role == "user").map(|m| m.id));
    let messages = view.as_ref().map(|v| v.messages.clone()).unwrap_or_default();
    // What the Copy button of each message copies: its Markdown source (the buttons themselves are static).
    #[cfg(feature = "hydrate")]
    let sources = StoredValue::new(messages.iter().map(|m| (m.id, m.content.clone())).collect::<Vec<_>>());
    let on_list_click = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        super::client::on_messages_click(&ev, sources, editing);
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let scroller = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    super::client::follow_bottom(scroller, at_bottom, live);
    let jump = move |_| {
        #[cfg(feature = "hydrate")]
        super::client::scroll_to_bottom(scroller, true);
    };
    let temporary = view.as_ref().is_some_and(|v| v.temporary);
    let idle_minutes = ctx.as_ref().map_or(30, |c| c.temporary_idle_minutes);
    let temporary_mode = ctx.as_ref().map(|c| c.temporary_chats.clone()).unwrap_or_default();
    // A new chat on a server that makes every chat temporary takes no files either.
    let no_files = temporary || (view.is_none() && temporary_mode == "enforced");
    let header = match view.clone() {
        Some(v) if v.temporary => view! { <TemporaryHeader view=v actions/> }.into_any(),
        Some(v) => view! {
            <ConversationHeader view=v models=models.clone() preferred=preferred.clone() actions dialog=dialog.clone() deleting/>
        }
        .into_any(),
        None => view! { <NewChatHeader models=models.clone() preferred=preferred.clone()/> }.into_any(),
    };
    let body = if view.is_none() {
        view! { <Welcome name=greeting_name/> }.into_any()
    } else {
        view! {
            <ol class="messages" on:click=on_list_click>
                {messages.into_iter().map(|m| {
                    let is_last_reply = Some(m.id) == last_reply;
                    let is_last_user = Some(m.id) == last_user;
                    view! {
                        <MessageItem message=m conversation_id=conversation_id.unwrap_or_default() is_last_reply
                            is_last_user editing busy=generating.is_some() actions live temporary/>
                    }
                }).collect_view()}
            </ol>
        }
        .into_any()
    };
    view! {
        <Title text=title.clone()/>
        {header}
        // Without JavaScript the page looks again while a reply is written, but not while it asks the user a question.
        {generating.filter(|_| !asking).map(|_| view! { <NoScriptRefresh seconds=2/> })}
        <div class="conversation-scroll" node_ref=scroller data-testid="scroller"
            on:dragover=on_dragover on:dragleave=on_dragleave on:drop=on_drop
            on:scroll=move |_| {
                #[cfg(feature = "hydrate")]
                super::client::on_scroll(scroller, at_bottom);
            }>
            <div class="column">
                {demo.then(|| view! {
                    <p class="demo-banner" role="status" data-testid="demo-banner">
                        {tr!(t, chat.conversation.no_ai_model_configured)}
                        <code>"MISTRAL_API_KEY"</code>
                        {tr!(t, chat.conversation.use_real_model)}
                    </p>
                })}
                {temporary.then(|| view! {
                    <p class="temporary-banner" role="status" data-testid="temporary-banner">
                        {tr!(t, chat.temporary.banner, minutes = idle_minutes)}
                    </p>
                })}
                <div aria-live="polite">{body}</div>
            </div>
        </div>
        <div class="composer-wrap" class:dragging=move || dragging.get()
            on:dragover=on_dragover on:dragleave=on_dragleave on:drop=on_drop>
            <p class="drop-hint" aria-hidden="true">{tr!(t, files.ui.drop_here)}</p>
            // Above the composer rather than floating over the messages: it never covers a link or a button of theirs.
            <button type="button" class="jump-latest icon-button" hidden=move || at_bottom.get()
                aria-label=tr!(t, chat.conversation.jump_latest) data-tip=tr!(t, chat.conversation.jump_latest)
                class:tip-up=true on:click=jump data-testid="jump-latest">
                <Svg icon=Icon::ArrowDown/>
            </button>
            <div class="column">
                <Show when=move || actions.error().is_some()>
                    <p class="form-error chat-error" role="alert" data-testid="chat-error">{move || actions.error()}</p>
                </Show>
                <Composer conversation_id generating actions initial=prompt kept tools_html temporary=no_files
                    temporary_mode idle_minutes/>
            </div>
        </div>
    }
    .into_any()
}

/// The header of a temporary chat: its title, marked temporary, and Discard (it is forgotten at once). Nothing else
/// applies to a chat that is not stored.
#[component]
fn TemporaryHeader(view: ConversationView, actions: Actions) -> impl IntoView {
    let t = Lang::current();
    #[cfg(feature = "hydrate")]
    super::client::say_goodbye_on_leave(view.id);
    view! {
        <header class="conversation-header temporary">
            <DrawerButton/>
            <h1 data-testid="conversation-title">{view.title.clone()}</h1>
            <span class="badge temporary-badge" data-testid="temporary-badge">{tr!(t, chat.temporary.badge)}</span>
            <div class="conversation-tools">
                <ActionForm action=actions.delete>
                    <CsrfField/>
                    <input type="hidden" name="id" value=view.id/>
                    <button type="submit" class="button" data-testid="discard-temporary">{tr!(t, chat.temporary.discard)}</button>
                </ActionForm>
            </div>
        </header>
    }
}

/// The button that opens the conversation list on a phone (a label of the drawer's checkbox: no script needed).
#[component]
fn DrawerButton() -> impl IntoView {
    let t = Lang::current();
    view! {
        <label for="drawer" class="icon-button drawer-button tip-right" data-tip=tr!(t, chat.sidebar.conversations)
            data-testid="drawer-button">
            <Svg icon=Icon::Sidebar/>
            <span class="visually-hidden">{tr!(t, chat.sidebar.conversations)}</span>
        </label>
    }
}

/// The model picker: the provider's chat models, the user's default first. In a conversation it saves the choice
/// (at once with JavaScript, with its Apply button without); on a new chat it goes with the first message.
#[component]
fn ModelSelect(
    models: Vec<String>,
    preferred: String,
    current: String,
    #[prop(optional)] form: Option<&'static str>,
) -> impl IntoView {
    let t = Lang::current();
    let default_label = format!("{} ({preferred})", tr!(t, chat.conversation.my_preferred_model));
    let choice = use_context::<ModelChoice>();
    view! {
        <label for="model-picker" class="visually-hidden">{tr!(t, chat.conversation.model)}</label>
        <select id="model-picker" name="model" form=form data-testid="model-picker"
            on:change=move |ev| {
                if let Some(choice) = choice {
                    choice.chosen.set(event_target_value(&ev));
                }
                #[cfg(feature = "hydrate")]
                if form.is_none() {
                    super::client::submit_form_of(&ev);
                }
            }>
            <option value="default" selected=current.is_empty()>{default_label}</option>
            {models.into_iter().map(|m| {
                let selected = m == current;
                // Models that read images say so.
                let label = if choice.is_some_and(|c| c.reads_images(&m)) {
                    format!("{m} · {}", tr!(t, files.ui.vision))
                } else {
                    m.clone()
                };
                view! { <option value=m.clone() selected=selected>{label}</option> }
            }).collect_view()}
        </select>
    }
}

#[component]
fn NewChatHeader(models: Vec<String>, preferred: String) -> impl IntoView {
    let t = Lang::current();
    view! {
        <header class="conversation-header">
            <DrawerButton/>
            <h1 data-testid="conversation-title">{tr!(t, chat.conversation.new_conversation)}</h1>
            <div class="conversation-tools model-picker">
                <ModelSelect models preferred current=String::new() form="composer-form"/>
            </div>
        </header>
    }
}

/// The new-chat screen: a greeting, and prompts to start from. Each is a link that puts its text in the composer (the
/// server fills it in without JavaScript; with it, the text goes in at once and the composer takes the focus).
#[component]
fn Welcome(name: String) -> impl IntoView {
    let t = Lang::current();
    let suggestions = [
        tr!(t, chat.welcome.suggestion_explain),
        tr!(t, chat.welcome.suggestion_code),
        tr!(t, chat.welcome.suggestion_write),
        tr!(t, chat.welcome.suggestion_plan),
    ];
    view! {
        <div class="welcome" data-testid="welcome">
            <h2>{tr!(t, chat.welcome.hello, name = &name).to_string()}</h2>
            <p>{tr!(t, chat.welcome.how_can_help)}</p>
            <ul class="suggestions">
                {suggestions.into_iter().map(|text| view! {
                    <li>
                        <a class="button" href=format!("/chat?prompt={}", crate::core::document::encode_component(text))
                            data-testid="suggestion"
                            on:click=move |ev| {
                                #[cfg(feature = "hydrate")]
                                {
                                    ev.prevent_default();
                                    super::client::fill_composer(text);
                                }
                                #[cfg(not(feature = "hydrate"))]
                                let _ = ev;
                            }>
                            {text}
                        </a>
                    </li>
                }).collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn ConversationHeader(
    view: ConversationView,
    models: Vec<String>,
    preferred: String,
    actions: Actions,
    dialog: Option<String>,
    deleting: Deleting,
) -> impl IntoView {
    let t = Lang::current();
    let id = view.id;
    let here = format!("/chat/{id}");
    let archived = view.status == "archived";
    let renaming = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(())) = actions.update.value().get() {
            renaming.set(false);
            #[cfg(feature = "hydrate")]
            crate::core::dialog::client::close_dialogs();
        }
    });
    let title = StoredValue::new(view.title.clone());
    let shown_title = view.title.clone();
    let ask_delete = {
        let title = view.title.clone();
        move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            deleting.ask(id, title.clone());
        }
    };
    let open = |name: &str| dialog.as_deref() == Some(name);
    view! {
        <header class="conversation-header">
            <DrawerButton/>
            <Show when=move || renaming.get() fallback=move || view! {
                <h1 data-testid="conversation-title">
                    <a class="title-button" href=open_link(&format!("/chat/{id}"), "rename")
                        title=tr!(t, chat.conversation.rename)
                        on:click=move |ev| { ev.prevent_default(); renaming.set(true); }>
                        {shown_title.clone()}
                    </a>
                </h1>
            }>
                <ActionForm action=actions.update attr:class="rename-inline">
                    <CsrfField/>
                    <input type="hidden" name="id" value=id/>
                    <label for="title-inline" class="visually-hidden">{tr!(t, chat.conversation.title)}</label>
                    <input id="title-inline" name="title" value=title.get_value() maxlength="255" required autofocus
                        data-testid="title-input"
                        on:keydown=move |ev| if ev.key() == "Escape" { renaming.set(false) }/>
                    <button type="submit" class="primary">{tr!(t, chat.conversation.save)}</button>
                </ActionForm>
            </Show>
            <div class="conversation-tools">
                <ActionForm action=actions.update attr:class="model-picker">
                    <CsrfField/>
                    <input type="hidden" name="id" value=id/>
                    <ModelSelect models=models.clone() preferred=preferred.clone() current=view.model.clone()/>
                    <button type="submit" class="nojs-only">{tr!(t, chat.conversation.apply)}</button>
                </ActionForm>
                // On a phone the pin lives in the conversation list's menu only, so the model picker fits.
                <ActionForm action=actions.update attr:class="wide-only">
                    <CsrfField/>
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="pinned" value=(!view.is_pinned).to_string()/>
                    <button type="submit" class="icon-button" aria-pressed=view.is_pinned.to_string()
                        aria-label=tr!(t, chat.conversation.pin) data-tip=if view.is_pinned { tr!(t, chat.conversation.unpin) } else { tr!(t, chat.conversation.pin) }
                        data-testid="pin">
                        <Svg icon=Icon::Pin/>
                    </button>
                </ActionForm>
                <a class="icon-button" href=open_link(&here, "settings") data-dialog="settings-dialog"
                    aria-label=tr!(t, chat.conversation.settings) data-tip=tr!(t, chat.conversation.settings)
                    data-testid="open-settings">
                    <Svg icon=Icon::Settings/>
                </a>
                <details class="menu">
                    <summary class="icon-button tip-left" aria-label=tr!(t, chat.conversation.more_actions)
                        data-tip=tr!(t, chat.conversation.more_actions) data-testid="conversation-menu">
                        <Svg icon=Icon::More/>
                    </summary>
                    <ul class="menu-list">
                        <li><ArchiveToggle id archived actions testid="archive"/></li>
                        <li>
                            <a href=open_link(&here, "share") data-dialog="share-dialog" data-testid="share">
                                <Svg icon=Icon::Share/>{tr!(t, chat.share.share)}
                            </a>
                        </li>
                        <li><a href=format!("/chat/{id}/export/md") download rel="external"><Svg icon=Icon::Download/>{tr!(t, chat.conversation.export_markdown)}</a></li>
                        <li><a href=format!("/chat/{id}/export/json") download rel="external"><Svg icon=Icon::Download/>{tr!(t, chat.conversation.export_json)}</a></li>
                        <li>
                            <a class="danger-item" href=open_link(&here, "delete") on:click=ask_delete data-testid="delete">
                                <Svg icon=Icon::Trash/>{tr!(t, chat.conversation.delete)}
                            </a>
                        </li>
                    </ul>
                </details>
            </div>
        </header>
        {(!view.tags.is_empty()).then(|| view! {
            <ul class="tags column" aria-label=tr!(t, chat.conversation.tags)>
                {view.tags.iter().map(|tag| view! { <li>{tag.clone()}</li> }).collect_view()}
            </ul>
        })}
        // Without JavaScript the title link opens this dialog; with it, the title is edited in place.
        {open("rename").then({
            let here = here.clone();
            move || view! {
            <Modal id="rename-dialog" title=tr!(t, chat.conversation.rename).to_string() open=true close=here.clone()>
                <ActionForm action=actions.update attr:class="form">
                    <CsrfField/>
                    <input type="hidden" name="id" value=id/>
                    <label for="title">{tr!(t, chat.conversation.title)}</label>
                    <input id="title" name="title" value=view.title.clone() maxlength="255" required autofocus/>
                    <div class="modal-actions">
                        <a class="button" href=here.clone() data-close="">{tr!(t, core.dialog.cancel)}</a>
                        <button type="submit" class="primary">{tr!(t, chat.conversation.save)}</button>
                    </div>
                </ActionForm>
            </Modal>
        }})}
        <ShareDialog id open=open("share") close=here.clone() url=view.share_url.clone()/>
        <Modal id="settings-dialog" title=tr!(t, chat.conversation.settings).to_string() open=open("settings") close=here.clone()>
            <ActionForm action=actions.update attr:class="form">
                <CsrfField/>
                <input type="hidden" name="id" value=id/>
                <label for="system_prompt">{tr!(t, chat.conversation.system_prompt)}</label>
                <textarea id="system_prompt" name="system_prompt" rows="5">{rcdata_text(&view.system_prompt)}</textarea>
                <p class="hint">{tr!(t, chat.conversation.system_prompt_hint)}</p>
                <label for="tags">{tr!(t, chat.conversation.tags_comma_separated)}</label>
                <input id="tags" name="tags" value=view.tags.join(", ")/>
                <div class="modal-actions">
                    <a class="button" href=here.clone() data-close="">{tr!(t, core.dialog.cancel)}</a>
                    <button type="submit" class="primary" data-testid="save-settings">{tr!(t, chat.conversation.save)}</button>
                </div>
            </ActionForm>
        </Modal>
    }
    .into_any()
}

/// The conversation's share link: made, updated (a new snapshot of the branch on screen), copied or revoked.
#[component]
fn ShareDialog(id: i64, open: bool, close: String, url: Option<String>) -> impl IntoView {
    use crate::chat::server_fns::{RevokeShare, ShareConversation};
    let t = Lang::current();
    let share = ServerAction::<ShareConversation>::new();
    let revoke = ServerAction::<RevokeShare>::new();
    let url = RwSignal::new(url);
    Effect::new(move |_| {
        if let Some(Ok(link)) = share.value().get() {
            url.set(Some(link.url));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = revoke.value().get() {
            url.set(None);
        }
    });
    let error = move || {
        let failed = share
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| revoke.value().get().and_then(Result::err));
        failed.map(
            |e| view! { <p class="form-error" role="alert" data-testid="share-error">{e.message(Lang::current())}</p> },
        )
    };
    let copied = RwSignal::new(false);
    view! {
        <Modal id="share-dialog" title=tr!(t, chat.share.dialog_title).to_string() open close=close.clone()>
            <p class="hint">{tr!(t, chat.share.explain)}</p>
            {move || url.get().map(|link| {
                let to_copy = link.clone();
                view! {
                    <label for="share-url">{tr!(t, chat.share.link)}</label>
                    <div class="share-link">
                        <input id="share-url" readonly value=link data-testid="share-url"/>
                        <button type="button" class="js-only" data-testid="copy-share"
                            on:click=move |_| {
                                #[cfg(feature = "hydrate")]
                                super::client::copy_text(&to_copy);
                                #[cfg(not(feature = "hydrate"))]
                                let _ = &to_copy;
                                copied.set(true);
                            }>
                            <Svg icon=Icon::Copy/>
                            {move || if copied.get() { tr!(t, chat.share.copied) } else { tr!(t, chat.share.copy) }}
                        </button>
                    </div>
                }
            })}
            {error}
            <div class="modal-actions">
                <a class="button" href=close.clone() data-close="">{tr!(t, core.dialog.cancel)}</a>
                {move || url.get().is_some().then(|| view! {
                    <ActionForm action=revoke attr:class="inline">
                        <CsrfField/>
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="danger" data-testid="revoke-share">{tr!(t, chat.share.revoke)}</button>
                    </ActionForm>
                })}
                <ActionForm action=share attr:class="inline">
                    <CsrfField/>
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" class="primary" data-testid="create-share" disabled=move || share.pending().get()>
                        {move || if url.get().is_some() { tr!(t, chat.share.update) } else { tr!(t, chat.share.create) }}
                    </button>
                </ActionForm>
            </div>
        </Modal>
    }
}
