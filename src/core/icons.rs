//! The one icon set: small line icons drawn on a 24×24 grid, written inline as SVG so they need no request, follow
//! the text colour (`currentColor`) and scale with the font. An icon is decoration (`aria-hidden`): the control that
//! shows it carries the accessible name (an `aria-label`, repeated as its `data-tip` tooltip in `style/main.css`).

use leptos::prelude::*;

/// The icons of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    /// A new conversation.
    NewChat,
    /// The sidebar (drawer toggle).
    Sidebar,
    /// Search.
    Search,
    /// Pin to the top.
    Pin,
    /// Archive.
    Archive,
    /// Download (export).
    Download,
    /// Rename, edit.
    Pencil,
    /// Delete.
    Trash,
    /// Settings.
    Settings,
    /// Copy to the clipboard.
    Copy,
    /// Done (copied).
    Check,
    /// Regenerate, retry.
    Refresh,
    /// Previous.
    ChevronLeft,
    /// Next.
    ChevronRight,
    /// Send.
    Send,
    /// Stop generating.
    Stop,
    /// Close.
    Close,
    /// More actions.
    More,
    /// Keyboard shortcuts.
    Keyboard,
    /// Jump to the latest message.
    ArrowDown,
    /// Log out.
    LogOut,
    /// The light theme.
    Sun,
    /// The dark theme.
    Moon,
    /// Follow the system's theme.
    Monitor,
    /// Staff area.
    Shield,
    /// Restore from the archive.
    Restore,
    /// Attach files.
    Paperclip,
    /// A file.
    File,
    /// Tools the model may call.
    Tools,
    /// Share a link.
    Share,
    /// Branch into a new chat.
    Branch,
}

/// The icons' SVG path data (strokes, 2 px wide, round caps and joins), each also as a whole `<svg>` element, written
/// once at compile time: controls drawn for every message take it as their inner HTML instead of building the element.
macro_rules! icons {
    ($($name:ident => $path:expr,)*) => {
        impl Icon {
            /// The SVG path data.
            fn path(self) -> &'static str {
                match self {
                    $(Self::$name => $path,)*
                }
            }

            /// The icon as an `<svg>` element, as [`Svg`] renders it.
            pub fn markup(self) -> &'static str {
                match self {
                    $(Self::$name => concat!(
                        r#"<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false" class="icon"><path d=""#,
                        $path,
                        r#""></path></svg>"#
                    ),)*
                }
            }
        }
    };
}

icons! {
    NewChat => "M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4Z",
    Sidebar => "M3 5h18v14H3zM9 5v14",
    Search => "M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14M21 21l-5-5",
    Pin => "M12 17v5M9 3h6l-1 6 3 4H7l3-4Z",
    Archive => "M3 4h18v4H3zM5 8v12h14V8M10 12h4",
    Download => "M12 3v12M7 10l5 5 5-5M5 21h14",
    Share => "M18 3a3 3 0 1 0 0 6a3 3 0 1 0 0-6M6 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6M18 15a3 3 0 1 0 0 6a3 3 0 1 0 0-6M8.6 13.5l6.8 4M15.4 6.5l-6.8 4",
    Branch => "M6 3v12M18 9a3 3 0 1 0 0-6a3 3 0 1 0 0 6M6 21a3 3 0 1 0 0-6a3 3 0 1 0 0 6M18 9a9 9 0 0 1-9 9",
    Tools => "M14.7 6.3a4 4 0 0 0-5.4 5.4L3 18l3 3 6.3-6.3a4 4 0 0 0 5.4-5.4l-2.6 2.6-2.4-2.4Z",
    Pencil => "M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4Z",
    Trash => "M3 6h18M8 6V4h8v2M6 6l1 14h10l1-14M10 11v5M14 11v5",
    Settings => "M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6M19 12l2-1-1-3-2 .3-1.5-1.5.3-2-3-1-1 2h-2l-1-2-3 1 .3 2L6.5 7.3 \
                 4.5 7l-1 3 2 1v2l-2 1 1 3 2-.3 1.5 1.5-.3 2 3 1 1-2h2l1 2 3-1-.3-2 1.5-1.5 2 .3 1-3-2-1Z",
    Copy => "M9 9h11v11H9zM5 15H4V4h11v1",
    Check => "M4 12l5 5L20 6",
    Refresh => "M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7",
    ChevronLeft => "M15 18l-6-6 6-6",
    ChevronRight => "M9 18l6-6-6-6",
    Send => "M12 19V5M5 12l7-7 7 7",
    Stop => "M7 7h10v10H7z",
    Close => "M6 6l12 12M18 6L6 18",
    More => "M5 12h.01M12 12h.01M19 12h.01",
    Keyboard => "M3 6h18v12H3zM7 10h.01M11 10h.01M15 10h.01M7 14h10",
    ArrowDown => "M12 5v14M5 12l7 7 7-7",
    LogOut => "M15 4h4v16h-4M10 17l5-5-5-5M15 12H3",
    Sun => "M12 8a4 4 0 1 0 0 8a4 4 0 1 0 0-8M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2\
                 M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4",
    Moon => "M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5Z",
    Monitor => "M3 4h18v12H3zM8 20h8M12 16v4",
    Shield => "M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6Z",
    Restore => "M3 12a9 9 0 1 0 3-6.7M3 4v5h5",
    Paperclip => "M20 11.5l-8.2 8.2a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4L15 7",
    File => "M14 3H6v18h12V7zM14 3v4h4",
}

/// An icon, hidden from assistive technology (its control is named instead).
#[component]
pub fn Svg(icon: Icon) -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
            <path d=icon.path()/>
        </svg>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    /// The icons written as static markup look exactly like the component's.
    #[test]
    fn markup_is_what_the_component_renders() {
        let owner = Owner::new();
        owner.set();
        for icon in [Icon::Copy, Icon::Check, Icon::Pencil, Icon::Settings, Icon::Sun] {
            // The component's HTML carries a hydration marker the static copy does not need.
            assert_eq!(view! { <Svg icon/> }.to_html().replace("<!>", ""), icon.markup());
        }
    }
}
