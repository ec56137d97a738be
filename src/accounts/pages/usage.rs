//! `/settings/usage`: what the user used today and this month, against their limits, and when each resets.

use leptos::prelude::*;
use leptos_meta::Title;

use super::login_redirect;
use crate::chat::server_fns::my_usage;
use crate::chat::types::UsageView;
use crate::core::error::AppError;
use crate::core::i18n::Lang;
use crate::tr;

/// `/settings/usage`.
#[component]
pub fn UsagePage() -> impl IntoView {
    let t = Lang::current();
    let usage = crate::core::codec::resource(|| (), |_| my_usage());
    view! {
        <Title text=tr!(t, accounts.usage.title)/>
        <section class="auth-card wide">
            <h1>{tr!(t, accounts.usage.title)}</h1>
            <Suspense fallback=move || view! { <p>{tr!(t, accounts.tokens.loading)}</p> }>
                {move || Suspend::new(async move {
                    match usage.await {
                        Ok(view) => usage_table(t, view).into_any(),
                        Err(AppError::Unauthenticated) => login_redirect().into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.message(t)}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <p class="auth-switch"><a href="/settings">{tr!(t, accounts.tokens.back_settings)}</a></p>
        </section>
    }
}

fn usage_table(t: Lang, view: UsageView) -> impl IntoView {
    let UsageView {
        usage,
        limits,
        day_resets,
        month_resets,
    } = view;
    let limit = move |value: i64| {
        if value == 0 {
            tr!(t, accounts.usage.unlimited).to_string()
        } else {
            value.to_string()
        }
    };
    let rows = [
        (
            tr!(t, accounts.usage.messages_today),
            usage.messages_today,
            limits.messages_per_day,
            day_resets.clone(),
        ),
        (
            tr!(t, accounts.usage.tokens_today),
            usage.tokens_today,
            limits.tokens_per_day,
            day_resets,
        ),
        (
            tr!(t, accounts.usage.tokens_month),
            usage.tokens_this_month,
            limits.tokens_per_month,
            month_resets,
        ),
    ];
    view! {
        <table class="tokens" data-testid="usage">
            <thead><tr>
                <th scope="col">{tr!(t, accounts.usage.what)}</th>
                <th scope="col">{tr!(t, accounts.usage.used)}</th>
                <th scope="col">{tr!(t, accounts.usage.limit)}</th>
                <th scope="col">{tr!(t, accounts.usage.resets)}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|(label, used, max, resets)| view! {
                    <tr>
                        <th scope="row">{label}</th>
                        <td class="number">{used}</td>
                        <td class="number">{limit(max)}</td>
                        <td>{if max == 0 { String::new() } else { format!("{resets} UTC") }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <p class="hint">{tr!(t, accounts.usage.explained)}</p>
    }
}
