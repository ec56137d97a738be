//! Files in the pages: the composer's attachments (chips with a thumbnail or the name, type and size, a progress bar
//! while uploading, the refusal on the chip, a remove button), the files a sent message carries, and the warning that
//! the chosen model cannot read images. The uploads themselves run in the browser (`client`, loaded when first used).

use leptos::prelude::*;

use crate::core::i18n::Lang;
use crate::core::icons::{Icon, Svg};
use crate::files::{Attachment, Source, human_size};
use crate::tr;

/// What became of a file chosen in the composer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadState {
    /// On its way; the percentage sent so far.
    Uploading(u32),
    /// Stored: the message carries it.
    Done(Attachment),
    /// Refused or failed, and why.
    Failed(String),
}

/// A file chosen in the composer of one conversation (`None`: the new chat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingFile {
    /// Its key in the list (this tab's own counter).
    pub key: u64,
    /// The conversation whose composer it belongs to.
    pub conversation: Option<i64>,
    /// Its name, as the browser gives it.
    pub name: String,
    /// Its size in bytes, as chosen.
    pub size: u64,
    /// An image (by the browser's guess: the server sniffs it again).
    pub image: bool,
    /// A thumbnail's address (an object URL of the chosen file).
    pub preview: Option<String>,
    /// Where it stands.
    pub state: UploadState,
}

/// The files chosen in the page's composers, per conversation: they outlive a composer (a failed send, a re-render,
/// going to another conversation and back) until the message carrying them is sent or they are removed.
#[derive(Clone, Copy)]
pub struct Uploads {
    files: RwSignal<Vec<PendingFile>>,
    /// The keys of the files a send on its way carries.
    sending: StoredValue<Vec<u64>>,
}

impl Default for Uploads {
    fn default() -> Self {
        Self::new()
    }
}

impl Uploads {
    /// An empty list.
    pub fn new() -> Self {
        Self {
            files: RwSignal::new(Vec::new()),
            sending: StoredValue::new(Vec::new()),
        }
    }

    /// The files of `conversation`'s composer (tracked).
    pub fn of(self, conversation: Option<i64>) -> Vec<PendingFile> {
        self.files
            .with(|all| all.iter().filter(|f| f.conversation == conversation).cloned().collect())
    }

    /// Whether `conversation`'s composer has files (tracked).
    pub fn any(self, conversation: Option<i64>) -> bool {
        self.files
            .with(|all| all.iter().any(|f| f.conversation == conversation))
    }

    /// The file `key` (tracked).
    pub fn get(self, key: u64) -> Option<PendingFile> {
        self.files.with(|all| all.iter().find(|f| f.key == key).cloned())
    }

    /// Whether a file of `conversation` is still uploading (tracked): the message waits for it.
    pub fn busy(self, conversation: Option<i64>) -> bool {
        self.files.with(|all| {
            all.iter()
                .any(|f| f.conversation == conversation && matches!(f.state, UploadState::Uploading(_)))
        })
    }

    /// The stored files of `conversation`, in the order chosen (tracked).
    pub fn ready(self, conversation: Option<i64>) -> Vec<Attachment> {
        self.files.with(|all| {
            all.iter()
                .filter(|f| f.conversation == conversation)
                .filter_map(|f| match &f.state {
                    UploadState::Done(a) => Some(a.clone()),
                    _ => None,
                })
                .collect()
        })
    }

    /// Whether an image is among `conversation`'s files (tracked).
    pub fn has_image(self, conversation: Option<i64>) -> bool {
        self.files
            .with(|all| all.iter().any(|f| f.conversation == conversation && f.image))
    }

    /// Adds a file.
    pub fn push(self, file: PendingFile) {
        self.files.update(|all| all.push(file));
    }

    /// Changes where the file `key` stands (nothing if it was removed meanwhile).
    pub fn set_state(self, key: u64, state: UploadState) {
        self.files.update(|all| {
            if let Some(f) = all.iter_mut().find(|f| f.key == key) {
                if let UploadState::Done(a) = &state {
                    f.image = a.is_image();
                }
                f.state = state;
            }
        });
    }

    /// Takes the file `key` out of the list.
    pub fn take(self, key: u64) -> Option<PendingFile> {
        let mut taken = None;
        self.files.update(|all| {
            if let Some(at) = all.iter().position(|f| f.key == key) {
                taken = Some(all.remove(at));
            }
        });
        taken
    }

    /// A message is on its way from `conversation`'s composer with the files it has now.
    pub fn sending(self, conversation: Option<i64>) {
        let keys = self.files.with_untracked(|all| {
            all.iter()
                .filter(|f| f.conversation == conversation)
                .map(|f| f.key)
                .collect()
        });
        self.sending.set_value(keys);
    }

    /// The message on its way went through: its files are the message's now, no longer the composer's. Returns
    /// them (their thumbnails can be let go).
    pub fn sent(self) -> Vec<PendingFile> {
        let keys = self.sending.try_update_value(std::mem::take).unwrap_or_default();
        let mut gone = Vec::new();
        self.files.update(|all| {
            all.retain(|f| {
                let keep = !keys.contains(&f.key);
                if !keep {
                    gone.push(f.clone());
                }
                keep
            })
        });
        gone
    }
}

/// The files a refused send without JavaScript keeps in the composer, as its address carries them back
/// (`?attach=`, a JSON list of attachments: the page shows them without asking the server; sending them again checks
/// that each is the user's).
pub fn kept_in_address(value: Option<&str>) -> Vec<Attachment> {
    value
        .and_then(|v| serde_json::from_slice::<Vec<Attachment>>(v.as_bytes()).ok())
        .unwrap_or_default()
        .into_iter()
        .take(50)
        .collect()
}

/// The extension of a file name as a short type label (`PDF`, `PNG`), or `FILE`.
fn type_label(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty() && ext.len() <= 5)
        .map_or_else(|| "FILE".to_string(), str::to_ascii_uppercase)
}

/// The label of a stored file's type: its kind of text or image, from its MIME type.
pub fn kind_label(attachment: &Attachment) -> String {
    match attachment.content_type.as_str() {
        "application/pdf" => "PDF".to_string(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "DOCX".to_string(),
        "text/plain" => type_label(&attachment.name).replace("FILE", "TXT"),
        other => other
            .rsplit('/')
            .next()
            .map(|s| s.trim_start_matches("x-").to_ascii_uppercase())
            .unwrap_or_else(|| "FILE".to_string()),
    }
}

/// The composer's files. Those a refused send without JavaScript kept (`kept`, from the address) are static markup —
/// a chip with a Remove link each, and the hidden field that sends it (`attachments[0]`…) — so that the page's first
/// visit carries no code for chips; the files chosen in this tab are drawn by [`live_files`], whose code is fetched
/// with the upload code when the first file is chosen, and numbered after the kept ones.
#[component]
pub fn ComposerFiles(
    uploads: Uploads,
    conversation: Option<i64>,
    kept: Vec<Attachment>,
    /// The text the address carried back (`?prompt=`), which a Remove link keeps.
    prompt: String,
    choice: Option<ModelChoice>,
) -> impl IntoView {
    let t = Lang::current();
    let offset = kept.len();
    // With JavaScript, Remove takes the chip and its field out in place (the text typed stays).
    let drop_kept = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        crate::files::client::drop_kept(&ev);
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        {(!kept.is_empty()).then(|| view! {
            <ul class="composer-files" aria-label=tr!(t, files.ui.attachments) data-testid="composer-files"
                inner_html=kept_files_html(&kept, conversation, &prompt, t) on:click=drop_kept></ul>
        })}
        <Show when=move || uploads.any(conversation)>
            {move || Suspend::new(async move {
                #[cfg(feature = "hydrate")]
                let view = (crate::files::client::code().await.live_files)(uploads, conversation, offset, choice);
                #[cfg(not(feature = "hydrate"))]
                let view = live_files(uploads, conversation, offset, choice);
                view
            })}
        </Show>
    }
}

/// The chips of the files a refused send kept, each with its hidden field and a Remove link to the same page without
/// it (the other files and the text still in the address). Static markup, names escaped.
pub fn kept_files_html(kept: &[Attachment], conversation: Option<i64>, prompt: &str, t: Lang) -> String {
    use crate::core::error::escape_html as esc;
    let here = match conversation {
        Some(c) => format!("/chat/{c}"),
        None => "/chat".to_string(),
    };
    let mut out = String::new();
    for (i, a) in kept.iter().enumerate() {
        let others: Vec<&Attachment> = kept.iter().filter(|o| o.id != a.id).collect();
        let mut query = Vec::new();
        if !prompt.is_empty() {
            query.push(format!("prompt={}", crate::core::document::encode_component(prompt)));
        }
        if !others.is_empty() {
            query.push(format!(
                "attach={}",
                crate::core::document::encode_component(&serde_json::to_string(&others).unwrap_or_default())
            ));
        }
        let without = if query.is_empty() {
            here.clone()
        } else {
            format!("{here}?{}", query.join("&"))
        };
        let picture = if a.is_image() {
            format!(r#"<img class="file-thumb" src="{}" alt="">"#, a.content_url())
        } else {
            format!(r#"<span class="file-icon">{}</span>"#, Icon::File.markup())
        };
        out.push_str(&format!(
            r#"<li class="file-chip" data-state="done" data-testid="file-chip">{picture}<span class="file-meta"><span class="file-name">{}</span><span class="file-info">{} · {}</span></span><a class="icon-button small" href="{}" aria-label="{}" data-testid="remove-file">{}</a><input type="hidden" name="attachments[{i}]" value="{}"></li>"#,
            esc(&a.name),
            esc(&kind_label(a)),
            human_size(a.size.max(0) as u64),
            esc(&without),
            esc(&tr!(t, files.ui.remove, name = &a.name).to_string()),
            Icon::Close.markup(),
            a.id
        ));
    }
    out
}

/// The files chosen in this tab for `conversation`'s composer: a chip each, the hidden fields that send the stored
/// ones (numbered from `offset`, after the kept ones), and the warning when the chosen model cannot read an image
/// among them. Its code comes with the upload code (`client::code`), when the first file is chosen.
pub(super) fn live_files(
    uploads: Uploads,
    conversation: Option<i64>,
    offset: usize,
    choice: Option<ModelChoice>,
) -> AnyView {
    let t = Lang::current();
    let chips = move || {
        uploads
            .of(conversation)
            .into_iter()
            .map(|f| view! { <Chip uploads file=f/> })
            .collect_view()
    };
    let fields = move || {
        uploads
            .ready(conversation)
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                view! { <input type="hidden" name=format!("attachments[{}]", offset + i) value=a.id.to_string()/> }
            })
            .collect_view()
    };
    view! {
        <ul class="composer-files" aria-label=tr!(t, files.ui.attachments) data-testid="composer-files">
            {chips}
        </ul>
        {fields}
        {choice.map(|choice| view! { <VisionWarning uploads conversation choice/> })}
    }
    .into_any()
}

/// One chosen file: its thumbnail or icon, name, type and size, the upload's progress or its refusal, and Remove.
#[component]
fn Chip(uploads: Uploads, file: PendingFile) -> impl IntoView {
    let t = Lang::current();
    let key = file.key;
    let state = move || uploads.get(key).map(|f| f.state);
    let name = file.name.clone();
    let remove_label = tr!(t, files.ui.remove, name = &name).to_string();
    let uploading_label = tr!(t, files.ui.uploading, name = &name).to_string();
    let info = move || match state() {
        Some(UploadState::Done(a)) => format!("{} · {}", kind_label(&a), human_size(a.size.max(0) as u64)),
        _ => format!("{} · {}", type_label(&file.name), human_size(file.size)),
    };
    let data_state = move || match state() {
        Some(UploadState::Uploading(_)) => "uploading",
        Some(UploadState::Done(_)) => "done",
        Some(UploadState::Failed(_)) => "failed",
        None => "gone",
    };
    view! {
        <li class="file-chip" data-state=data_state data-testid="file-chip">
            {match file.preview.clone() {
                Some(src) => view! { <img class="file-thumb" src=src alt=""/> }.into_any(),
                None => view! { <span class="file-icon"><Svg icon=Icon::File/></span> }.into_any(),
            }}
            <span class="file-meta">
                <span class="file-name">{name.clone()}</span>
                <span class="file-info">{info}</span>
                {move || match state() {
                    Some(UploadState::Uploading(percent)) => view! {
                        <progress max="100" value=percent.to_string() aria-label=uploading_label.clone()></progress>
                    }.into_any(),
                    Some(UploadState::Failed(why)) => view! {
                        <span class="file-error" role="alert" data-testid="file-error">{why}</span>
                    }.into_any(),
                    _ => ().into_any(),
                }}
            </span>
            <button type="button" class="icon-button small" aria-label=remove_label data-testid="remove-file"
                on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    crate::files::client::remove(uploads, key);
                }>
                <Svg icon=Icon::Close/>
            </button>
        </li>
    }
}

/// The files a message carries — images as thumbnails that open full size, documents as chips that download — and,
/// under a reply, the document parts it quoted (file and page), as static markup: drawn for every message, so built
/// as text rather than as reactive views (names escaped).
pub fn message_files_html(files: &[Attachment], sources: &[Source], t: Lang) -> String {
    files_html_at(files, sources, t, |_, a| a.content_url())
}

/// [`message_files_html`] with each file's link given by `url` (its position and the file): a shared conversation
/// serves them through its link.
pub fn files_html_at(
    files: &[Attachment],
    sources: &[Source],
    t: Lang,
    url: impl Fn(usize, &Attachment) -> String,
) -> String {
    use crate::core::error::escape_html as esc;
    let mut out = String::new();
    if !files.is_empty() {
        out.push_str(&format!(
            r#"<ul class="message-files" aria-label="{}" data-testid="message-files">"#,
            esc(tr!(t, files.ui.attachments))
        ));
        for (n, a) in files.iter().enumerate() {
            let url = esc(&url(n, a));
            let name = esc(&a.name);
            if a.is_image() {
                out.push_str(&format!(
                    r#"<li><a class="file-image" href="{url}" target="_blank" rel="noopener external" aria-label="{}"><img src="{url}" alt="{name}" loading="lazy"></a></li>"#,
                    esc(&tr!(t, files.ui.open_image, name = &a.name).to_string())
                ));
            } else {
                out.push_str(&format!(
                    r#"<li><a class="file-chip" href="{url}" download="{name}" rel="external" title="{}"><span class="file-icon">{}</span><span class="file-meta"><span class="visually-hidden">{}</span><span class="file-name">{name}</span><span class="file-info">{} · {}</span></span></a></li>"#,
                    esc(&tr!(t, files.ui.download, name = &a.name).to_string()),
                    Icon::File.markup(),
                    esc(&tr!(t, files.ui.download, name = "").to_string()),
                    esc(&kind_label(a)),
                    human_size(a.size.max(0) as u64)
                ));
            }
        }
        out.push_str("</ul>");
    }
    if !sources.is_empty() {
        out.push_str(&format!(
            r#"<p class="message-sources" data-testid="message-sources"><span>{}</span>"#,
            esc(tr!(t, files.ui.sources))
        ));
        for s in sources {
            let label = match s.page {
                Some(page) => tr!(t, files.ui.source_page, name = &s.name, page = page).to_string(),
                None => s.name.clone(),
            };
            out.push_str(&format!(
                r#" <a class="source" href="/api/files/{}/content/" rel="external" download="{}">{}</a>"#,
                s.file_id,
                esc(&s.name),
                esc(&label)
            ));
        }
        out.push_str("</p>");
    }
    out
}

/// The edit form's list of a message's files, each ticked (`keep[0]`…): unticked ones stay behind. Static markup.
pub fn keep_files_html(files: &[Attachment], t: Lang) -> String {
    use crate::core::error::escape_html as esc;
    let mut out = format!(
        r#"<fieldset class="edit-files" data-testid="edit-files"><legend>{}</legend><input type="hidden" name="files_listed" value="1">"#,
        esc(tr!(t, files.ui.keep_files))
    );
    for (i, a) in files.iter().enumerate() {
        out.push_str(&format!(
            r#"<label class="checkbox"><input type="checkbox" name="keep[{i}]" value="{}" checked>{}</label>"#,
            a.id,
            esc(&a.name)
        ));
    }
    out.push_str("</fieldset>");
    out
}

/// The model choice of the page (the picker), for the composer's warning: the model chosen (`""` or `default`:
/// the user's preferred one), and which models read images.
#[derive(Clone, Copy)]
pub struct ModelChoice {
    /// The picker's value.
    pub chosen: RwSignal<String>,
    preferred: StoredValue<String>,
    vision: StoredValue<Vec<String>>,
}

impl ModelChoice {
    /// The choice `current` among models of which `vision` read images; `preferred` when none is chosen.
    pub fn new(current: String, preferred: String, vision: Vec<String>) -> Self {
        Self {
            chosen: RwSignal::new(current),
            preferred: StoredValue::new(preferred),
            vision: StoredValue::new(vision),
        }
    }

    /// Whether `model` reads images.
    pub fn reads_images(self, model: &str) -> bool {
        self.vision.with_value(|v| v.iter().any(|m| m == model))
    }

    /// The model a send uses now (tracked).
    pub fn effective(self) -> String {
        let chosen = self.chosen.get();
        if chosen.is_empty() || chosen == "default" {
            self.preferred.get_value()
        } else {
            chosen
        }
    }

    /// A model that reads images, if any.
    pub fn a_vision_model(self) -> Option<String> {
        self.vision.with_value(|v| v.first().cloned())
    }
}

/// Said as soon as an image is attached while the chosen model cannot read it, with a button to choose one that can.
#[component]
fn VisionWarning(uploads: Uploads, conversation: Option<i64>, choice: ModelChoice) -> impl IntoView {
    let t = Lang::current();
    let needed = move || uploads.has_image(conversation) && !choice.reads_images(&choice.effective());
    view! {
        <Show when=needed>
            <p class="vision-warning" role="status" data-testid="vision-warning">
                {tr!(t, files.ui.needs_vision)}
                {choice.a_vision_model().map(|model| {
                    let label = tr!(t, files.ui.use_model, model = &model).to_string();
                    view! {
                        <button type="button" class="link-button" data-testid="use-vision-model"
                            on:click=move |_| {
                                #[cfg(feature = "hydrate")]
                                crate::files::client::choose_model(&model);
                            }>
                            {label}
                        </button>
                    }
                })}
            </p>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(id: i64, name: &str, kind: &str) -> Attachment {
        Attachment {
            id,
            name: name.to_string(),
            content_type: if kind == "image" { "image/png" } else { "text/markdown" }.to_string(),
            size: 2048,
            kind: kind.to_string(),
        }
    }

    /// The `?attach=` value of a query string, decoded as the page reads it.
    fn attach_of(href: &str) -> Vec<Attachment> {
        let query = href.split_once('?').map(|(_, q)| q).unwrap_or("");
        let value = query.split('&').find_map(|pair| pair.strip_prefix("attach=")).map(|v| {
            let bytes = v.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' {
                    out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        });
        kept_in_address(value.as_deref())
    }

    #[test]
    fn kept_chips_carry_their_fields_and_remove_links_keep_the_rest() {
        let kept = [file(7, "notes <1>.md", "document"), file(9, "dot.png", "image")];
        let html = kept_files_html(&kept, Some(3), "Still here & there", Lang::En);
        assert!(html.contains(r#"<input type="hidden" name="attachments[0]" value="7">"#));
        assert!(html.contains(r#"<input type="hidden" name="attachments[1]" value="9">"#));
        assert!(html.contains("notes &lt;1&gt;.md"), "names are escaped");
        assert!(html.contains(r#"<img class="file-thumb" src="/api/files/9/content/""#));
        let links: Vec<&str> = html
            .split(r#"href=""#)
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap())
            .collect();
        assert_eq!(links.len(), 2);
        // Removing the first keeps the second and the text, and the other way round.
        assert!(links[0].starts_with("/chat/3?prompt=Still%20here%20%26%20there&amp;attach="));
        assert_eq!(attach_of(&links[0].replace("&amp;", "&")), vec![kept[1].clone()]);
        assert_eq!(attach_of(&links[1].replace("&amp;", "&")), vec![kept[0].clone()]);
        // The last one removed: the page alone.
        let one = kept_files_html(&kept[..1], None, "", Lang::En);
        assert!(one.contains(r#"href="/chat""#));
    }
}
