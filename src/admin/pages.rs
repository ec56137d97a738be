//! `/admin`: the overview for staff. Anyone else gets 403 (logged in) or the login page (logged out); unknown paths
//! under `/admin` answer the same way before they answer 404, so they reveal nothing.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::accounts::pages::login_redirect;
use crate::accounts::server_fns::current_user;
use crate::admin::server_fns::admin_overview;
use crate::admin::types::{AdminUserRow, InstanceOverview};
use crate::core::error::{AppError, Refusal};
use crate::core::i18n::Lang;
use crate::core::not_found::NotFound;

/// `/admin`.
#[component]
pub fn AdminPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| admin_overview());
    let t = Lang::current();
    view! {
        <Title text=t.t("Administration", "Administration")/>
        <section class="auth-card wide admin">
            <h1>{t.t("Administration", "Administration")}</h1>
            <Suspense fallback=move || view! { <p>{t.t("Loading…", "Chargement…")}</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(overview) => view! { <Overview overview/> }.into_any(),
                        Err(error) => refused(error),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Any other path under `/admin`: the same checks (from the session user alone, nothing to load), then the 404 page.
#[component]
pub fn AdminFallback() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let refusal = match user.await {
                    Ok(Some(user)) if user.is_staff => None,
                    Ok(Some(_)) => Some(AppError::Forbidden(Refusal::Permission)),
                    Ok(None) => Some(AppError::Unauthenticated),
                    Err(error) => Some(error),
                };
                match refusal {
                    None => view! { <NotFound/> }.into_any(),
                    Some(error) => view! { <section class="auth-card">{refused(error)}</section> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The login page for visitors, 403 for users who are not staff.
fn refused(error: AppError) -> AnyView {
    let t = Lang::current();
    match error {
        AppError::Unauthenticated => login_redirect().into_any(),
        AppError::Forbidden(_) => {
            #[cfg(feature = "ssr")]
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(error.status());
            }
            view! {
                <Title text=t.t("Forbidden", "Accès refusé")/>
                <p class="form-error" role="alert" data-testid="forbidden">{error.message(t)}</p>
                <p><a href="/">{t.t("Go to the home page", "Aller à l’accueil")}</a></p>
            }
            .into_any()
        }
        other => view! { <p class="form-error" role="alert">{other.message(t)}</p> }.into_any(),
    }
}

#[component]
fn Overview(overview: InstanceOverview) -> impl IntoView {
    let t = Lang::current();
    let stat = move |value: i64, en: &'static str, fr: &'static str| {
        view! { <li><strong>{value}</strong>" "{t.t(en, fr)}</li> }
    };
    let yes_no = move |flag: bool| if flag { t.t("yes", "oui") } else { t.t("no", "non") };
    view! {
        <ul class="admin-stats" data-testid="admin-stats">
            {stat(overview.users, "accounts", "comptes")}
            {stat(overview.conversations, "conversations", "conversations")}
            {stat(overview.messages, "messages", "messages")}
        </ul>
        <h2>{t.t("Newest accounts", "Derniers comptes")}</h2>
        <table class="tokens admin-users">
            <thead><tr>
                <th>{t.t("Username", "Nom d’utilisateur")}</th><th>{t.t("Email", "E-mail")}</th>
                <th>{t.t("Joined", "Inscription")}</th><th>{t.t("Last login", "Dernière connexion")}</th>
                <th>{t.t("Active", "Actif")}</th><th>{t.t("Staff", "Équipe")}</th>
            </tr></thead>
            <tbody>
                {overview.newest.into_iter().map(|user: AdminUserRow| view! {
                    <tr>
                        <td>{user.username}</td>
                        <td>{user.email}</td>
                        <td>{user.joined}</td>
                        <td>{user.last_login.unwrap_or_else(|| t.t("never", "jamais").to_string())}</td>
                        <td>{yes_no(user.is_active)}</td>
                        <td>{yes_no(user.is_staff)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
