//! Project and API key subcommands: thin wrappers over [`latchkey_core::auth::ProjectAdmin`]
//! that print results.

use anyhow::Context;
use latchkey_core::auth::Admin;
use latchkey_core::domain::{Actor, ApiKeyRecord, Project, ProjectId, ProjectSettings};
use serde::Serialize;

use super::wire::{ApiKeyInfo, NewApiKey, ProjectMail, ProjectWithMail};
use super::{ApiKeyCommand, Lifetimes, ProjectCommand};
use crate::config::StorageConfig;
use crate::routes::admin::project::admin_project;

/// The operator services, refused unless the master key opens every project's signing keys.
pub(super) async fn checked_admin(storage: &StorageConfig) -> anyhow::Result<Admin> {
    let admin = super::open_admin(storage).await?;
    admin.projects.verify_master_key().await?;
    Ok(admin)
}

pub(super) fn project_id(text: &str) -> anyhow::Result<ProjectId> {
    text.trim().parse().with_context(|| format!("{text:?} is not a project id (a UUID)"))
}

fn apply(mut settings: ProjectSettings, lifetimes: &Lifetimes) -> ProjectSettings {
    if let Some(secs) = lifetimes.access_token_ttl {
        settings.access_token_ttl_secs = secs;
    }
    if let Some(secs) = lifetimes.refresh_token_ttl {
        settings.refresh_token_ttl_secs = secs;
    }
    settings
}

pub async fn project(storage: &StorageConfig, command: ProjectCommand) -> anyhow::Result<()> {
    let Admin { projects: admin, mail: mail_admin, .. } = checked_admin(storage).await?;
    match command {
        ProjectCommand::Create { name, lifetimes, json } => {
            let project = admin.create_project(&name, apply(ProjectSettings::default(), &lifetimes)).await?;
            print_project(&project, json)?;
        }
        ProjectCommand::List { json } => {
            let projects = admin.projects().await?;
            if json {
                print_json(&projects.iter().map(admin_project).collect::<Vec<_>>())?;
            } else {
                for p in &projects {
                    println!("{}  {}", p.id, p.name);
                }
            }
        }
        ProjectCommand::Show { project, json } => {
            print_project(&admin.project(project_id(project.text())?).await?, json)?
        }
        ProjectCommand::Set { project, name, lifetimes, app_url, mail, json } => {
            let id = project_id(project.text())?;
            if let Some(name) = name {
                admin.rename(id, &name, Actor::Cli).await?;
            }
            let current = admin.project(id).await?;
            let mut settings = apply(current.settings, &lifetimes);
            if let Some(app_url) = super::mail::optional(app_url) {
                settings.app_url = app_url;
            }
            let updated = admin.update_settings(id, settings).await?;
            let mail = super::mail::apply_mail(&mail_admin, id, mail).await?;
            if json {
                // One document, so scripts can parse the output.
                print_json(&ProjectWithMail { project: admin_project(&updated), mail: ProjectMail::from(&mail) })?;
            } else {
                print_project(&updated, false)?;
                super::mail::print_mail(&mail);
            }
        }
        ProjectCommand::Delete { project, confirm } => {
            let id = project_id(project.text())?;
            if project_id(&confirm).ok() != Some(id) {
                anyhow::bail!("refusing to delete project {id}: --confirm must repeat its id");
            }
            admin.delete_project(id).await?;
            println!("deleted project {id} and everything in it");
        }
    }
    Ok(())
}

/// `value` as pretty JSON on standard output.
pub(super) fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn print_project(project: &Project, json: bool) -> anyhow::Result<()> {
    if json {
        print_json(&admin_project(project))?;
    } else {
        println!("project {}", project.id);
        println!("  name                 {}", project.name);
        println!("  access-token ttl     {}s", project.settings.access_token_ttl_secs);
        println!("  refresh-token ttl    {}s", project.settings.refresh_token_ttl_secs);
        println!("  app url              {}", project.settings.app_url.as_deref().unwrap_or("none"));
        println!("  created              {}", project.created_at.to_rfc3339());
    }
    Ok(())
}

pub async fn api_key(storage: &StorageConfig, command: ApiKeyCommand) -> anyhow::Result<()> {
    let admin = checked_admin(storage).await?.projects;
    match command {
        ApiKeyCommand::Create { project, name, scope, json } => {
            let scope = scope.parse().with_context(|| format!("{scope:?} is not a scope (auth or admin)"))?;
            let created = admin.create_api_key(project_id(&project)?, &name, scope).await?;
            let record = &created.record;
            if json {
                print_json(&NewApiKey { key: ApiKeyInfo::from(record), api_key: created.plaintext.clone() })?;
            } else {
                println!("API key {} ({} scope) for project {}", record.id, record.scope, record.project_id);
                println!("  {}", created.plaintext);
                println!("Store it now: it is not shown again.");
            }
        }
        ApiKeyCommand::List { project, json } => {
            let keys = admin.api_keys(project_id(&project)?).await?;
            if json {
                print_json(&keys.iter().map(ApiKeyInfo::from).collect::<Vec<_>>())?;
            } else {
                for key in &keys {
                    print_key(key);
                }
            }
        }
        ApiKeyCommand::Revoke { project, key_id } => {
            let id = key_id.trim().parse().with_context(|| format!("{key_id:?} is not a key id"))?;
            if !admin.revoke_api_key(project_id(&project)?, id).await? {
                anyhow::bail!("no live API key {key_id} in project {project}");
            }
            println!("revoked {key_id}");
        }
    }
    Ok(())
}

fn print_key(key: &ApiKeyRecord) {
    let state = match key.revoked_at {
        Some(at) => format!("revoked {}", at.to_rfc3339()),
        None => "live".to_owned(),
    };
    println!("{}  {}…  {:<6} {:<12} {}", key.id, key.prefix, key.scope, key.name, state);
}
