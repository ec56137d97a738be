//! The composer: the message box, which grows with its text up to about 40 % of the window (Enter sends,
//! Shift+Enter adds a line), and the Send button, which becomes Stop in the same place while a reply is written.
//! The focus stays in the box after a send, and a draft is kept per conversation while the tab lives. Files are
//! attached with the paperclip, by dropping them on the conversation or by pasting (`files::ui` shows them, and
//! `files::client` uploads them); without JavaScript the form has a plain file input and posts multipart to
//! `/chat/send`. The tools menu (`chat::tools_menu`, drawn on the server) sends the conversation's tools with the
//! message.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::core::i18n::Lang;
use crate::core::icons::{Icon, Svg};
use crate::core::layout::rcdata_text;
use crate::files::ui::{ComposerFiles, ModelChoice, Uploads};
use crate::tr;

use super::Actions;
use crate::core::csrf::CsrfField;

#[component]
pub(super) fn Composer(
    conversation_id: Option<i64>,
    generating: Option<i64>,
    actions: Actions,
    /// Text to start with (a suggestion followed without JavaScript, `?prompt=`).
    #[prop(optional)]
    initial: String,
    /// Files a refused send without JavaScript kept (`?attach=`).
    #[prop(optional)]
    kept: Vec<crate::files::Attachment>,
    /// The tools menu, rendered on the server (`chat::tools_menu`); empty without tools.
    #[prop(optional)]
    tools_html: String,
    /// In a temporary chat, or a new chat that will be one: no files (they would be stored).
    #[prop(optional)]
    temporary: bool,
    /// The server's temporary chats (`off`, `allowed`: a toggle on a new chat, `enforced`: a note).
    #[prop(optional)]
    temporary_mode: String,
    /// Minutes after which an idle temporary chat is forgotten.
    #[prop(optional)]
    idle_minutes: u64,
) -> impl IntoView {
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    let t = Lang::current();
    let uploads = use_context::<Uploads>().unwrap_or_default();
    let choice = use_context::<ModelChoice>();
    // Empty the box once a message sent from it went through (the page forgets its draft); the focus stays. Only
    // sends that end while this box is shown: the page shows the conversation again after each one, in a new box.
    Effect::watch(
        move || actions.send.version().get(),
        move |_, _, _| {
            if let Some(Ok(_)) = actions.send.value().get_untracked()
                && let Some(el) = textarea.try_get_untracked().flatten()
            {
                el.set_value("");
                #[cfg(feature = "hydrate")]
                let _ = el.focus();
            }
        },
        false,
    );
    #[cfg(feature = "hydrate")]
    {
        super::client::restore_draft(textarea, conversation_id, initial.clone());
        on_cleanup(move || super::client::composer_leaving(conversation_id));
        // A new chat: ready to type.
        if conversation_id.is_none() {
            Effect::new(move |_| {
                if textarea.get().is_some() {
                    request_animation_frame(move || {
                        if let Some(el) = textarea.try_get_untracked().flatten() {
                            let _ = el.focus();
                        }
                    });
                }
            });
        }
    }
    let pending = actions.send.pending();
    // A message waits for its files to be stored.
    let uploading = move || uploads.busy(conversation_id);
    let disabled = move || pending.get() || uploading();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        // Enter sends, Shift+Enter starts a new line (and nothing interrupts an IME composition).
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            if generating.is_none() && !uploading() {
                #[cfg(feature = "hydrate")]
                super::client::submit_form_of(&ev);
            }
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        if let Some(el) = super::client::composer_of(&ev) {
            super::client::keep_draft(&el, conversation_id);
            super::client::grow(&el);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    // The draft this send empties, once it went through (see the page's `forget_sent_draft`).
    let on_submit = move |_: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        super::client::sending_from(conversation_id);
        uploads.sending(conversation_id);
    };
    // Files: from the picker, or pasted into the box (a screenshot from the clipboard).
    let file_input = NodeRef::<leptos::html::Input>::new();
    let on_files = move |_: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        if let Some(input) = file_input.get_untracked() {
            let files = crate::files::client::files_of(input.files());
            // Emptied, so that the form does not carry them and the same file can be chosen again.
            input.set_value("");
            leptos::task::spawn_local(crate::files::client::add(uploads, conversation_id, files));
            if let Some(el) = textarea.get_untracked() {
                let _ = el.focus();
            }
        }
    };
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        #[cfg(feature = "hydrate")]
        crate::files::client::take_files(&ev, ev.clipboard_data(), uploads, conversation_id);
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let pick = move |_| {
        if let Some(input) = file_input.get_untracked() {
            input.click();
        }
    };
    // The box may stay empty when files go with the message.
    let has_kept = !kept.is_empty();
    let text_required = move || uploads.ready(conversation_id).is_empty() && !has_kept;
    let kept_files = view! { <ComposerFiles uploads conversation=conversation_id kept prompt=initial.clone() choice/> };
    let button = match generating {
        // Stop, in the Send button's place: its own form, bound to the same spot.
        Some(_) => view! {
            <button type="submit" form="stop-form" class="send-button stop tip-left" data-testid="stop"
                aria-label=tr!(t, chat.message.stop) data-tip=tr!(t, chat.message.stop)>
                <Svg icon=Icon::Stop/>
            </button>
        }
        .into_any(),
        None => view! {
            // Without JavaScript the form posts here, multipart, with its file input's files.
            <button type="submit" class="send-button tip-left" disabled=disabled data-testid="send"
                formaction=crate::chat::types::SEND_FORM_PATH formenctype="multipart/form-data"
                aria-label=move || if pending.get() { tr!(t, chat.composer.sending) }
                    else if uploading() { tr!(t, files.ui.waiting) } else { tr!(t, chat.composer.send) }
                data-tip=tr!(t, chat.composer.send)>
                <Svg icon=Icon::Send/>
            </button>
        }
        .into_any(),
    };
    view! {
        {generating.zip(conversation_id).map(|(message_id, conversation)| view! {
            <ActionForm action=actions.stop attr:id="stop-form" attr:class="visually-hidden">
                <CsrfField/>
                <input type="hidden" name="conversation_id" value=conversation.to_string()/>
                <input type="hidden" name="message_id" value=message_id.to_string()/>
            </ActionForm>
        })}
        // A new chat may be temporary: a toggle, or a note when the server makes every chat temporary. Both belong
        // to the composer's form (`form=`), with or without JavaScript. Above the box: the box stays where it is once
        // the chat starts (and the toggle is gone).
        {conversation_id.is_none().then(|| match temporary_mode.as_str() {
            "allowed" => view! {
                <label class="temporary-toggle" for="temporary-toggle">
                    <input type="checkbox" id="temporary-toggle" name="temporary" form="composer-form"
                        aria-describedby="temporary-hint" data-testid="temporary-toggle"/>
                    <span>{tr!(t, chat.temporary.toggle)}</span>
                    <span class="hint" id="temporary-hint">{tr!(t, chat.temporary.toggle_hint, minutes = idle_minutes)}</span>
                </label>
            }.into_any(),
            "enforced" => view! {
                <p class="temporary-toggle hint" data-testid="temporary-enforced">
                    <input type="hidden" name="temporary" value="on" form="composer-form"/>
                    {tr!(t, chat.temporary.enforced, minutes = idle_minutes)}
                </p>
            }.into_any(),
            _ => ().into_any(),
        })}
        <ActionForm action=actions.send attr:class="composer" attr:id="composer-form" on:submit=on_submit>
            <CsrfField/>
            {conversation_id.map(|id| view! { <input type="hidden" name="conversation_id" value=id.to_string()/> })}
            {kept_files}
            {(!temporary).then(|| view! {
                <button type="button" class="icon-button attach-button js-only tip-right" on:click=pick
                    aria-label=tr!(t, files.ui.attach) data-tip=tr!(t, files.ui.attach) data-testid="attach">
                    <Svg icon=Icon::Paperclip/>
                </button>
            })}
            {(!tools_html.is_empty()).then(|| view! { <div class="tools-slot" inner_html=tools_html></div> })}
            <label for="content" class="visually-hidden">{tr!(t, chat.composer.message)}</label>
            <textarea id="content" name="content" rows="1" node_ref=textarea required=text_required
                placeholder=tr!(t, chat.composer.placeholder)
                aria-keyshortcuts="Shift+Escape"
                on:keydown=on_keydown on:input=on_input on:paste=on_paste data-testid="composer">{rcdata_text(&initial)}</textarea>
            {button}
            {(!temporary).then(|| view! {
                <label for="attach-input" class="nojs-only file-label">{tr!(t, files.ui.choose)}</label>
                <input type="file" id="attach-input" name="files" multiple class="file-input" node_ref=file_input
                    on:change=on_files data-testid="file-input"/>
            })}
        </ActionForm>
        <p class="composer-hint js-only" aria-hidden="true">{tr!(t, chat.composer.hint)}</p>
    }
    .into_any()
}
