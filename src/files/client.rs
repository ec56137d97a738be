//! Browser side of attachments: files chosen with the button, dropped on the conversation or pasted into the message
//! box are uploaded at once (`POST /api/files/`, with the session and its CSRF token), each with its progress, and
//! show on the composer as chips ([`super::ui`]). The upload code and the chips' views are one split point
//! (`#[lazy]` [`code`]), fetched the first time a file is chosen, so the chat's first visit does not carry them. One,
//! not two: every split point multiplies the chunk files each page is cut into (`core::lazy`).

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{File, XmlHttpRequest};

use super::ui::{PendingFile, UploadState, Uploads};

thread_local! {
    static NEXT_KEY: Cell<u64> = const { Cell::new(1) };
    /// The requests of uploads in flight, by file key (to abort one when its chip is removed).
    static IN_FLIGHT: RefCell<Vec<(u64, XmlHttpRequest)>> = const { RefCell::new(Vec::new()) };
}

/// The files of a `FileList` (an input's, a drop's or a paste's).
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Attaches the files a drop or a paste carries (`data`) to `conversation`'s composer, in place of what the browser
/// would do with them (open the file, paste its name).
pub fn take_files(
    ev: &web_sys::Event,
    data: Option<web_sys::DataTransfer>,
    uploads: Uploads,
    conversation: Option<i64>,
) {
    let files = files_of(data.and_then(|d| d.files()));
    if !files.is_empty() {
        ev.prevent_default();
        leptos::task::spawn_local(add(uploads, conversation, files));
    }
}

/// Whether a drag carries files (not text or a link from the page).
pub fn carries_files(ev: &web_sys::DragEvent) -> bool {
    ev.data_transfer()
        .is_some_and(|d| d.types().iter().any(|t| t.as_string().as_deref() == Some("Files")))
}

/// Whether a drag left the drop areas (for the window, or for nothing: not from one child to another).
pub fn left_page(ev: &web_sys::DragEvent) -> bool {
    ev.related_target().is_none()
}

/// The code of files in the composer, fetched as one piece the first time a file is chosen, dropped or pasted.
#[derive(Clone, Copy)]
pub struct FilesCode {
    /// [`add`]'s work.
    pub add: fn(Uploads, Option<i64>, Vec<File>),
    /// The chips of the files chosen (`ui::live_files`).
    pub live_files: fn(Uploads, Option<i64>, usize, Option<super::ui::ModelChoice>) -> AnyView,
}

/// The split point of [`FilesCode`]: everything its functions reach is in its chunk.
#[leptos::prelude::lazy]
pub fn code() -> FilesCode {
    FilesCode {
        add: add_now,
        live_files: super::ui::live_files,
    }
}

/// Adds `files` to `conversation`'s composer and starts uploading each, once the upload code is there.
pub async fn add(uploads: Uploads, conversation: Option<i64>, files: Vec<File>) {
    (code().await.add)(uploads, conversation, files);
}

fn add_now(uploads: Uploads, conversation: Option<i64>, files: Vec<File>) {
    for file in files {
        let key = NEXT_KEY.get();
        NEXT_KEY.set(key + 1);
        let image = file.type_().starts_with("image/");
        let preview = if image {
            web_sys::Url::create_object_url_with_blob(&file).ok()
        } else {
            None
        };
        uploads.push(PendingFile {
            key,
            conversation,
            name: file.name(),
            size: file.size().max(0.0) as u64,
            image,
            preview,
            state: UploadState::Uploading(0),
        });
        leptos::task::spawn_local(async move {
            upload(uploads, key, file).await;
        });
    }
}

/// Removes the file `key` from its composer: an upload in flight is aborted, a stored file deleted (it was never
/// sent, so nothing else refers to it).
pub fn remove(uploads: Uploads, key: u64) {
    if let Some((_, xhr)) = in_flight_take(key) {
        let _ = xhr.abort();
    }
    if let Some(file) = uploads.take(key) {
        release(&file);
        if let UploadState::Done(attachment) = file.state {
            request("DELETE", &format!("/api/files/{}/", attachment.id));
        }
    }
    // The focus stays in the composer rather than falling to the page.
    focus_composer();
}

/// Takes the request of the upload `key` out of those in flight.
fn in_flight_take(key: u64) -> Option<(u64, XmlHttpRequest)> {
    IN_FLIGHT.with_borrow_mut(|all| all.iter().position(|(k, _)| *k == key).map(|at| all.swap_remove(at)))
}

/// Remove on a chip of a file kept by a refused send (static markup, see `ui::kept_files_html`): the chip and its
/// field leave the form in place of following the link, and the focus goes back to the message box.
pub fn drop_kept(ev: &web_sys::MouseEvent) {
    let Some(link) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| el.closest("[data-testid=remove-file]").ok().flatten())
    else {
        return;
    };
    ev.prevent_default();
    if let Some(chip) = link.closest("li").ok().flatten() {
        let list = chip.parent_element();
        chip.remove();
        if let Some(list) = list
            && list.child_element_count() == 0
        {
            list.remove();
        }
    }
    focus_composer();
}

/// Puts the focus in the message box.
fn focus_composer() {
    if let Some(el) = document()
        .get_element_by_id("content")
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Lets go of a chip's thumbnail.
pub fn release(file: &PendingFile) {
    if let Some(url) = &file.preview {
        let _ = web_sys::Url::revoke_object_url(url);
    }
}

/// Puts `model` in the page's model picker, as if the user had picked it (a conversation saves it).
pub fn choose_model(model: &str) {
    if let Some(select) = document()
        .get_element_by_id("model-picker")
        .and_then(|el| el.dyn_into::<web_sys::HtmlSelectElement>().ok())
    {
        select.set_value(model);
        if let Ok(event) = web_sys::Event::new_with_event_init_dict("change", &{
            let init = web_sys::EventInit::new();
            init.set_bubbles(true);
            init
        }) {
            let _ = select.dispatch_event(&event);
        }
    }
}

/// A request to the REST API with the session's CSRF token, whose answer is not needed.
fn request(method: &str, url: &str) {
    if let Ok(xhr) = XmlHttpRequest::new()
        && xhr.open(method, url).is_ok()
    {
        let _ = xhr.set_request_header("X-CSRFToken", &crate::core::csrf::token());
        let _ = xhr.send();
    }
}

/// Uploads one file, reporting progress and the outcome on its chip.
async fn upload(uploads: Uploads, key: u64, file: File) {
    let outcome = send(uploads, key, &file).await;
    in_flight_take(key);
    let t = crate::core::i18n::Lang::current();
    let state = match outcome {
        Some((201, body)) => match serde_json::from_slice::<crate::files::Attachment>(body.as_bytes()) {
            Ok(attachment) => UploadState::Done(attachment),
            Err(_) => UploadState::Failed(crate::tr!(t, files.ui.upload_failed, name = &file.name()).to_string()),
        },
        // Aborted (the chip was removed): nothing to show.
        Some((0, _)) => return,
        Some((_, body)) => UploadState::Failed(
            refusal(&body).unwrap_or_else(|| crate::tr!(t, files.ui.upload_failed, name = &file.name()).to_string()),
        ),
        None => UploadState::Failed(crate::tr!(t, files.ui.upload_failed, name = &file.name()).to_string()),
    };
    uploads.set_state(key, state);
}

/// Posts the file as `multipart/form-data`; the status and body of the answer (status 0: aborted), `None` when the
/// request could not be made or the network failed.
async fn send(uploads: Uploads, key: u64, file: &File) -> Option<(u16, String)> {
    let xhr = XmlHttpRequest::new().ok()?;
    xhr.open("POST", "/api/files/").ok()?;
    xhr.set_request_header("X-CSRFToken", &crate::core::csrf::token())
        .ok()?;
    xhr.set_request_header("Accept", "application/json").ok()?;
    let form = web_sys::FormData::new().ok()?;
    form.append_with_blob_and_filename("file", file, &file.name()).ok()?;
    let progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
        if e.length_computable() && e.total() > 0.0 {
            // 99 at most until the server has stored it (reading a document takes a moment after the last byte).
            let percent = ((e.loaded() / e.total()) * 100.0).clamp(0.0, 99.0) as u32;
            uploads.set_state(key, UploadState::Uploading(percent));
        }
    });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    let mut resolve = None;
    let finished = js_sys::Promise::new(&mut |yes, _| resolve = Some(yes));
    let resolve = resolve?;
    let done = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        let reached = wasm_bindgen::JsValue::from_bool(e.type_() != "error");
        let _ = resolve.call1(&wasm_bindgen::JsValue::NULL, &reached);
    });
    for event in ["load", "error", "abort"] {
        let _ = xhr.add_event_listener_with_callback(event, done.as_ref().unchecked_ref());
    }
    IN_FLIGHT.with_borrow_mut(|all| all.push((key, xhr.clone())));
    xhr.send_with_opt_form_data(Some(&form)).ok()?;
    let reached = wasm_bindgen_futures::JsFuture::from(finished)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    drop((progress, done));
    if !reached {
        return None;
    }
    let status = xhr.status().unwrap_or(0);
    Some((status, xhr.response_text().ok().flatten().unwrap_or_default()))
}

/// The first message of a refusal's JSON (`{"file": ["…"]}`, `{"detail": "…"}`).
fn refusal(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body.as_bytes()).ok()?;
    let first = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(items) => items.iter().find_map(|i| i.as_str().map(str::to_string)),
        _ => None,
    };
    match &value {
        serde_json::Value::Object(map) => map.values().find_map(first),
        other => first(other),
    }
}
