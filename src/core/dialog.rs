//! Modal dialogs and pop-up menus, the same way on every page.
//!
//! A dialog is a `<dialog class="modal">` opened by a link to the page's own address with `?dialog=<name>`: without
//! JavaScript the server renders the dialog open (shown over the page); once hydrated, the link opens it as a real
//! modal (`showModal`: the page behind is inert, focus stays inside, Escape closes it and focus goes back to the
//! link). A menu is a `<details class="menu">`: it works without JavaScript; with it, one menu is open at a time, and
//! Escape or a click elsewhere closes it.

use leptos::prelude::*;

use crate::core::i18n::Lang;
use crate::core::icons::{Icon, Svg};
use crate::tr;

/// The query parameter naming the dialog a page shows open.
pub const DIALOG_PARAM: &str = "dialog";

/// A modal dialog named `id`, open on the server's page when `open`. `close` is where its close link goes without
/// JavaScript (the page without `?dialog=`).
#[component]
pub fn Modal(
    /// The element id, also what [`open_link`]s name.
    id: &'static str,
    /// The heading.
    title: String,
    /// Shown open (the page's address asks for it).
    #[prop(optional)]
    open: bool,
    /// The address of the page without the dialog.
    close: String,
    children: Children,
) -> impl IntoView {
    let t = Lang::current();
    let heading = format!("{id}-title");
    let labelled_by = heading.clone();
    view! {
        <dialog class="modal" id=id open=open aria-labelledby=labelled_by data-testid=id>
            <div class="modal-head">
                <h2 id=heading>{title}</h2>
                <a class="icon-button" href=close data-close="" aria-label=tr!(t, core.dialog.close)
                    data-tip=tr!(t, core.dialog.close)>
                    <Svg icon=Icon::Close/>
                </a>
            </div>
            <div class="modal-body">{children()}</div>
        </dialog>
    }
}

/// The address that opens dialog `name` on the page at `path`.
pub fn open_link(path: &str, name: &str) -> String {
    format!("{path}?{DIALOG_PARAM}={name}")
}

/// Browser side: the document-wide handlers of dialogs and menus, installed once at hydration.
#[cfg(feature = "hydrate")]
pub mod client {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{Element, HtmlDialogElement, HtmlElement};

    /// Listens on the document for the clicks and keys of every dialog and menu, present or future.
    pub fn install() {
        let document = leptos::prelude::document();
        let on_click = Closure::<dyn FnMut(web_sys::MouseEvent)>::new(|ev: web_sys::MouseEvent| {
            let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
                return;
            };
            // A link that opens a dialog: open it as a modal instead of loading the page again.
            if let Some(link) = target.closest("[data-dialog]").ok().flatten()
                && let Some(name) = link.get_attribute("data-dialog")
                && let Some(dialog) = dialog_named(&name)
            {
                ev.prevent_default();
                close_menus(None);
                if !dialog.open() {
                    let _ = dialog.show_modal();
                }
                return;
            }
            // Its close link.
            if let Some(close) = target.closest("dialog [data-close]").ok().flatten()
                && let Some(dialog) = close.closest("dialog").ok().flatten()
            {
                ev.prevent_default();
                if let Ok(dialog) = dialog.dyn_into::<HtmlDialogElement>() {
                    dialog.close();
                }
                return;
            }
            // A click outside any open menu closes them; a click on an item closes its own menu.
            let menu = target.closest("details.menu").ok().flatten();
            let on_item = target
                .closest(".menu-list a, .menu-list button")
                .ok()
                .flatten()
                .is_some();
            match menu {
                Some(menu) if !on_item => close_menus(Some(&menu)),
                _ => close_menus(None),
            }
        });
        let on_key = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(|ev: web_sys::KeyboardEvent| {
            if ev.key() == "Tab" {
                keep_focus_inside(&ev);
                return;
            }
            if ev.key() != "Escape" {
                return;
            }
            // Escape closes the open menu and gives the focus back to its button (a modal closes by itself).
            if let Ok(Some(open)) = leptos::prelude::document().query_selector("details.menu[open]") {
                open.remove_attribute("open").ok();
                if let Ok(Some(summary)) = open.query_selector("summary")
                    && let Ok(summary) = summary.dyn_into::<HtmlElement>()
                {
                    let _ = summary.focus();
                }
                ev.prevent_default();
            }
        });
        let _ = document.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
        let _ = document.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
        // Installed for the page's lifetime.
        on_click.forget();
        on_key.forget();
        // A dialog the server rendered open (a visit without JavaScript, then hydrated): show it as a modal.
        if let Ok(Some(open)) = leptos::prelude::document().query_selector("dialog.modal[open]")
            && let Ok(dialog) = open.dyn_into::<HtmlDialogElement>()
        {
            dialog.close();
            let _ = dialog.show_modal();
        }
    }

    /// Tab and Shift+Tab go round the open modal's controls instead of leaving it for the browser's.
    fn keep_focus_inside(ev: &web_sys::KeyboardEvent) {
        let document = leptos::prelude::document();
        let Ok(Some(dialog)) = document.query_selector("dialog.modal[open]") else {
            return;
        };
        let Ok(all) = dialog.query_selector_all(
            "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), textarea:not([disabled]), \
             select:not([disabled]), [tabindex]:not([tabindex='-1'])",
        ) else {
            return;
        };
        let focusable: Vec<HtmlElement> = (0..all.length())
            .filter_map(|i| all.item(i)?.dyn_into::<HtmlElement>().ok())
            .collect();
        let (Some(first), Some(last)) = (focusable.first(), focusable.last()) else {
            return;
        };
        let active = document.active_element();
        let at = |el: &HtmlElement| active.as_ref().is_some_and(|a| a == el.unchecked_ref::<Element>());
        let inside = active.as_ref().is_some_and(|a| dialog.contains(Some(a)));
        if ev.shift_key() && (at(first) || !inside) {
            ev.prevent_default();
            let _ = last.focus();
        } else if !ev.shift_key() && (at(last) || !inside) {
            ev.prevent_default();
            let _ = first.focus();
        }
    }

    /// The dialog with this id, if the page has it.
    pub fn dialog_named(id: &str) -> Option<HtmlDialogElement> {
        leptos::prelude::document()
            .get_element_by_id(id)?
            .dyn_into::<HtmlDialogElement>()
            .ok()
    }

    /// Closes every open dialog (after its form was saved).
    pub fn close_dialogs() {
        if let Ok(open) = leptos::prelude::document().query_selector_all("dialog.modal[open]") {
            for i in 0..open.length() {
                if let Some(dialog) = open.item(i).and_then(|n| n.dyn_into::<HtmlDialogElement>().ok()) {
                    dialog.close();
                }
            }
        }
    }

    /// Closes every open menu except `keep`.
    fn close_menus(keep: Option<&Element>) {
        if let Ok(open) = leptos::prelude::document().query_selector_all("details.menu[open]") {
            for i in 0..open.length() {
                if let Some(menu) = open.item(i).and_then(|n| n.dyn_into::<Element>().ok())
                    && keep != Some(&menu)
                {
                    let _ = menu.remove_attribute("open");
                }
            }
        }
    }
}
