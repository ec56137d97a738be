//! The instance's default limits (`/admin/settings`) and one account's page with its own limits
//! (`/admin/users/{id}`): the same three fields, plain forms that work without JavaScript.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{AdminNav, refused};
use crate::admin::server_fns::{
    AdminSaveOpenaiApi, AdminSaveSettings, AdminSaveSharing, AdminSaveUserQuota, admin_settings, admin_user,
};
use crate::admin::types::AdminUserView;
use crate::core::csrf::CsrfField;
use crate::core::error::AppError;
use crate::core::i18n::Lang;
use crate::tr;

/// The limit fields of a form: the three usage limits and, for an account, its storage; the value shown, and the hint
/// under each (the default, for an account).
#[component]
fn LimitFields(values: Vec<Option<i64>>, hints: Vec<String>, error: Signal<Option<AppError>>) -> impl IntoView {
    let t = Lang::current();
    let labels = [
        ("messages_per_day", tr!(t, admin.limits.messages_per_day)),
        ("tokens_per_day", tr!(t, admin.limits.tokens_per_day)),
        ("tokens_per_month", tr!(t, admin.limits.tokens_per_month)),
        ("storage_mb", tr!(t, admin.limits.storage_mb)),
    ];
    labels
        .into_iter()
        .zip(values)
        .zip(hints)
        .map(|(((name, label), value), hint)| {
            let errors = move || {
                error
                    .get()
                    .and_then(|e| e.form().map(|f| f.of(name, Lang::current())))
                    .unwrap_or_default()
            };
            let kept = move || {
                error
                    .get()
                    .and_then(|e| e.form().and_then(|f| f.values.get(name).cloned()))
            };
            let shown = move || kept().unwrap_or_else(|| value.map(|v| v.to_string()).unwrap_or_default());
            let hint_id = format!("{name}-hint");
            let errors_id = format!("{name}-errors");
            let described = format!("{hint_id} {errors_id}");
            view! {
                <label for=name>{label}</label>
                <input id=name name=name type="number" min="0" step="1" inputmode="numeric" value=shown
                    aria-describedby=described aria-invalid=move || (!errors().is_empty()).to_string()/>
                <p class="hint" id=hint_id>{hint}</p>
                <div id=errors_id role="alert"><ul class="field-errors">
                    {move || errors().into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
                </ul></div>
            }
        })
        .collect_view()
}

/// `/admin/settings`: the default limits of every account without its own.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let t = Lang::current();
    let save = ServerAction::<AdminSaveSettings>::new();
    let save_sharing = ServerAction::<AdminSaveSharing>::new();
    let save_api = ServerAction::<AdminSaveOpenaiApi>::new();
    let api_error = Signal::derive(move || save_api.value().get().and_then(Result::err));
    let defaults = crate::core::codec::resource(
        move || {
            (
                save.version().get(),
                save_sharing.version().get(),
                save_api.version().get(),
            )
        },
        |_| admin_settings(),
    );
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let saved = move || {
        use_query_map().with(|q| q.get("saved").is_some()) && error.get().is_none() && api_error.get().is_none()
    };
    view! {
        <Title text=tr!(t, admin.limits.settings_title)/>
        <section class="auth-card wide admin">
            <h1>{tr!(t, admin.limits.settings_title)}</h1>
            <AdminNav here="/admin/settings"/>
            <p class="notice-slot" role="status">
                {move || saved().then(|| view! { <span class="notice">{tr!(t, admin.limits.saved)}</span> })}
            </p>
            <Suspense fallback=move || view! { <p>{tr!(t, admin.page.loading)}</p> }>
                {move || Suspend::new(async move {
                    match defaults.await {
                        Ok((quota, sharing, temporary, (api_on, api_models))) => {
                            let option = move |value: &'static str, label: &'static str| {
                                let selected = temporary.as_str() == value;
                                view! { <option value=value selected=selected>{label}</option> }
                            };
                            let unlimited = tr!(t, admin.limits.zero_unlimited).to_string();
                            view! {
                                <h2>{tr!(t, admin.limits.defaults)}</h2>
                                <ActionForm action=save attr:class="form" attr:novalidate=true>
                                    <CsrfField/>
                                    <LimitFields
                                        values=vec![Some(quota.messages_per_day), Some(quota.tokens_per_day), Some(quota.tokens_per_month)]
                                        hints=vec![unlimited.clone(), unlimited.clone(), unlimited]
                                        error/>
                                    <button type="submit" class="primary">{tr!(t, admin.limits.save)}</button>
                                </ActionForm>
                                <h2>{tr!(t, chat.share.my_links)}</h2>
                                <ActionForm action=save_sharing attr:class="form">
                                    <CsrfField/>
                                    <label class="checkbox">
                                        <input type="checkbox" name="sharing" checked=sharing data-testid="sharing-enabled"/>
                                        {tr!(t, chat.share.allowed)}
                                    </label>
                                    <label for="temporary-chats">{tr!(t, chat.temporary.setting)}</label>
                                    <select id="temporary-chats" name="temporary_chats" data-testid="temporary-chats">
                                        {option("off", tr!(t, chat.temporary.setting_off))}
                                        {option("allowed", tr!(t, chat.temporary.setting_allowed))}
                                        {option("enforced", tr!(t, chat.temporary.setting_enforced))}
                                    </select>
                                    <button type="submit" class="primary" data-testid="save-sharing">{tr!(t, chat.temporary.save_setting)}</button>
                                </ActionForm>
                                <h2>{tr!(t, admin.limits.openai_api)}</h2>
                                <p class="hint">{tr!(t, admin.limits.openai_api_hint)}</p>
                                <ActionForm action=save_api attr:class="form" attr:novalidate=true>
                                    <CsrfField/>
                                    <label class="checkbox">
                                        <input type="checkbox" name="enabled" checked=api_on data-testid="openai-api-enabled"/>
                                        {tr!(t, admin.limits.openai_api_enabled)}
                                    </label>
                                    <label for="openai-api-models">{tr!(t, admin.limits.openai_api_models)}</label>
                                    <input id="openai-api-models" name="models" type="text" autocomplete="off"
                                        value=api_models.join(", ") data-testid="openai-api-models"
                                        aria-describedby="openai-api-models-hint openai-api-models-errors"/>
                                    <p class="hint" id="openai-api-models-hint">{tr!(t, admin.limits.openai_api_models_hint)}</p>
                                    <div id="openai-api-models-errors" role="alert"><ul class="field-errors">
                                        {move || api_error
                                            .get()
                                            .and_then(|e| e.form().map(|f| f.of("openai_api_models", Lang::current())))
                                            .unwrap_or_default()
                                            .into_iter()
                                            .map(|m| view! { <li>{m}</li> })
                                            .collect_view()}
                                    </ul></div>
                                    <button type="submit" class="primary" data-testid="save-openai-api">{tr!(t, admin.limits.openai_api_save)}</button>
                                </ActionForm>
                            }.into_any()
                        }
                        Err(error) => refused(error),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// `/admin/users/{id}`: an account, what it used, and its own limits.
#[component]
pub fn UserPage() -> impl IntoView {
    let t = Lang::current();
    let params = use_params_map();
    let save = ServerAction::<AdminSaveUserQuota>::new();
    let user = crate::core::codec::resource(
        move || (params.with(|p| p.get("id").unwrap_or_default()), save.version().get()),
        |(id, _)| admin_user(id),
    );
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let saved = move || use_query_map().with(|q| q.get("saved").is_some()) && error.get().is_none();
    view! {
        <Title text=tr!(t, admin.users.title)/>
        <section class="auth-card wide admin">
            <Suspense fallback=move || view! { <p>{tr!(t, admin.page.loading)}</p> }>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(view) => account(t, view, save, error).into_any(),
                        Err(error) => refused(error),
                    }
                })}
            </Suspense>
            <p class="notice-slot" role="status">
                {move || saved().then(|| view! { <span class="notice">{tr!(t, admin.limits.saved)}</span> })}
            </p>
        </section>
    }
}

fn account(
    t: Lang,
    view: AdminUserView,
    save: ServerAction<AdminSaveUserQuota>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let AdminUserView {
        row,
        quota,
        defaults,
        limits,
        usage,
        storage: (storage_bytes, storage_limit),
    } = view;
    let size = |bytes: i64| crate::files::human_size(u64::try_from(bytes).unwrap_or(0));
    let storage_used = if storage_limit == 0 {
        size(storage_bytes)
    } else {
        format!("{} / {}", size(storage_bytes), size(storage_limit))
    };
    // The instance's setting applies without an own limit.
    let storage_hint = if quota.storage_mb.is_some() {
        tr!(t, admin.limits.storage_hint).to_string()
    } else if storage_limit == 0 {
        tr!(t, admin.limits.default_unlimited).to_string()
    } else {
        tr!(t, admin.limits.storage_default, size = size(storage_limit)).to_string()
    };
    let default_hint = move |value: i64| {
        if value == 0 {
            tr!(t, admin.limits.default_unlimited).to_string()
        } else {
            tr!(t, admin.limits.default_is, value = value).to_string()
        }
    };
    let of = |used: i64, max: i64| {
        if max == 0 {
            format!("{used}")
        } else {
            format!("{used} / {max}")
        }
    };
    view! {
        <h1>{row.username.clone()}</h1>
        <AdminNav here="/admin/users"/>
        <p class="hint">{row.email.clone()}</p>
        <p class="hint" data-testid="user-role">{tr!(t, admin.users.role, role = if row.is_superuser {
            tr!(t, admin.users.role_superuser)
        } else if row.is_staff {
            tr!(t, admin.users.role_staff)
        } else {
            tr!(t, admin.users.role_user)
        })}</p>
        <ul class="admin-stats" data-testid="user-usage">
            <li><strong>{of(usage.messages_today, limits.messages_per_day)}</strong>" "{tr!(t, admin.limits.messages_today)}</li>
            <li><strong>{of(usage.tokens_today, limits.tokens_per_day)}</strong>" "{tr!(t, admin.limits.tokens_today)}</li>
            <li><strong>{of(usage.tokens_this_month, limits.tokens_per_month)}</strong>" "{tr!(t, admin.limits.tokens_month)}</li>
            <li data-testid="user-storage"><strong>{storage_used}</strong>" "{tr!(t, admin.limits.storage_used)}</li>
        </ul>
        <h2>{tr!(t, admin.limits.own_limits)}</h2>
        <p class="hint">{tr!(t, admin.limits.own_explained)}</p>
        <ActionForm action=save attr:class="form" attr:novalidate=true>
            <CsrfField/>
            <input type="hidden" name="id" value=row.id.to_string()/>
            <LimitFields
                values=vec![quota.messages_per_day, quota.tokens_per_day, quota.tokens_per_month, quota.storage_mb]
                hints=vec![default_hint(defaults.messages_per_day), default_hint(defaults.tokens_per_day),
                    default_hint(defaults.tokens_per_month), storage_hint]
                error/>
            <button type="submit" class="primary">{tr!(t, admin.limits.save)}</button>
        </ActionForm>
        <p class="auth-switch"><a href=format!("/admin/users/{}/conversations", row.id)>{tr!(t, admin.conversations.title)}</a></p>
        <p class="auth-switch"><a href=format!("/admin/users?search={}", crate::core::document::encode_component(&row.username))>{tr!(t, admin.limits.back_to_list)}</a></p>
    }
}
