//! `/settings/import` (issue #29): choose a file exported by ChatGPT, Open WebUI or ThiCode, see what it holds —
//! each conversation, what is new, what is already in the account, what is not carried — and confirm. The file is
//! sent once (a plain multipart form to `IMPORT_FORM_PATH`, sent by a script once hydrated); the preview waits on the
//! server under a token in the page's address, so both steps work without JavaScript.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::chat::server_fns::{ConfirmImport, import_state};
use crate::chat::types::{IMPORT_FORM_PATH, ImportItem, ImportReport, NotCarried};
use crate::core::csrf::CsrfField;
use crate::core::error::AppError;
use crate::core::i18n::Lang;
use crate::tr;

/// Most conversations the page lists (the API's answer lists them all).
const SHOWN: usize = 200;

/// The import page: the file's form, or a preview to confirm, or what the import did.
#[component]
pub fn ImportPage() -> impl IntoView {
    let query = use_query_map();
    let token = Memo::new(move |_| query.read().get("preview").filter(|t| !t.is_empty()));
    let confirm = ServerAction::<ConfirmImport>::new();
    let state = crate::core::codec::resource(
        move || (token.get(), confirm.version().get()),
        |(token, _)| import_state(token),
    );
    // The file's error after a post without JavaScript (Leptos' `__err`, under the form's path).
    let returned = use_context::<leptos::server::ServerActionError>()
        .filter(|e| e.path() == IMPORT_FORM_PATH)
        .map(|e| leptos::server_fn::error::ServerFnUrlError::<AppError>::decode_err(e.err()).message(Lang::current()));
    let file_error = RwSignal::new(returned);
    let t = Lang::current();
    view! {
        <Title text=tr!(t, chat.import.title)/>
        <section class="auth-card wide import-page">
            <h1>{tr!(t, chat.import.title)}</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match state.await {
                        Ok(Some(report)) => view! { <Report report token=token.get().unwrap_or_default() confirm/> }.into_any(),
                        Ok(None) => view! { <UploadForm file_error/> }.into_any(),
                        Err(AppError::Unauthenticated) => crate::accounts::pages::login_redirect().into_any(),
                        Err(e) => {
                            // An expired preview: say so, and offer the form again.
                            file_error.set(Some(e.message(Lang::current())));
                            view! { <UploadForm file_error/> }.into_any()
                        }
                    }
                })}
            </Suspense>
            <p class="auth-switch"><a href="/settings">{tr!(t, accounts.tokens.back_settings)}</a></p>
        </section>
    }
}

/// The file's form.
#[component]
fn UploadForm(file_error: RwSignal<Option<String>>) -> impl IntoView {
    let t = Lang::current();
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            ev.prevent_default();
            let Some(form) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else {
                return;
            };
            busy.set(true);
            file_error.set(None);
            leptos::task::spawn_local(async move {
                match client::send(&form).await {
                    Ok(token) => {
                        let navigate = leptos_router::hooks::use_navigate();
                        navigate(&format!("{IMPORT_FORM_PATH}?preview={token}"), Default::default());
                    }
                    Err(message) => {
                        file_error.set(Some(
                            message.unwrap_or_else(|| tr!(Lang::current(), chat.import.not_json).to_string()),
                        ));
                        busy.set(false);
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, busy);
    };
    view! {
        <p class="hint">{tr!(t, chat.import.intro)}</p>
        <form method="post" action=IMPORT_FORM_PATH enctype="multipart/form-data" class="import-form"
            data-testid="import-form" on:submit=on_submit>
            <CsrfField/>
            <label for="import-file">{tr!(t, chat.import.file_label)}</label>
            <input id="import-file" type="file" name="file" required
                accept=".json,.zip,application/json,application/zip"
                aria-invalid=move || file_error.with(Option::is_some).then_some("true")
                aria-describedby=move || file_error.with(Option::is_some).then_some("import-file-error")/>
            <Show when=move || file_error.with(Option::is_some)>
                <p class="form-error" role="alert" id="import-file-error" data-testid="import-error">
                    {move || file_error.get().unwrap_or_default()}
                </p>
            </Show>
            <button type="submit" disabled=move || busy.get() data-testid="import-preview">
                {move || if busy.get() { tr!(t, chat.import.reading) } else { tr!(t, chat.import.preview) }}
            </button>
        </form>
    }
}

/// What a file holds, and the button that imports it — or, once imported, what was added.
#[component]
fn Report(report: ImportReport, token: String, confirm: ServerAction<ConfirmImport>) -> impl IntoView {
    let t = Lang::current();
    let format = match report.format.as_str() {
        "chatgpt" => "ChatGPT",
        "openwebui" => "Open WebUI",
        _ => "ThiCode",
    };
    let summary = tr!(
        t,
        chat.import.summary,
        format = format,
        found = report.found,
        new = report.imported,
        already = report.already_imported,
        left = report.left_out
    )
    .to_string();
    let head = if report.dry_run {
        view! { <p data-testid="import-summary">{summary}</p> }.into_any()
    } else {
        view! {
            <p class="notice" role="status" data-testid="import-done">{tr!(t, chat.import.done, count = report.imported)}</p>
            <p data-testid="import-summary">{summary}</p>
        }
        .into_any()
    };
    let total = (!report.not_carried.is_empty()).then(|| {
        view! {
            <p class="hint" data-testid="import-not-carried">
                {tr!(t, chat.import.not_carried_total)}" "{not_carried_text(&report.not_carried, t)}
            </p>
        }
    });
    let more = report.conversations.len().saturating_sub(SHOWN);
    let items = report
        .conversations
        .into_iter()
        .take(SHOWN)
        .map(|item| view! { <Item item/> })
        .collect_view();
    let action = if report.dry_run && report.imported > 0 {
        view! {
            <ActionForm action=confirm attr:class="import-confirm">
                <CsrfField/>
                <input type="hidden" name="token" value=token/>
                <button type="submit" class="primary" data-testid="import-confirm"
                    disabled=move || confirm.pending().get()>
                    {move || if confirm.pending().get() {
                        tr!(t, chat.import.importing).to_string()
                    } else {
                        tr!(t, chat.import.confirm, count = report.imported).to_string()
                    }}
                </button>
            </ActionForm>
            {move || confirm.value().get().and_then(Result::err).map(|e| view! {
                <p class="form-error" role="alert">{e.message(Lang::current())}</p>
            })}
        }
        .into_any()
    } else if report.dry_run {
        view! { <p class="notice" role="status" data-testid="import-nothing">{tr!(t, chat.import.nothing_new)}</p> }
            .into_any()
    } else {
        view! { <p><a class="button" href="/chat" data-testid="import-open">{tr!(t, chat.import.open_chats)}</a></p> }
            .into_any()
    };
    view! {
        {head}
        {total}
        <ul class="import-list" data-testid="import-list">{items}</ul>
        {(more > 0).then(|| view! { <p class="hint">{tr!(t, chat.import.more, count = more)}</p> })}
        {action}
        <p class="auth-switch"><a href=IMPORT_FORM_PATH data-testid="import-another">{tr!(t, chat.import.another)}</a></p>
    }
}

/// One conversation of the file.
#[component]
fn Item(item: ImportItem) -> impl IntoView {
    let t = Lang::current();
    let outcome = match item.outcome.as_str() {
        "new" => tr!(t, chat.import.outcome_new),
        "imported" => tr!(t, chat.import.outcome_imported),
        "already_imported" => tr!(t, chat.import.outcome_already_imported),
        "too_long" => tr!(t, chat.import.outcome_too_long),
        "failed" => tr!(t, chat.import.outcome_failed),
        _ => tr!(t, chat.import.outcome_empty),
    };
    let title = if item.title.is_empty() {
        tr!(t, chat.conversation.new_conversation).to_string()
    } else {
        item.title.clone()
    };
    let date = item.created_at.chars().take(10).collect::<String>();
    let name = match item.id.filter(|_| item.outcome != "new") {
        Some(id) => view! { <a href=format!("/chat/{id}")>{title}</a> }.into_any(),
        None => view! { <span>{title}</span> }.into_any(),
    };
    let counts = (item.messages > 0).then(|| {
        tr!(
            t,
            chat.import.counts,
            messages = item.messages,
            branches = item.branches
        )
        .to_string()
    });
    let dropped = (!item.not_carried.is_empty()).then(|| {
        format!(
            "{} {}",
            tr!(t, chat.import.not_carried),
            not_carried_text(&item.not_carried, t)
        )
    });
    view! {
        <li data-testid="import-item" data-outcome=item.outcome.clone()>
            <p class="import-title">{name}" "<span class="badge">{outcome}</span></p>
            <p class="hint">
                {date}
                {counts.map(|c| format!(" · {c}"))}
                {dropped.map(|d| format!(" · {d}"))}
            </p>
        </li>
    }
}

/// "2 images, 1 tool calls" — the counts that are not zero.
fn not_carried_text(n: &NotCarried, t: Lang) -> String {
    let mut parts = Vec::new();
    if n.images > 0 {
        parts.push(tr!(t, chat.import.nc_images, count = n.images).to_string());
    }
    if n.files > 0 {
        parts.push(tr!(t, chat.import.nc_files, count = n.files).to_string());
    }
    if n.tool_calls > 0 {
        parts.push(tr!(t, chat.import.nc_tool_calls, count = n.tool_calls).to_string());
    }
    if n.reasoning > 0 {
        parts.push(tr!(t, chat.import.nc_reasoning, count = n.reasoning).to_string());
    }
    if n.other > 0 {
        parts.push(tr!(t, chat.import.nc_other, count = n.other).to_string());
    }
    parts.join(", ")
}

#[cfg(feature = "hydrate")]
mod client {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    /// Posts the form's file for a preview; its token, or the server's message (`None`: no answer to read).
    pub async fn send(form: &web_sys::HtmlFormElement) -> Result<String, Option<String>> {
        let data = web_sys::FormData::new_with_form(form).map_err(|_| None)?;
        let headers = web_sys::Headers::new().map_err(|_| None)?;
        headers.set("Accept", "application/json").map_err(|_| None)?;
        headers
            .set("X-CSRFToken", &crate::core::csrf::token())
            .map_err(|_| None)?;
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&data);
        let answer: web_sys::Response =
            JsFuture::from(leptos::prelude::window().fetch_with_str_and_init(super::IMPORT_FORM_PATH, &init))
                .await
                .map_err(|_| None)?
                .dyn_into()
                .map_err(|_| None)?;
        // Read with the browser's JSON parser: no JSON decoder in this page's code.
        let json = JsFuture::from(answer.json().map_err(|_| None)?)
            .await
            .map_err(|_| None)?;
        let get = |value: &wasm_bindgen::JsValue, key: &str| js_sys::Reflect::get(value, &key.into()).ok();
        if answer.ok() {
            return get(&json, "token").and_then(|t| t.as_string()).ok_or(None);
        }
        // `{"file": ["…"]}` or `{"detail": "…"}`: the first message.
        let keys = js_sys::Object::keys(json.unchecked_ref::<js_sys::Object>());
        let first = keys.iter().find_map(|key| {
            let value = get(&json, &key.as_string()?)?;
            value
                .as_string()
                .or_else(|| js_sys::Array::from(&value).get(0).as_string())
        });
        Err(first)
    }
}
