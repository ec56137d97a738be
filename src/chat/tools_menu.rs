//! The composer's tools menu (issue #27), rendered on the server: a `<details>` that opens (without JavaScript) to one
//! checkbox per tool the instance offers, ticked for those the conversation uses, and "use these in new
//! conversations too". Its fields go with the message (`tools_listed`, `tools[i]`, `tools_default`), so the choice is
//! saved with the send, with or without JavaScript. When the conversation's model cannot call tools, the boxes are
//! off and the menu says why.

use crate::core::error::escape_html as esc;
use crate::core::i18n::Lang;
use crate::core::icons::Icon;
use crate::tools::ToolInfo;
use crate::tr;

/// The menu for `offered` tools with `enabled` ticked, for a model (`model`) that can call them or not; nothing when
/// the instance offers no tool.
pub fn tools_menu_html(
    offered: &[ToolInfo],
    enabled: &[String],
    model: &str,
    calls_functions: bool,
    lang: Lang,
) -> String {
    if offered.is_empty() {
        return String::new();
    }
    let on = if calls_functions {
        offered.iter().filter(|t| enabled.contains(&t.name)).count()
    } else {
        0
    };
    let label = tr!(lang, chat.tools.menu_count, count = on).to_string();
    let mut out = format!(
        r#"<details class="tools-menu" data-testid="tools-menu"><summary class="icon-button tip-right" aria-label="{label}" data-tip="{label}">{icon}{count}</summary><fieldset class="tools-panel"><legend>{legend}</legend><input type="hidden" name="tools_listed" value="1">"#,
        label = esc(&label),
        icon = Icon::Tools.markup(),
        count = if on > 0 {
            format!(r#"<span class="tools-count" aria-hidden="true">{on}</span>"#)
        } else {
            String::new()
        },
        legend = esc(tr!(lang, chat.tools.menu_legend)),
    );
    for (i, tool) in offered.iter().enumerate() {
        let (name, about) = match tool.name.as_str() {
            crate::tools::builtin::WEB_SEARCH => (
                tr!(lang, chat.tools.name_web_search).to_string(),
                tr!(lang, chat.tools.about_web_search).to_string(),
            ),
            crate::tools::builtin::READ_PAGE => (
                tr!(lang, chat.tools.name_read_page).to_string(),
                tr!(lang, chat.tools.about_read_page).to_string(),
            ),
            _ => (tool.name.clone(), tool.description.clone()),
        };
        out.push_str(&format!(
            r#"<label class="tool-choice"><input type="checkbox" name="tools[{i}]" value="{value}"{checked}{disabled} data-testid="tool-{value}"><span><span class="tool-name">{name}</span><span class="tool-about">{about}</span></span></label>"#,
            value = esc(&tool.name),
            checked = if enabled.contains(&tool.name) { " checked" } else { "" },
            disabled = if calls_functions { "" } else { " disabled" },
            name = esc(&name),
            about = esc(&about),
        ));
    }
    if calls_functions {
        out.push_str(&format!(
            r#"<label class="tool-choice remember"><input type="checkbox" name="tools_default" value="1" data-testid="tools-default"><span>{}</span></label>"#,
            esc(tr!(lang, chat.tools.remember))
        ));
    } else {
        out.push_str(&format!(
            r#"<p class="tools-off" data-testid="tools-off">{}</p>"#,
            esc(&tr!(lang, chat.tools.model_cannot, model = model).to_string())
        ));
    }
    out.push_str("</fieldset></details>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str) -> ToolInfo {
        ToolInfo {
            name: name.into(),
            description: "Does <things>.".into(),
            parameters: json!({"type": "object"}),
            source: "mcp".into(),
            ask_first: false,
        }
    }

    #[test]
    fn the_menu_ticks_the_enabled_tools_and_says_why_they_are_off() {
        let offered = [tool("web_search"), tool("weather")];
        let html = tools_menu_html(&offered, &["weather".into()], "m", true, Lang::En);
        assert!(html.contains(r#"aria-label="Tools: 1 on""#), "{html}");
        assert!(html.contains(r#"name="tools[0]" value="web_search" data-testid"#));
        assert!(html.contains(r#"name="tools[1]" value="weather" checked data-testid"#));
        assert!(html.contains("Does &lt;things&gt;."));
        assert!(html.contains(r#"name="tools_default""#));
        let off = tools_menu_html(&offered, &["weather".into()], "demo-model", false, Lang::Fr);
        assert!(off.contains(" checked disabled"));
        assert!(off.contains("demo-model ne sait pas appeler d’outils"));
        assert!(!off.contains("tools_default"));
        assert_eq!(tools_menu_html(&[], &[], "m", true, Lang::En), "");
    }
}
