//! French for the messages of the shared services. An entry is the English text as the service writes it, with `{}`
//! where the service puts a value, and its French; values are carried over in order, unchanged (they are what the
//! user typed) except the field name in "too similar to the {}". Wording follows Django's and DRF's French
//! translations where they have the message.

const ENTRIES: &[(&str, &str)] = &[
    // Fields (accounts::fields, api_tokens).
    ("This field may not be blank.", "Ce champ ne peut être vide."),
    // Server-function arguments that could not be decoded (core::arguments).
    ("This field is required.", "Ce champ est obligatoire."),
    (
        "A field has the wrong type or cannot be read.",
        "Un champ n’a pas le bon type ou ne peut pas être lu.",
    ),
    (
        "Ensure this field has no more than {} characters (it has {}).",
        "Assurez-vous que ce champ ne comporte pas plus de {} caractères (actuellement {}).",
    ),
    (
        "Ensure this field has no more than {} characters.",
        "Assurez-vous que ce champ ne comporte pas plus de {} caractères.",
    ),
    (
        "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
        "Saisissez un nom d’utilisateur valide. Il ne peut contenir que des lettres, des chiffres et les caractères \
         @/./+/-/_.",
    ),
    ("Enter a valid email address.", "Saisissez une adresse e-mail valide."),
    (
        "A user with that username already exists.",
        "Un utilisateur avec ce nom existe déjà.",
    ),
    (
        "A user with that email already exists.",
        "Un utilisateur avec cette adresse e-mail existe déjà.",
    ),
    (
        "Select a valid choice. {} is not one of the available choices.",
        "Sélectionnez un choix valide. {} n’en fait pas partie.",
    ),
    (
        "Ensure the preferences take at most {} bytes (they take {}).",
        "Les préférences doivent occuper au plus {} octets (elles en occupent {}).",
    ),
    // Passwords (accounts::password, service).
    (
        "Ensure this value has at most {} characters (it has {}).",
        "Assurez-vous que cette valeur comporte au plus {} caractères (actuellement {}).",
    ),
    (
        "The password is too similar to the {}.",
        "Le mot de passe est trop semblable au champ « {} ».",
    ),
    (
        "This password is too short. It must contain at least {} characters.",
        "Ce mot de passe est trop court. Il doit contenir au minimum {} caractères.",
    ),
    ("This password is too common.", "Ce mot de passe est trop courant."),
    (
        "This password is entirely numeric.",
        "Ce mot de passe est entièrement numérique.",
    ),
    (
        "The two password fields didn't match.",
        "Les deux mots de passe ne correspondent pas.",
    ),
    (
        "Your old password was entered incorrectly. Please enter it again.",
        "Votre ancien mot de passe est incorrect. Veuillez le rectifier.",
    ),
    (
        "Your password was entered incorrectly.",
        "Votre mot de passe est incorrect.",
    ),
    (
        "Please enter a correct username or email and password.",
        "Saisissez un nom d’utilisateur (ou une adresse e-mail) et un mot de passe valides.",
    ),
    (
        "The password reset link was invalid, possibly because it has already been used or has expired. Please \
         request a new one.",
        "Le lien de réinitialisation du mot de passe n’était pas valide, peut-être parce qu’il a déjà été utilisé ou \
         qu’il a expiré. Veuillez en demander un nouveau.",
    ),
    // API tokens (accounts::api_tokens, server_fns).
    (
        "Choose a lifetime from the list.",
        "Choisissez une durée dans la liste.",
    ),
    (
        "Ensure this value is between 1 and {} days.",
        "Choisissez une durée entre 1 et {} jours.",
    ),
    (
        "You already have {} tokens; revoke one first.",
        "Vous avez déjà {} jetons ; révoquez-en un d’abord.",
    ),
    // Chat (chat::service).
    ("Search for at most 200 characters.", "Cherchez au plus 200 caractères."),
    ("Write a message first.", "Écrivez d’abord un message."),
    (
        "A message can have at most {} characters (this one has {}).",
        "Un message peut comporter au plus {} caractères (celui-ci en a {}).",
    ),
    (
        "“{}” is not a valid choice: use text, markdown or code.",
        "« {} » n’est pas un choix valide : utilisez text, markdown ou code.",
    ),
    ("Unknown model “{}”.", "Modèle inconnu « {} »."),
    (
        "No such message in this conversation.",
        "Ce message n’existe pas dans cette conversation.",
    ),
    (
        "Only your own messages can be edited.",
        "Seuls vos propres messages peuvent être modifiés.",
    ),
    ("The title may not be blank.", "Le titre ne peut être vide."),
    (
        "A title can have at most {} characters.",
        "Un titre peut comporter au plus {} caractères.",
    ),
    (
        "A tag can have at most {} characters.",
        "Une étiquette peut comporter au plus {} caractères.",
    ),
    (
        "A conversation can have at most {} tags.",
        "Une conversation peut avoir au plus {} étiquettes.",
    ),
    (
        "A system prompt can have at most {} characters.",
        "Une consigne système peut comporter au plus {} caractères.",
    ),
    // The AI provider (chat::provider), shown with a failed reply.
    (
        "The AI provider rejected the API key. Check MISTRAL_API_KEY.",
        "Le fournisseur d’IA a refusé la clé d’API. Vérifiez MISTRAL_API_KEY.",
    ),
    (
        "This API key is not allowed to use the model “{}”.",
        "Cette clé d’API n’a pas le droit d’utiliser le modèle « {} ».",
    ),
    (
        "The model “{}” is unknown or retired. Choose another model.",
        "Le modèle « {} » est inconnu ou retiré. Choisissez-en un autre.",
    ),
    (
        "The AI provider is rate limiting requests — retry in {} s.",
        "Le fournisseur d’IA limite les requêtes — réessayez dans {} s.",
    ),
    (
        "The AI provider is rate limiting requests — retry in a moment.",
        "Le fournisseur d’IA limite les requêtes — réessayez dans un instant.",
    ),
    (
        "The AI provider refused the request: {}",
        "Le fournisseur d’IA a refusé la requête : {}",
    ),
    (
        "The AI provider is unavailable ({}). Try again in a moment.",
        "Le fournisseur d’IA est indisponible ({}). Réessayez dans un instant.",
    ),
    (
        "The AI provider stopped answering (no data for {} s).",
        "Le fournisseur d’IA ne répond plus (aucune donnée depuis {} s).",
    ),
    (
        "The reply was cut off: the connection to the AI provider broke.",
        "La réponse a été interrompue : la connexion au fournisseur d’IA a été coupée.",
    ),
    (
        "The AI provider sent data ThiCode could not read.",
        "Le fournisseur d’IA a envoyé des données que ThiCode n’a pas pu lire.",
    ),
];

/// Names of the fields a password may be too similar to: the one message whose value is ours, not the user's.
const FIELD_NAMES: &[(&str, &str)] = &[
    ("username", "nom d’utilisateur"),
    ("first name", "prénom"),
    ("last name", "nom"),
    ("email address", "adresse e-mail"),
];

/// The French of `message`, if the catalog has it. Values are carried over as they are (they are what the user
/// typed), except the field name of the password-similarity message.
pub fn translate(message: &str) -> Option<String> {
    ENTRIES.iter().find_map(|(english, french)| {
        let values = match_template(english, message)?;
        let names_a_field = english.starts_with("The password is too similar to the");
        let mut out = String::with_capacity(french.len() + message.len());
        let mut pieces = french.split("{}");
        out.push_str(pieces.next().unwrap_or_default());
        for (piece, value) in pieces.zip(values) {
            let field = FIELD_NAMES.iter().find(|(name, _)| names_a_field && *name == value);
            out.push_str(field.map_or(value, |(_, french)| french));
            out.push_str(piece);
        }
        Some(out)
    })
}

/// The values of `message` if it is `template` with each `{}` filled in.
fn match_template<'m>(template: &str, message: &'m str) -> Option<Vec<&'m str>> {
    let mut pieces = template.split("{}");
    let mut rest = message.strip_prefix(pieces.next()?)?;
    let pieces: Vec<&str> = pieces.collect();
    let mut values = Vec::with_capacity(pieces.len());
    for (i, piece) in pieces.iter().enumerate() {
        let end = if i + 1 == pieces.len() {
            rest.strip_suffix(piece).map(str::len)?
        } else {
            rest.find(piece)?
        };
        values.push(&rest[..end]);
        rest = &rest[end + piece.len()..];
    }
    rest.is_empty().then_some(values)
}

#[cfg(test)]
mod tests {
    use super::{ENTRIES, translate};

    #[test]
    fn fills_values_in_order_and_translates_known_ones() {
        assert_eq!(
            translate("Ensure this field has no more than 150 characters (it has 151).").as_deref(),
            Some("Assurez-vous que ce champ ne comporte pas plus de 150 caractères (actuellement 151).")
        );
        assert_eq!(
            translate("The password is too similar to the email address.").as_deref(),
            Some("Le mot de passe est trop semblable au champ « adresse e-mail ».")
        );
        assert_eq!(
            translate("The AI provider refused the request: too long").as_deref(),
            Some("Le fournisseur d’IA a refusé la requête : too long")
        );
        assert_eq!(translate("Something nobody wrote."), None);
        // What the user typed is never translated.
        assert_eq!(
            translate("Unknown model “username”.").as_deref(),
            Some("Modèle inconnu « username ».")
        );
        // A template does not match a longer or shorter text.
        assert_eq!(translate("This field may not be blank. Really."), None);
    }

    #[test]
    fn every_entry_has_as_many_values_in_both_languages() {
        for (english, french) in ENTRIES {
            assert_eq!(english.matches("{}").count(), french.matches("{}").count(), "{english}");
            assert_ne!(english, french);
        }
    }
}
