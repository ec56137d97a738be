//! `createsuperuser` and `changepassword`, as in Django's manage.py. Interactive on a terminal (passwords hidden);
//! with piped input, lines are read from standard input; `--noinput` takes everything from flags and environment.

use std::io::{BufRead, IsTerminal, Write};

use sqlx::AnyPool;

use crate::accounts::fields;
use crate::accounts::password::{self, Hashing, UserAttributes};
use crate::accounts::users::{self, CreateUserError, NewUser};

/// Options of `createsuperuser`.
#[derive(Debug, Clone, Default)]
pub struct SuperuserOptions {
    /// Username, if given on the command line or in `THICODE_SUPERUSER_USERNAME`.
    pub username: Option<String>,
    /// Email, if given on the command line or in `THICODE_SUPERUSER_EMAIL`.
    pub email: Option<String>,
    /// Password from `THICODE_SUPERUSER_PASSWORD` (only read with `--noinput`).
    pub password: Option<String>,
    /// Never prompt.
    pub noinput: bool,
}

/// Reads answers from the terminal (hiding passwords) or from piped standard input.
struct Console {
    lines: std::io::Lines<std::io::StdinLock<'static>>,
    terminal: bool,
}

impl Console {
    fn new() -> Self {
        Self {
            lines: std::io::stdin().lock().lines(),
            terminal: std::io::stdin().is_terminal(),
        }
    }

    #[allow(clippy::print_stdout)] // prompts are the command's dialogue
    fn ask(&mut self, prompt: &str) -> Result<String, String> {
        print!("{prompt}");
        let _ = std::io::stdout().flush();
        match self.lines.next() {
            Some(Ok(line)) => Ok(line.trim_end_matches(['\r', '\n']).to_string()),
            _ => Err("no more input; aborting".into()),
        }
    }

    fn ask_secret(&mut self, prompt: &str) -> Result<String, String> {
        if self.terminal {
            rpassword::prompt_password(prompt).map_err(|e| format!("cannot read the password: {e}"))
        } else {
            self.ask(prompt)
        }
    }
}

#[allow(clippy::print_stdout)]
fn say(message: &str) {
    println!("{message}");
}

/// Creates a staff superuser; returns its username.
pub async fn create_superuser(pool: &AnyPool, options: SuperuserOptions) -> Result<String, String> {
    let mut console = Console::new();
    let username = match options.username {
        Some(name) => {
            fields::check_username(&name).map_err(|e| format!("username: {e}"))?;
            name
        }
        None if options.noinput => {
            return Err("--username (or THICODE_SUPERUSER_USERNAME) is required with --noinput".into());
        }
        None => loop {
            let name = console.ask("Username: ")?;
            match fields::check_username(&name) {
                Ok(()) if users::taken(pool, &name, "").await.map_err(db)?.0 => {
                    say("Error: That username is already taken.")
                }
                Ok(()) => break name,
                Err(e) => say(&format!("Error: {e}")),
            }
        },
    };
    let email = match options.email {
        Some(email) => {
            fields::check_email(&email).map_err(|e| format!("email: {e}"))?;
            email
        }
        None if options.noinput => return Err("--email (or THICODE_SUPERUSER_EMAIL) is required with --noinput".into()),
        None => loop {
            let email = console.ask("Email address: ")?;
            match fields::check_email(&email) {
                Ok(()) => break email,
                Err(e) => say(&format!("Error: {e}")),
            }
        },
    };
    let attributes = UserAttributes {
        username: &username,
        email: &email,
        ..UserAttributes::default()
    };
    let password = if options.noinput {
        let password = options
            .password
            .ok_or("THICODE_SUPERUSER_PASSWORD is required with --noinput")?;
        let problems = password::validate(&password, attributes);
        if !problems.is_empty() {
            let problems: Vec<&str> = problems.iter().map(|p| p.english()).collect();
            return Err(format!("password: {}", problems.join(" ")));
        }
        password
    } else {
        ask_new_password(&mut console, attributes, usize::MAX)?
    };
    let hash = Hashing::default().hash(password).await.map_err(|e| e.to_string())?;
    let new = NewUser {
        username: username.clone(),
        email,
        password_hash: hash,
        is_staff: true,
        is_superuser: true,
    };
    users::create(pool, &new).await.map_err(|e| match e {
        CreateUserError::Database(e) => db(e),
        taken => taken.to_string(),
    })?;
    Ok(username)
}

/// Sets a new password for `login` (username or email); three attempts, as Django.
pub async fn change_password(pool: &AnyPool, login: &str) -> Result<String, String> {
    let user = users::by_login(pool, login)
        .await
        .map_err(db)?
        .ok_or_else(|| format!("user '{login}' does not exist"))?;
    say(&format!("Changing password for user '{}'", user.username));
    let mut console = Console::new();
    let attributes = UserAttributes::from(&user);
    let password = ask_new_password(&mut console, attributes, 3)
        .map_err(|e| format!("{e}; aborting password change for user '{}'", user.username))?;
    let hash = Hashing::default().hash(password).await.map_err(|e| e.to_string())?;
    crate::accounts::jwt::set_password(pool, user.id, &hash)
        .await
        .map_err(db)?;
    Ok(user.username)
}

fn ask_new_password(console: &mut Console, user: UserAttributes<'_>, attempts: usize) -> Result<String, String> {
    for _ in 0..attempts {
        let first = console.ask_secret("Password: ")?;
        let second = console.ask_secret("Password (again): ")?;
        if first != second {
            say("Error: Your passwords didn't match.");
            continue;
        }
        let problems = password::validate(&first, user);
        if problems.is_empty() {
            return Ok(first);
        }
        for problem in problems {
            say(&format!("Error: {problem}"));
        }
    }
    Err(format!("no valid password after {attempts} attempts"))
}

fn db(e: sqlx::Error) -> String {
    format!("database error: {e}")
}
