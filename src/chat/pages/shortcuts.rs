//! The chat's keyboard shortcuts and the dialog that lists them (`?`, Ctrl+/ or the keyboard button).

use leptos::prelude::*;

use crate::core::dialog::Modal;
use crate::core::i18n::Lang;
use crate::tr;

/// The shortcuts, as the dialog lists them: keys, then what they do.
fn shortcuts(t: Lang) -> [(&'static str, &'static str); 7] {
    [
        (tr!(t, chat.shortcuts.keys_new_chat), tr!(t, chat.shortcuts.new_chat)),
        (tr!(t, chat.shortcuts.keys_search), tr!(t, chat.shortcuts.search)),
        (
            tr!(t, chat.shortcuts.keys_focus_composer),
            tr!(t, chat.shortcuts.focus_composer),
        ),
        (tr!(t, chat.shortcuts.keys_stop), tr!(t, chat.shortcuts.stop)),
        (tr!(t, chat.shortcuts.keys_copy_last), tr!(t, chat.shortcuts.copy_last)),
        (
            tr!(t, chat.shortcuts.keys_send_newline),
            tr!(t, chat.shortcuts.send_newline),
        ),
        (tr!(t, chat.shortcuts.keys_show), tr!(t, chat.shortcuts.show)),
    ]
}

#[component]
pub(super) fn ShortcutsDialog(open: bool) -> impl IntoView {
    let t = Lang::current();
    view! {
        <Modal id="shortcuts-dialog" title=tr!(t, chat.shortcuts.title).to_string() open close="/chat".to_string()>
            <ul class="shortcuts">
                {shortcuts(t).into_iter().map(|(keys, what)| view! {
                    <li><span>{what}</span><kbd>{keys}</kbd></li>
                }).collect_view()}
            </ul>
        </Modal>
    }
}

/// Browser side: the window's key handler of the chat page (removed when the page goes).
#[cfg(feature = "hydrate")]
pub(super) mod client {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{HtmlElement, HtmlInputElement};

    use crate::core::dialog::client::dialog_named;

    /// Listens for the shortcuts while the chat page is on screen.
    pub(in super::super) fn install() {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            let key = ev.key();
            let command = ev.ctrl_key() || ev.meta_key();
            let in_field = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
            let modal_open = document().query_selector("dialog.modal[open]").ok().flatten().is_some();
            let handled = if command && ev.shift_key() && key.eq_ignore_ascii_case("o") {
                leptos_router::hooks::use_navigate()("/chat", Default::default());
                focus("content");
                true
            } else if command && !ev.shift_key() && key.eq_ignore_ascii_case("k") {
                open_drawer();
                focus("q");
                true
            } else if ev.shift_key() && key == "Escape" {
                focus("content");
                true
            } else if command && ev.shift_key() && key.eq_ignore_ascii_case("c") {
                click_last(".message.assistant [data-testid=copy-message]");
                true
            } else if (key == "?" && !in_field && !command) || (command && key == "/") {
                if let Some(dialog) = dialog_named("shortcuts-dialog")
                    && !dialog.open()
                {
                    let _ = dialog.show_modal();
                }
                true
            } else if key == "Escape" && !modal_open && !ev.shift_key() {
                // Stop the reply being written (a menu open takes the Escape first).
                let menu_open = document().query_selector("details.menu[open]").ok().flatten().is_some();
                !menu_open && click_last("[data-testid=stop]")
            } else {
                false
            };
            if handled {
                ev.prevent_default();
            }
        });
        on_cleanup(move || handle.remove());
    }

    fn focus(id: &str) {
        if let Some(el) = document()
            .get_element_by_id(id)
            .and_then(|el| el.dyn_into::<HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    }

    /// Clicks the last element matching `selector`; whether there was one.
    fn click_last(selector: &str) -> bool {
        let Ok(all) = document().query_selector_all(selector) else {
            return false;
        };
        match all
            .item(all.length().saturating_sub(1))
            .and_then(|n| n.dyn_into::<HtmlElement>().ok())
        {
            Some(el) if all.length() > 0 => {
                el.click();
                true
            }
            _ => false,
        }
    }

    /// On a phone the search is in the drawer: open it.
    fn open_drawer() {
        if let Some(toggle) = document()
            .get_element_by_id("drawer")
            .and_then(|el| el.dyn_into::<HtmlInputElement>().ok())
        {
            toggle.set_checked(true);
        }
    }
}
