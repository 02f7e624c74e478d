//! Message templates (minijinja): a subject, a plain-text part and an HTML part per message
//! kind. Built-in defaults are compiled in; an operator may override any of them per project
//! from `<templates dir>/<project id>/<file>` or for all projects from `<templates dir>/<file>`.
//! The built-ins are compiled once, at start-up, into one shared environment; override files
//! are read at each render, so edits apply without a restart. HTML is auto-escaped.

use std::path::{Path, PathBuf};

use latchkey_core::domain::{LinkPurpose, ProjectId};
use minijinja::{Environment, Value};

const BUILT_IN: &[(&str, &str)] = &[
    ("password_reset.subject.txt", include_str!("../../templates/mail/password_reset.subject.txt")),
    ("password_reset.txt", include_str!("../../templates/mail/password_reset.txt")),
    ("password_reset.html", include_str!("../../templates/mail/password_reset.html")),
    ("verify_email.subject.txt", include_str!("../../templates/mail/verify_email.subject.txt")),
    ("verify_email.txt", include_str!("../../templates/mail/verify_email.txt")),
    ("verify_email.html", include_str!("../../templates/mail/verify_email.html")),
];

#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Build once and share (`Arc`): the built-in templates are compiled here, not per message.
#[derive(Debug)]
pub struct Templates {
    dir: Option<PathBuf>,
    built_in: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Templates {
    pub fn new(dir: Option<PathBuf>) -> Self {
        let mut built_in = Environment::new();
        for (name, source) in BUILT_IN {
            // A built-in that does not compile fails each render that needs it (and the unit
            // tests below); the server still starts and can serve everything else.
            if let Err(e) = built_in.add_template(name, source) {
                tracing::error!(template = name, error = %e, "built-in mail template does not compile");
            }
        }
        Self { dir, built_in }
    }

    /// `context` carries `project_name`, `email`, `link`, `expires_at`, `expires_in`.
    pub fn render(&self, project: ProjectId, purpose: LinkPurpose, context: Value) -> Result<Rendered, String> {
        let stem = match purpose {
            LinkPurpose::PasswordReset => "password_reset",
            LinkPurpose::VerifyEmail => "verify_email",
        };
        let render = |suffix: &str| -> Result<String, String> {
            let name = format!("{stem}.{suffix}");
            let rendered = match self.override_source(project, &name)? {
                // Compiled with the shared environment's settings (auto-escape by extension).
                Some(source) => self.built_in.render_named_str(&name, &source, context.clone()),
                None => self.built_in.get_template(&name).and_then(|t| t.render(context.clone())),
            };
            rendered.map_err(|e| format!("template {name}: {e}"))
        };
        let subject = render("subject.txt")?;
        let text = render("txt")?;
        let html = render("html")?;
        // A header must be one line.
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok(Rendered { subject, text, html })
    }

    /// The operator's file for this project, else for all projects, if any.
    fn override_source(&self, project: ProjectId, name: &str) -> Result<Option<String>, String> {
        let Some(dir) = &self.dir else { return Ok(None) };
        for candidate in [dir.join(project.to_string()).join(name), dir.join(name)] {
            if let Some(text) = read_if_exists(&candidate)? {
                return Ok(Some(text));
            }
        }
        Ok(None)
    }
}

fn read_if_exists(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read template {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    fn ctx() -> Value {
        context! { project_name => "Acme <Shop>", email => "a@example.com", link => "https://x/?token=abc",
        expires_at => "2026-01-01 13:00 UTC", expires_in => "1 hour" }
    }

    #[test]
    fn defaults_render_both_parts_and_escape_html() {
        let r = Templates::default().render(ProjectId::generate(), LinkPurpose::PasswordReset, ctx()).unwrap();
        assert_eq!(r.subject, "Reset your Acme <Shop> password");
        assert!(r.text.contains("https://x/?token=abc") && r.text.contains("1 hour") && r.text.contains("Acme <Shop>"));
        assert!(r.html.contains("Acme &lt;Shop&gt;"));
    }

    #[test]
    fn project_overrides_win() {
        let dir = tempfile::tempdir().unwrap();
        let project = ProjectId::generate();
        std::fs::create_dir_all(dir.path().join(project.to_string())).unwrap();
        std::fs::write(dir.path().join(project.to_string()).join("verify_email.txt"), "Custom {{ link }}").unwrap();
        let templates = Templates::new(Some(dir.path().to_owned()));
        let r = templates.render(project, LinkPurpose::VerifyEmail, ctx()).unwrap();
        assert_eq!(r.text, "Custom https://x/?token=abc");
        let other = templates.render(ProjectId::generate(), LinkPurpose::VerifyEmail, ctx()).unwrap();
        assert!(other.text.starts_with("Hello"));
    }

    #[test]
    fn override_files_are_escaped_and_reread_without_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let templates = Templates::new(Some(dir.path().to_owned()));
        let project = ProjectId::generate();
        std::fs::write(dir.path().join("password_reset.html"), "<p>{{ project_name }}</p>").unwrap();
        let r = templates.render(project, LinkPurpose::PasswordReset, ctx()).unwrap();
        assert_eq!(r.html, "<p>Acme &lt;Shop&gt;</p>");
        std::fs::write(dir.path().join("password_reset.html"), "<b>{{ email }}</b>").unwrap();
        let r = templates.render(project, LinkPurpose::PasswordReset, ctx()).unwrap();
        assert_eq!(r.html, "<b>a@example.com</b>");
    }
}
