//! `/api/docs/`: a readable page made from the generated OpenAPI document — every route with its parameters, body,
//! answers and authentication, then every shape. Rendered on the server, with no script: it works with JavaScript
//! off and under the strictest Content-Security-Policy.

use std::fmt::Write;
use std::sync::Arc;

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use crate::core::error::escape_html;

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;\
color:#1d2330}h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}h3{margin:1.6rem 0 .3rem;\
font-family:ui-monospace,monospace;font-size:1rem}.m{display:inline-block;min-width:4.2rem;padding:0 .4rem;\
border-radius:4px;color:#fff;background:#5561d6;text-align:center;margin-right:.4rem}.m.get{background:#2e7d32}\
.m.delete{background:#c62828}.m.patch{background:#ef6c00}code,pre{font-family:ui-monospace,monospace;\
background:#f3f4f7;border-radius:4px;padding:0 .25rem}pre{padding:.6rem;overflow:auto}table{border-collapse:collapse;\
margin:.3rem 0}td,th{border-bottom:1px solid #e3e3e3;padding:.2rem .6rem;text-align:left;vertical-align:top}\
.lock{color:#6b7280;font-size:.9rem}nav a{margin-right:.8rem}";

/// The page.
pub async fn page(doc: Arc<Value>) -> Response {
    let mut res = Html(render(&doc)).into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    );
    res
}

fn text(value: &Value) -> String {
    escape_html(value.as_str().unwrap_or_default())
}

/// A schema in one line: a link to a named shape, or its type.
fn schema_name(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape_html(name));
    }
    if let Some(items) = schema.get("items") {
        return format!("[{}]", schema_name(items));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            return options.iter().map(schema_name).collect::<Vec<_>>().join(" | ");
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) => escape_html(t),
        Some(Value::Array(types)) => types.iter().map(text).collect::<Vec<_>>().join(" | "),
        _ => "any".to_string(),
    }
}

fn render(doc: &Value) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let info = &doc["info"];
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{title} — reference</title><style>{STYLE}</style>\
         </head><body><h1>{title}</h1><p>{desc}</p><p>Version {version} · machine-readable: \
         <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI {openapi}) · <a href=\"/\">back to ThiCode</a></p>",
        title = text(&info["title"]),
        desc = text(&info["description"]),
        version = text(&info["version"]),
        openapi = text(&doc["openapi"]),
    );
    out.push_str("<h2>Authentication</h2><table>");
    if let Some(schemes) = doc["components"]["securitySchemes"].as_object() {
        for (name, scheme) in schemes {
            let _ = write!(
                out,
                "<tr><th>{}</th><td>{}</td></tr>",
                escape_html(name),
                text(&scheme["description"])
            );
        }
    }
    out.push_str("</table>");
    let tags = doc["tags"].as_array().cloned().unwrap_or_default();
    out.push_str("<nav>");
    for tag in &tags {
        let _ = write!(out, "<a href=\"#tag-{0}\">{0}</a>", text(&tag["name"]));
    }
    out.push_str("<a href=\"#shapes\">shapes</a></nav>");
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for tag in &tags {
        let name = tag["name"].as_str().unwrap_or_default();
        let _ = write!(
            out,
            "<h2 id=\"tag-{0}\">{0}</h2><p>{1}</p>",
            escape_html(name),
            text(&tag["description"])
        );
        for (path, item) in &paths {
            let Some(operations) = item.as_object() else { continue };
            for (method, op) in operations {
                let tagged = op["tags"].as_array().is_some_and(|t| t.iter().any(|v| v == name));
                if tagged {
                    operation(&mut out, path, method, op);
                }
            }
        }
    }
    out.push_str("<h2 id=\"shapes\">Shapes</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let _ = write!(
                out,
                "<h3 id=\"schema-{0}\">{0}</h3><p>{1}</p>",
                escape_html(name),
                text(&schema["description"])
            );
            if let Some(properties) = schema["properties"].as_object() {
                let required: Vec<&str> = schema["required"]
                    .as_array()
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                out.push_str("<table><tr><th>field</th><th>type</th><th>description</th></tr>");
                for (field, property) in properties {
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td></tr>",
                        escape_html(field),
                        if required.contains(&field.as_str()) { " *" } else { "" },
                        schema_name(property),
                        text(&property["description"])
                    );
                }
                out.push_str("</table>");
            } else {
                let _ = write!(out, "<p>{}</p>", schema_name(schema));
            }
        }
    }
    out.push_str("<p>* required</p></body></html>");
    out
}

fn operation(out: &mut String, path: &str, method: &str, op: &Value) {
    let _ = write!(
        out,
        "<h3><span class=\"m {m}\">{M}</span>{p}</h3>",
        m = escape_html(method),
        M = escape_html(&method.to_uppercase()),
        p = escape_html(path)
    );
    let summary = [&op["summary"], &op["description"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if !summary.is_empty() {
        let _ = write!(out, "<p>{}</p>", escape_html(&summary));
    }
    let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
    out.push_str(if secured {
        "<p class=\"lock\">Needs a session, a personal token or a JWT.</p>"
    } else {
        "<p class=\"lock\">Open to anyone (limited per client address).</p>"
    });
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str("<table><tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>");
        for p in params {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(&p["name"]),
                text(&p["in"]),
                schema_name(&p["schema"]),
                text(&p["description"])
            );
        }
        out.push_str("</table>");
    }
    if let Some(body) = op["requestBody"]["content"].as_object() {
        for (kind, content) in body {
            let _ = write!(
                out,
                "<p>Body (<code>{}</code>): {}</p>",
                escape_html(kind),
                schema_name(&content["schema"])
            );
        }
    }
    if let Some(responses) = op["responses"].as_object() {
        out.push_str("<table><tr><th>status</th><th>body</th><th>meaning</th></tr>");
        for (status, response) in responses {
            let body = response["content"]
                .as_object()
                .map(|c| {
                    c.iter()
                        .map(|(kind, content)| {
                            if kind == "application/json" {
                                schema_name(&content["schema"])
                            } else {
                                format!("<code>{}</code>", escape_html(kind))
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape_html(status),
                body,
                text(&response["description"])
            );
        }
        out.push_str("</table>");
    }
}
