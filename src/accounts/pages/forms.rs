//! What every accounts form shares: its outcome read field by field, a labelled field with its messages, the
//! form-wide errors, and where a form goes next.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::accounts::fields::BIO_MAX;
use crate::core::error::{AppError, NON_FIELD};
use crate::core::i18n::Lang;

/// The outcome of a form's last submission, read field by field.
#[derive(Clone, Copy)]
pub(super) struct Feedback {
    pub(super) error: Signal<Option<AppError>>,
}

impl Feedback {
    pub(super) fn of<S>(action: ServerAction<S>) -> Self
    where
        S: ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
    {
        // A refused form puts the focus on the first field to fix (the submit button was disabled while it was sent,
        // which took the focus away).
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            if let Some(Err(AppError::Invalid(_))) = action.value().get() {
                request_animation_frame(focus_first_invalid);
            }
        });
        Self {
            error: Signal::derive(move || action.value().get().and_then(Result::err)),
        }
    }

    /// Messages for `field` (or `__all__`).
    pub(super) fn messages(self, field: &'static str) -> Signal<Vec<String>> {
        Signal::derive(move || {
            self.error
                .get()
                .and_then(|e| e.form().map(|f| f.of(field, Lang::current())))
                .unwrap_or_default()
        })
    }

    /// What the user typed in `field` last time (never a password).
    pub(super) fn kept(self, field: &'static str) -> Signal<String> {
        Signal::derive(move || {
            self.error
                .get()
                .and_then(|e| e.form().and_then(|f| f.values.get(field).cloned()))
                .unwrap_or_default()
        })
    }

    /// A message about the whole request (throttled, server failure), not about one field.
    pub(super) fn general(self) -> Signal<Option<String>> {
        Signal::derive(move || {
            self.error
                .get()
                .filter(|e| e.form().is_none())
                .map(|e| e.message(Lang::current()))
        })
    }
}

/// The messages of one field, linked to it for screen readers.
#[component]
pub(super) fn FieldErrors(id: String, messages: Signal<Vec<String>>) -> impl IntoView {
    view! {
        <Show when=move || !messages.get().is_empty()>
            // The alert wraps the list: a list with the alert role is no longer a list to its items.
            <div id=id.clone() role="alert">
                <ul class="field-errors">
                    <For each=move || messages.get() key=|m| m.clone() let:message>
                        <li>{message}</li>
                    </For>
                </ul>
            </div>
        </Show>
    }
}

/// Focuses the first field the page marks invalid.
#[cfg(feature = "hydrate")]
fn focus_first_invalid() {
    use wasm_bindgen::JsCast;
    if let Some(el) = document()
        .query_selector("input[aria-invalid=true], textarea[aria-invalid=true]")
        .ok()
        .flatten()
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// A labelled input with its messages.
#[component]
pub(super) fn Field(
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    feedback: Feedback,
    #[prop(optional)] keep: bool,
    #[prop(optional, into)] initial: String,
) -> impl IntoView {
    let errors_id = format!("{name}-errors");
    // After a failed submission, what the user typed (never a password); otherwise the stored value.
    let value = move || match feedback.error.get() {
        Some(_) if keep => feedback.kept(name).get(),
        _ => initial.clone(),
    };
    view! {
        <label for=name>{label}</label>
        <input id=name name=name type=kind autocomplete=autocomplete required value=value
            aria-describedby=errors_id.clone()
            aria-invalid=move || (!feedback.messages(name).get().is_empty()).to_string()/>
        <FieldErrors id=errors_id messages=feedback.messages(name)/>
    }
}

/// Errors about the whole form.
#[component]
pub(super) fn FormErrors(feedback: Feedback) -> impl IntoView {
    view! {
        <FieldErrors id="form-errors".to_string() messages=feedback.messages(NON_FIELD)/>
        <Show when=move || feedback.general().get().is_some()>
            <p class="form-error" role="alert">{move || feedback.general().get()}</p>
        </Show>
    }
}

/// Where to go after logging in or registering: `?next=` when it stays on this site, else the chat.
pub(super) fn next_path() -> impl Fn() -> String + Copy {
    let query = use_query_map();
    move || {
        query
            .with(|q| q.get("next"))
            .map(|next| crate::core::document::safe_next_or(&next, crate::accounts::LANDING).to_string())
            .unwrap_or_else(|| crate::accounts::LANDING.to_string())
    }
}

/// Fetches the code of the page `next_path` leads to once the user starts on the form (a field focused, a button
/// pressed): never while the page itself is still loading, and in time for the submission.
pub(super) fn preload_next(next: impl Fn() -> String + Copy + 'static) -> impl Fn() + Copy + 'static {
    move || crate::core::lazy::preload(&next())
}

pub(super) fn counter_class(length: usize) -> &'static str {
    if length > BIO_MAX { "counter over" } else { "counter" }
}
