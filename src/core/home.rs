//! The public home page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::core::i18n::Lang;

/// `/`: what ThiCode is and why one would run it.
#[component]
pub fn HomePage() -> impl IntoView {
    let deleted = move || use_query_map().with(|q| q.get("account_deleted").is_some());
    let t = Lang::current();
    view! {
        <Title text=t.t("Your own AI chat", "Votre propre chat IA")/>
        <Show when=deleted>
            <p class="notice" role="status">{t.t("Your account and all its data were deleted.", "Votre compte et toutes ses données ont été supprimés.")}</p>
        </Show>
        <section class="hero">
            <h1>{t.t("Chat with AI on a server you own", "Discutez avec une IA sur votre propre serveur")}</h1>
            <p class="lead">
                {t.t(
                    "ThiCode is a fast, self-hostable AI chat assistant. It talks to Mistral models from the server, \
                     keeps your conversations in your own database and runs with one command.",
                    "ThiCode est un assistant de chat IA rapide, à héberger soi-même. Il parle aux modèles Mistral depuis \
                     le serveur, garde vos conversations dans votre propre base de données et se lance en une commande.",
                )}
            </p>
        </section>
        <section class="features" aria-label=t.t("Why ThiCode", "Pourquoi ThiCode")>
            <article class="feature">
                <h2>{t.t("Your data stays yours", "Vos données restent à vous")}</h2>
                <p>
                    {t.t(
                        "Conversations live in SQLite or PostgreSQL on your machine. The API key never reaches the browser.",
                        "Les conversations vivent dans SQLite ou PostgreSQL sur votre machine. La clé d’API n’atteint jamais le navigateur.",
                    )}
                </p>
            </article>
            <article class="feature">
                <h2>{t.t("Fast on first load", "Rapide dès le premier affichage")}</h2>
                <p>
                    {t.t(
                        "Every page is rendered on the server and works without JavaScript, then becomes a snappy app.",
                        "Chaque page est rendue par le serveur et marche sans JavaScript, puis devient une application vive.",
                    )}
                </p>
            </article>
            <article class="feature">
                <h2>{t.t("Simple to run", "Simple à lancer")}</h2>
                <p>
                    {t.t(
                        "One binary, one settings file, zero configuration to start: set a Mistral key when you are ready.",
                        "Un binaire, un fichier de réglages, aucune configuration pour démarrer : ajoutez une clé Mistral quand vous êtes prêt.",
                    )}
                </p>
            </article>
        </section>
    }
}
