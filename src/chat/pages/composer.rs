//! The composer: the message box (Enter sends, Shift+Enter adds a line) and its Send button.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::tr;

use crate::core::i18n::Lang;

use super::Actions;

#[component]
pub(super) fn Composer(conversation_id: Option<i64>, generating: Option<i64>, actions: Actions) -> impl IntoView {
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
            super::client::submit_form_of(&ev);
        }
    };
    view! {
        <ActionForm action=actions.send attr:class="composer">
            {conversation_id.map(|id| view! { <input type="hidden" name="conversation_id" value=id.to_string()/> })}
            <label for="content" class="visually-hidden">{tr!(t, chat.composer.message)}</label>
            <textarea id="content" name="content" rows="3" node_ref=textarea required
                placeholder=tr!(t, chat.composer.message_thicode_enter_sends)
                on:keydown=on_keydown data-testid="composer"></textarea>
            <button type="submit" disabled=disabled data-testid="send">
                {move || if generating.is_some() {
                    tr!(t, chat.composer.generating)
                } else if pending.get() {
                    tr!(t, chat.composer.sending)
                } else {
                    tr!(t, chat.composer.send)
                }}
            </button>
        </ActionForm>
    }
    .into_any()
}
