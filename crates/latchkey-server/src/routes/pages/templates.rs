//! The hosted pages' templates (minijinja). The built-ins are compiled in; with
//! `LATCHKEY_PAGE_TEMPLATES=DIR`, `DIR/<file>` replaces a built-in for every project and
//! `DIR/<project id>/<file>` for one project (over `DIR/<file>`), as for the mail templates.
//!
//! Unlike mail templates, overrides are read, compiled and rendered once with sample values at
//! start-up, and kept: a template that does not compile or render, a misspelt file name, or a
//! form that drops the CSRF or token field stops the server before it serves, never at a
//! person's click. Edits apply at the next start. HTML is auto-escaped (`.html` names).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use latchkey_core::domain::ProjectId;
use minijinja::{Environment, Value, context};

/// Every file a directory may override. `base.html` is the layout the others extend.
pub const FILES: [&str; 4] = ["base.html", "outcome.html", "reset_form.html", "verify_form.html"];
/// The templates rendered as pages (the others are only extended or included).
const PAGES: [&str; 3] = ["outcome.html", "reset_form.html", "verify_form.html"];
/// The pages holding a form, whose POST needs the `csrf` and `token` fields back.
const FORMS: [&str; 2] = ["reset_form.html", "verify_form.html"];

const BUILT_IN: [(&str, &str); 4] = [
    ("base.html", include_str!("../../../templates/pages/base.html")),
    ("outcome.html", include_str!("../../../templates/pages/outcome.html")),
    ("reset_form.html", include_str!("../../../templates/pages/reset_form.html")),
    ("verify_form.html", include_str!("../../../templates/pages/verify_form.html")),
];

/// A page template that cannot be used, with the file at fault.
#[derive(Debug, thiserror::Error)]
#[error("page template {}: {problem}", path.display())]
pub struct PageTemplateError {
    pub path: PathBuf,
    pub problem: String,
}

impl PageTemplateError {
    fn new(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Self { path: path.into(), problem: problem.into() }
    }
}

/// Compiled page templates: the shared set and one set per project with overrides. Built
/// once at start-up and shared (`Arc`).
pub struct PageTemplates {
    dir: Option<PathBuf>,
    shared: Scope,
    projects: HashMap<ProjectId, Scope>,
}

/// One set of templates and where each came from (for messages naming the file).
#[derive(Clone)]
struct Scope {
    env: Environment<'static>,
    origin: HashMap<&'static str, PathBuf>,
}

impl std::fmt::Debug for PageTemplates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageTemplates")
            .field("dir", &self.dir)
            .field("shared_overrides", &self.shared.origin.keys().collect::<Vec<_>>())
            .field("projects", &self.projects.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for PageTemplates {
    fn default() -> Self {
        Self::built_in()
    }
}

impl PageTemplates {
    /// The built-in templates only.
    pub fn built_in() -> Self {
        let mut env = Environment::new();
        for (name, source) in BUILT_IN {
            // Checked by the unit tests below; a broken built-in fails its page, not the server.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "built-in page template does not compile");
            }
        }
        Self { dir: None, shared: Scope { env, origin: HashMap::new() }, projects: HashMap::new() }
    }

    /// The built-ins with the overrides of `dir`, each compiled and rendered with sample values.
    pub fn load(dir: &Path) -> Result<Self, PageTemplateError> {
        let mut templates = Self::built_in();
        templates.dir = Some(dir.to_owned());
        let mut project_dirs = Vec::new();
        for (name, path) in entries(dir)? {
            if path.is_dir() {
                let project = name.parse::<ProjectId>().map_err(|_| {
                    PageTemplateError::new(
                        &path,
                        format!(
                            "a directory must be named by a project id (a UUID); the files here may be {}",
                            FILES.join(", ")
                        ),
                    )
                })?;
                project_dirs.push((project, path));
            } else {
                add_override(&mut templates.shared, &name, &path)?;
            }
        }
        for (project, project_dir) in project_dirs {
            let mut scope = templates.shared.clone();
            for (name, path) in entries(&project_dir)? {
                if path.is_dir() {
                    return Err(PageTemplateError::new(
                        &path,
                        "a project's directory holds template files only, no directories",
                    ));
                }
                add_override(&mut scope, &name, &path)?;
            }
            templates.projects.insert(project, scope);
        }
        templates.shared.check(dir)?;
        for (project, scope) in &templates.projects {
            scope.check(&dir.join(project.to_string()))?;
        }
        Ok(templates)
    }

    /// The projects that have a directory of their own (start-up warns about unknown ones).
    pub fn project_overrides(&self) -> impl Iterator<Item = ProjectId> + '_ {
        self.projects.keys().copied()
    }

    /// Renders `page` for `project` (its overrides, else the shared ones, else the built-in).
    pub fn render(&self, project: Option<ProjectId>, page: &str, ctx: Value) -> Result<String, minijinja::Error> {
        let scope = project.and_then(|p| self.projects.get(&p)).unwrap_or(&self.shared);
        scope.env.get_template(page)?.render(ctx)
    }
}

/// The directory's entries as (name, path), sorted, hidden ones (`.git`, editor files) left out.
fn entries(dir: &Path) -> Result<Vec<(String, PathBuf)>, PageTemplateError> {
    let read = std::fs::read_dir(dir).map_err(|e| PageTemplateError::new(dir, format!("cannot read: {e}")))?;
    let mut found = Vec::new();
    for entry in read {
        let path = entry.map_err(|e| PageTemplateError::new(dir, format!("cannot read: {e}")))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            return Err(PageTemplateError::new(&path, "the file name is not UTF-8"));
        };
        if !name.starts_with('.') {
            found.push((name, path));
        }
    }
    found.sort();
    Ok(found)
}

/// Compiles `path` into `scope` when `name` is a page template. Another `.html` name is a
/// mistake (a misspelt override would never be used) and refused; other files are ignored
/// with a warning (a README beside the templates is fine).
fn add_override(scope: &mut Scope, name: &str, path: &Path) -> Result<(), PageTemplateError> {
    let Some(known) = FILES.iter().copied().find(|f| *f == name) else {
        if name.to_ascii_lowercase().ends_with(".html") || name.to_ascii_lowercase().ends_with(".htm") {
            return Err(PageTemplateError::new(
                path,
                format!("not a page template name (the names are {})", FILES.join(", ")),
            ));
        }
        tracing::warn!(file = %path.display(), "not a page template; ignored");
        return Ok(());
    };
    let source =
        std::fs::read_to_string(path).map_err(|e| PageTemplateError::new(path, format!("cannot read: {e}")))?;
    scope.env.add_template_owned(known, source).map_err(|e| PageTemplateError::new(path, describe(&e)))?;
    scope.origin.insert(known, path.to_owned());
    Ok(())
}

/// A minijinja error with its cause chain and location.
fn describe(error: &minijinja::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Values standing in for a request's at the start-up check.
const CSRF_SAMPLE: &str = "csrf-sample-7c1e0b9d4a";
const TOKEN_SAMPLE: &str = "token-sample-3f8a2d6e5b";
const NONCE_SAMPLE: &str = "nonce-sample-9d2b7e4c1f";

impl Scope {
    /// Renders every page with sample values on its main branches (form with and without an
    /// error; outcome good and bad, with and without the app link), and checks that the forms
    /// carry the values their POST needs.
    fn check(&self, dir: &Path) -> Result<(), PageTemplateError> {
        let app_urls = [Value::from("https://app.example/"), Value::from(())];
        for page in PAGES {
            let mut contexts = Vec::new();
            for purpose in ["password-reset", "verify-email"] {
                for app_url in &app_urls {
                    if FORMS.contains(&page) {
                        for error in [Value::from(()), Value::from("That password is too short.")] {
                            contexts.push(sample_context(purpose, app_url.clone(), form_sample(error)));
                        }
                    } else {
                        for tone in ["ok", "bad"] {
                            contexts.push(sample_context(purpose, app_url.clone(), outcome_sample(tone)));
                        }
                    }
                }
            }
            for ctx in contexts {
                let html = self.env.get_template(page).and_then(|t| t.render(ctx)).map_err(|e| {
                    // The file the error is in, when it is an override; else the page rendered.
                    let at_fault = e.name().and_then(|n| self.path_of(n)).or_else(|| self.path_of(page));
                    PageTemplateError::new(at_fault.unwrap_or_else(|| dir.join(page)), describe(&e))
                })?;
                if FORMS.contains(&page) {
                    for (variable, sample) in [("csrf", CSRF_SAMPLE), ("token", TOKEN_SAMPLE)] {
                        if !html.contains(sample) {
                            return Err(PageTemplateError::new(
                                self.path_of(page).unwrap_or_else(|| dir.join(page)),
                                format!(
                                    "the form never shows {{{{ {variable} }}}}, so every submission would be \
                                     refused; keep <input type=\"hidden\" name=\"{variable}\" value=\"{{{{ {variable} }}}}\"> \
                                     in the form"
                                ),
                            ));
                        }
                    }
                }
                if html.contains("<style") && !html.contains(NONCE_SAMPLE) {
                    tracing::warn!(
                        template = page,
                        dir = %dir.display(),
                        "a <style> element without nonce=\"{{{{ nonce }}}}\": the page's Content-Security-Policy blocks it"
                    );
                }
            }
        }
        Ok(())
    }

    /// The override file `name` came from, if it is one.
    fn path_of(&self, name: &str) -> Option<PathBuf> {
        self.origin.get(name).cloned()
    }
}

fn sample_context(purpose: &str, app_url: Value, extra: Value) -> Value {
    context! {
        project_name => "Sample project", nonce => NONCE_SAMPLE, purpose, app_url,
        min_password_chars => latchkey_core::domain::Password::MIN_CHARS, ..extra
    }
}

fn form_sample(error: Value) -> Value {
    context! {
        title => "Choose a new password", token => TOKEN_SAMPLE, csrf => CSRF_SAMPLE,
        expires_at => "2026-01-01 13:00 UTC", error, tone => "form", outcome => "form"
    }
}

fn outcome_sample(tone: &str) -> Value {
    let (outcome, heading) = if tone == "ok" { ("done", "Password changed") } else { ("expired", "Link expired") };
    context! { title => heading, heading, message => "Sample message.", tone, outcome }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn built_ins_pass_the_start_up_check() {
        let dir = tempfile::tempdir().unwrap();
        let templates = PageTemplates::load(dir.path()).expect("an empty directory is the built-ins");
        PageTemplates::built_in().shared.check(Path::new("built-in")).unwrap();
        assert_eq!(templates.project_overrides().count(), 0);
    }

    #[test]
    fn project_files_win_over_shared_ones_which_win_over_built_ins() {
        let dir = tempfile::tempdir().unwrap();
        let (project, other) = (ProjectId::generate(), ProjectId::generate());
        write(&dir.path().join("outcome.html"), "shared {{ heading }}");
        write(&dir.path().join(project.to_string()).join("outcome.html"), "own {{ heading }}");
        write(&dir.path().join("README.md"), "notes for operators");
        let templates = PageTemplates::load(dir.path()).unwrap();
        let ctx = || outcome_sample("ok");
        assert_eq!(templates.render(Some(project), "outcome.html", ctx()).unwrap(), "own Password changed");
        assert_eq!(templates.render(Some(other), "outcome.html", ctx()).unwrap(), "shared Password changed");
        assert_eq!(templates.render(None, "outcome.html", ctx()).unwrap(), "shared Password changed");
        let form = templates.render(Some(project), "reset_form.html", form_sample(Value::from(()))).unwrap();
        assert!(form.contains("Choose a new password"), "built-in form: {form}");
    }

    #[test]
    fn overrides_are_escaped() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("outcome.html"), "<a href=\"{{ app_url }}\">{{ project_name }}</a>");
        let templates = PageTemplates::load(dir.path()).unwrap();
        let ctx = context! { app_url => "https://x.example/?a=1&b=\"2\"", project_name => "<b>Acme</b>" };
        assert_eq!(
            templates.render(None, "outcome.html", ctx).unwrap(),
            "<a href=\"https:&#x2f;&#x2f;x.example&#x2f;?a=1&amp;b=&quot;2&quot;\">&lt;b&gt;Acme&lt;&#x2f;b&gt;</a>"
        );
    }

    fn refused(dir: &Path) -> PageTemplateError {
        PageTemplates::load(dir).expect_err("refused at start-up")
    }

    #[test]
    fn mistakes_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("outcome.html"), "{% if heading %}unclosed");
        let e = refused(dir.path());
        assert_eq!(e.path, dir.path().join("outcome.html"), "{e}");

        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("reset-form.html"), "misspelt");
        assert_eq!(refused(dir.path()).path, dir.path().join("reset-form.html"));

        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("acme")).unwrap();
        assert_eq!(refused(dir.path()).path, dir.path().join("acme"));

        // Compiles, but fails when rendered: an unknown filter, a missing parent.
        let dir = tempfile::tempdir().unwrap();
        let project = ProjectId::generate();
        let own = dir.path().join(project.to_string()).join("outcome.html");
        write(&own, "{{ heading | no_such_filter }}");
        let e = refused(dir.path());
        assert_eq!(e.path, own, "{e}");
        write(&own, "{% extends \"layout.html\" %}");
        assert_eq!(refused(dir.path()).path, own);

        // A form without the CSRF field could never be submitted.
        let dir = tempfile::tempdir().unwrap();
        let form = dir.path().join("verify_form.html");
        write(&form, "<form method=\"post\"><input name=\"token\" value=\"{{ token }}\"><button>Go</button></form>");
        let e = refused(dir.path());
        assert!(e.path == form && e.problem.contains("csrf"), "{e}");
    }

    #[test]
    fn a_broken_shared_layout_names_the_layout() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("base.html"), "{% block content %}{% endblock %}{{ nonce | no_such_filter }}");
        let e = refused(dir.path());
        assert_eq!(e.path, dir.path().join("base.html"), "{e}");
    }
}
