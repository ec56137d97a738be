//! `/settings/shares`: the conversations the user shared, each with its link to copy or open, the time of its
//! snapshot, and a button that revokes it (issue #29).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::chat::server_fns::{RevokeShare, my_shares};
use crate::chat::types::ShareLink;
use crate::core::csrf::CsrfField;
use crate::core::error::AppError;
use crate::core::i18n::Lang;
use crate::tr;

/// The user's share links.
#[component]
pub fn SharesPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeShare>::new();
    let links = crate::core::codec::resource(move || revoke.version().get(), |_| my_shares());
    let t = Lang::current();
    view! {
        <Title text=tr!(t, chat.share.my_links)/>
        <section class="auth-card wide">
            <h1>{tr!(t, chat.share.my_links)}</h1>
            <p class="hint">{tr!(t, chat.share.my_links_intro)}</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match links.await {
                        Ok(rows) => view! { <ShareList rows revoke/> }.into_any(),
                        Err(AppError::Unauthenticated) => crate::accounts::pages::login_redirect().into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.message(Lang::current())}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <p class="auth-switch"><a href="/settings">{tr!(t, accounts.tokens.back_settings)}</a></p>
        </section>
    }
}

#[component]
fn ShareList(rows: Vec<ShareLink>, revoke: ServerAction<RevokeShare>) -> impl IntoView {
    let t = Lang::current();
    if rows.is_empty() {
        return view! { <p class="hint" data-testid="no-shares">{tr!(t, chat.share.none)}</p> }.into_any();
    }
    view! {
        <ul class="share-list" data-testid="share-list">
            {rows.into_iter().map(|row| {
                let field = format!("share-link-{}", row.conversation_id);
                view! {
                    <li>
                        <p class="share-title">
                            <a href=format!("/chat/{}", row.conversation_id)>{row.title.clone()}</a>
                            <span class="hint">" · "{tr!(t, chat.share.updated_at, date = format!("{} UTC", row.updated_date))}</span>
                        </p>
                        <label class="visually-hidden" for=field.clone()>{tr!(t, chat.share.link)}</label>
                        <input id=field class="share-url" readonly value=row.url.clone() data-testid="share-url"/>
                        <div class="share-actions">
                            <a class="button small" href=row.url.clone() target="_blank" rel="noopener external">{tr!(t, chat.share.open)}</a>
                            <ActionForm action=revoke attr:class="inline">
                                <CsrfField/>
                                <input type="hidden" name="id" value=row.conversation_id.to_string()/>
                                <input type="hidden" name="back" value="shares"/>
                                <button type="submit" class="danger small" data-testid="revoke-share">{tr!(t, chat.share.revoke)}</button>
                            </ActionForm>
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
