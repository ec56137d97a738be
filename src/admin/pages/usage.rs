//! `/admin/usage`: replies, tokens, errors and the median time to the first token over a period, per day (with a
//! chart drawn on the server as SVG, readable without JavaScript, and the same figures in a table for screen readers),
//! per account or per model; and a CSV download of the same report.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{AdminNav, refused};
use crate::admin::server_fns::admin_usage;
use crate::admin::types::{UsageGroup, UsageReport, UsageRow};
use crate::core::i18n::Lang;
use crate::tr;

/// `/admin/usage`.
#[component]
pub fn UsagePage() -> impl IntoView {
    let t = Lang::current();
    let query = use_query_map();
    let param = move |name: &'static str| move || query.with(|q| q.get(name).unwrap_or_default());
    let report = crate::core::codec::resource(
        move || (param("from")(), param("to")(), param("group_by")()),
        |(from, to, group_by)| admin_usage(from, to, group_by),
    );
    view! {
        <Title text=tr!(t, admin.usage.title)/>
        <section class="auth-card wide admin">
            <h1>{tr!(t, admin.usage.title)}</h1>
            <AdminNav here="/admin/usage"/>
            <Suspense fallback=move || view! { <p>{tr!(t, admin.page.loading)}</p> }>
                {move || Suspend::new(async move {
                    match report.await {
                        Ok(report) => view! { <Report report/> }.into_any(),
                        Err(error @ crate::core::error::AppError::Invalid(_)) => view! {
                            <p class="form-error" role="alert">{error.message(t)}</p>
                            <p><a href="/admin/usage">{tr!(t, admin.usage.show)}</a></p>
                        }.into_any(),
                        Err(error) => refused(error),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Report(report: UsageReport) -> impl IntoView {
    let t = Lang::current();
    let UsageReport {
        from,
        to,
        group_by,
        rows,
    } = report;
    let csv = format!(
        "/api/admin/usage/?from={from}&to={to}&group_by={}&format=csv",
        group_by.name()
    );
    let option = move |group: UsageGroup, label: &'static str| {
        view! { <option value=group.name() selected=group == group_by>{label}</option> }
    };
    let key_label = match group_by {
        UsageGroup::Day => tr!(t, admin.usage.day),
        UsageGroup::User => tr!(t, admin.usage.user),
        UsageGroup::Model => tr!(t, admin.usage.model),
    };
    let chart = (group_by == UsageGroup::Day).then(|| chart(t, &rows, &from, &to));
    let empty = rows.iter().all(|r| r.messages == 0);
    let by_user = group_by == UsageGroup::User;
    view! {
        <form method="get" action="/admin/usage" class="admin-search usage-filter">
            <span class="field"><label for="usage-from">{tr!(t, admin.usage.from)}</label>
                <input id="usage-from" type="date" name="from" value=from.clone()/></span>
            <span class="field"><label for="usage-to">{tr!(t, admin.usage.to)}</label>
                <input id="usage-to" type="date" name="to" value=to.clone()/></span>
            <span class="field"><label for="usage-group">{tr!(t, admin.usage.group_by)}</label>
                <select id="usage-group" name="group_by">
                    {option(UsageGroup::Day, tr!(t, admin.usage.day))}
                    {option(UsageGroup::User, tr!(t, admin.usage.user))}
                    {option(UsageGroup::Model, tr!(t, admin.usage.model))}
                </select></span>
            <button type="submit">{tr!(t, admin.usage.show)}</button>
            <a class="button" href=csv download>{tr!(t, admin.usage.csv)}</a>
        </form>
        {chart}
        {empty.then(|| view! { <p class="hint" data-testid="usage-empty">{tr!(t, admin.usage.none)}</p> })}
        <div class="table-scroll" tabindex="0" role="region" aria-label=tr!(t, admin.usage.title)>
            <table class="tokens admin-users" data-testid="usage-table">
                <thead><tr>
                    <th scope="col">{key_label}</th>
                    <th scope="col" class="number">{tr!(t, admin.usage.messages)}</th>
                    <th scope="col" class="number">{tr!(t, admin.usage.prompt_tokens)}</th>
                    <th scope="col" class="number">{tr!(t, admin.usage.completion_tokens)}</th>
                    <th scope="col" class="number">{tr!(t, admin.usage.errors)}</th>
                    <th scope="col" class="number">{tr!(t, admin.usage.median_ttft)}</th>
                    <th scope="col" class="number">{tr!(t, admin.usage.tool_calls)}</th>
                    {by_user.then(|| view! { <th scope="col" class="number">{tr!(t, admin.usage.files)}</th> })}
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|row: UsageRow| view! {
                        <tr data-key=row.key.clone()>
                            <th scope="row">{row.key.clone()}</th>
                            <td class="number">{row.messages}</td>
                            <td class="number">{row.prompt_tokens}</td>
                            <td class="number">{row.completion_tokens}</td>
                            <td class="number">{row.errors}</td>
                            <td class="number">{row.median_ttft_ms.map(|ms| tr!(t, admin.usage.ms, ms = ms).to_string())}</td>
                            <td class="number">{row.tool_calls}</td>
                            {row.files_bytes.map(|b| view! {
                                <td class="number">{crate::files::human_size(u64::try_from(b).unwrap_or(0))}</td>
                            })}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Replies per day as bars, drawn on the server. The table below holds the same figures, so the chart is one image
/// with a title for screen readers.
fn chart(t: Lang, rows: &[UsageRow], from: &str, to: &str) -> impl IntoView {
    const HEIGHT: f64 = 120.0;
    const BAR: f64 = 10.0;
    let max = rows.iter().map(|r| r.messages).max().unwrap_or(0).max(1) as f64;
    let width = (rows.len().max(1) as f64) * BAR;
    let title = tr!(t, admin.usage.chart_title, from = from, to = to).to_string();
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let h = (row.messages as f64 / max) * (HEIGHT - 4.0);
            let x = i as f64 * BAR + 1.0;
            view! {
                <rect x=format!("{x:.1}") y=format!("{:.1}", HEIGHT - h) width=format!("{:.1}", BAR - 2.0)
                    height=format!("{h:.1}") class="bar"><title>{format!("{}: {}", row.key, row.messages)}</title></rect>
            }
        })
        .collect_view();
    view! {
        <figure class="usage-chart">
            <svg viewBox=format!("0 0 {width} {HEIGHT}") preserveAspectRatio="none" role="img"
                aria-labelledby="usage-chart-title" data-testid="usage-chart">
                <title id="usage-chart-title">{title.clone()}</title>
                {bars}
            </svg>
            <figcaption>{title}</figcaption>
        </figure>
    }
}
