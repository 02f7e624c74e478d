//! External-user key management: `signing-secret`, `external-key` and `external-config`.
//! Thin wrappers over [`latchkey_core::auth::ExternalAdmin`] that print results. A new signing
//! secret goes to stdout once and is never logged.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use latchkey_core::auth::{DEFAULT_OVERLAP_SECS, ExternalAdmin, NewSigningSecret};
use latchkey_core::store::{ExternalSecretRecord, ExternalSettings};

use super::admin::{print_json, project_id};
use super::wire::{ExternalConfig, ExternalKeyInfo, NewSigningSecret as NewSecretJson, SigningSecretInfo};
use super::{JSON_HELP, PROJECT_HELP};
use crate::config::{StorageConfig, parse_duration_secs};

#[derive(Debug, Subcommand)]
pub enum SigningSecretCommand {
    /// Create the project's first HS256/384/512 signing secret (printed once).
    Create(SecretTarget),
    /// Create a new secret; the previous ones keep working for --overlap, then stop.
    Rotate {
        #[command(flatten)]
        target: SecretTarget,
        /// How long the previous secret stays valid, e.g. 1h, 24h (default 24h; 0 stops it now).
        #[arg(long, value_parser = parse_duration_secs, value_name = "DURATION")]
        overlap: Option<i64>,
    },
    /// List the project's secrets (ids and states, never the secrets).
    List(SecretTarget),
    /// Revoke a secret by id; it stops working at once.
    Revoke {
        #[command(flatten)]
        target: SecretTarget,
        /// The secret's id (`signing-secret list` shows it).
        secret_id: String,
    },
}

#[derive(Debug, Args)]
pub struct SecretTarget {
    #[arg(long, value_name = "ID", help = PROJECT_HELP)]
    pub project: String,
    #[arg(long, help = JSON_HELP)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ExternalKeyCommand {
    /// Register a public key (RS256, ES256 or EdDSA) from a PEM or a JWK file.
    Add {
        #[arg(long, value_name = "ID", help = PROJECT_HELP)]
        project: String,
        /// A public key in PEM (`-----BEGIN PUBLIC KEY-----`).
        #[arg(long, value_name = "FILE", conflicts_with = "jwk", required_unless_present = "jwk")]
        pem: Option<PathBuf>,
        /// A public key as a JWK (JSON object).
        #[arg(long, value_name = "FILE")]
        jwk: Option<PathBuf>,
        /// Key id tokens use in their `kid` header (default: the JWK's kid, else its RFC 7638 thumbprint).
        #[arg(long)]
        kid: Option<String>,
        /// Pin another algorithm of the key's family (e.g. RS512, PS256); default RS256/ES256/EdDSA.
        #[arg(long)]
        alg: Option<String>,
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
    /// List registered public keys.
    List {
        #[arg(long, value_name = "ID", help = PROJECT_HELP)]
        project: String,
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
    /// Remove a public key by kid; tokens signed with it stop working at once.
    Remove {
        #[arg(long, value_name = "ID", help = PROJECT_HELP)]
        project: String,
        /// The key's kid (`external-key list` shows it).
        kid: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExternalConfigCommand {
    /// Show a project's external-user settings.
    Show {
        #[arg(long, value_name = "ID", help = PROJECT_HELP)]
        project: String,
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
    /// Change a project's external-user settings.
    Set {
        #[arg(long, value_name = "ID", help = PROJECT_HELP)]
        project: String,
        /// Longest accepted token lifetime, e.g. 10m (default 10m).
        #[arg(long, value_parser = parse_duration_secs, value_name = "DURATION")]
        max_token_lifetime: Option<i64>,
        /// JWKS URL with more public keys (https; http only to loopback).
        #[arg(long, value_name = "URL", conflicts_with = "clear_jwks_url")]
        jwks_url: Option<String>,
        /// Stop using a JWKS URL.
        #[arg(long)]
        clear_jwks_url: bool,
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
}

async fn admin(storage: &StorageConfig) -> anyhow::Result<ExternalAdmin> {
    // Like every admin command: refused unless the master key opens the stored keys.
    Ok(super::admin::checked_admin(storage).await?.external)
}

pub async fn signing_secret(storage: &StorageConfig, command: SigningSecretCommand) -> anyhow::Result<()> {
    let admin = admin(storage).await?;
    match command {
        SigningSecretCommand::Create(target) => {
            let created = admin.create_signing_secret(project_id(&target.project)?).await?;
            print_new_secret(&created, target.json)?;
        }
        SigningSecretCommand::Rotate { target, overlap } => {
            let overlap = overlap.unwrap_or(DEFAULT_OVERLAP_SECS);
            let created = admin.rotate_signing_secret(project_id(&target.project)?, overlap).await?;
            print_new_secret(&created, target.json)?;
            if !target.json {
                println!("Previous secrets keep working for {overlap}s.");
            }
        }
        SigningSecretCommand::List(target) => {
            let secrets = admin.signing_secrets(project_id(&target.project)?).await?;
            if target.json {
                print_json(&secrets.iter().map(SigningSecretInfo::from).collect::<Vec<_>>())?;
            } else {
                for secret in &secrets {
                    print_secret(secret);
                }
            }
        }
        SigningSecretCommand::Revoke { target, secret_id } => {
            if !admin.revoke_signing_secret(project_id(&target.project)?, &secret_id).await? {
                anyhow::bail!("no unrevoked signing secret {secret_id} in project {}", target.project);
            }
            if target.json {
                print_json(&serde_json::json!({ "ok": true }))?;
            } else {
                println!("revoked {secret_id}");
            }
        }
    }
    Ok(())
}

fn print_new_secret(created: &NewSigningSecret, json: bool) -> anyhow::Result<()> {
    if json {
        print_json(&NewSecretJson {
            id: created.record.id.clone(),
            project_id: created.record.project_id.to_string(),
            secret: created.plaintext.clone(),
        })?;
    } else {
        println!("Signing secret {} for project {}", created.record.id, created.record.project_id);
        println!("  {}", created.plaintext);
        println!("Sign external user JWTs with it (HS256/HS384/HS512; optional header kid: {}).", created.record.id);
        println!("Store it now: it is not shown again.");
    }
    Ok(())
}

fn print_secret(secret: &ExternalSecretRecord) {
    let state = match (secret.revoked_at, secret.expires_at) {
        (Some(at), _) => format!("revoked {}", at.to_rfc3339()),
        (None, Some(at)) if at <= chrono::Utc::now() => format!("expired {}", at.to_rfc3339()),
        (None, Some(at)) => format!("live until {}", at.to_rfc3339()),
        (None, None) => "live".to_owned(),
    };
    println!("{}  created {}  {}", secret.id, secret.created_at.to_rfc3339(), state);
}

pub async fn external_key(storage: &StorageConfig, command: ExternalKeyCommand) -> anyhow::Result<()> {
    let admin = admin(storage).await?;
    match command {
        ExternalKeyCommand::Add { project, pem, jwk, kid, alg, json } => {
            let project = project_id(&project)?;
            let record = match (pem, jwk) {
                (Some(path), _) => {
                    let text = read_key_file(&path)?;
                    admin.add_public_key_pem(project, &text, kid.as_deref(), alg.as_deref()).await?
                }
                (None, Some(path)) => {
                    let text = read_key_file(&path)?;
                    admin.add_public_key_jwk(project, &text, kid.as_deref(), alg.as_deref()).await?
                }
                (None, None) => anyhow::bail!("give the public key with --pem FILE or --jwk FILE"),
            };
            if json {
                print_json(&ExternalKeyInfo::from(&record))?;
            } else {
                println!("added {} key {} to project {}", record.alg, record.kid, record.project_id);
            }
        }
        ExternalKeyCommand::List { project, json } => {
            let keys = admin.public_keys(project_id(&project)?).await?;
            if json {
                print_json(&keys.iter().map(ExternalKeyInfo::from).collect::<Vec<_>>())?;
            } else {
                for key in &keys {
                    println!("{}  {:<6} added {}", key.kid, key.alg, key.created_at.to_rfc3339());
                }
            }
        }
        ExternalKeyCommand::Remove { project, kid } => {
            if !admin.remove_public_key(project_id(&project)?, &kid).await? {
                anyhow::bail!("no public key {kid:?} in project {project}");
            }
            println!("removed {kid}");
        }
    }
    Ok(())
}

fn read_key_file(path: &std::path::Path) -> anyhow::Result<String> {
    let metadata = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if metadata.len() > 64 * 1024 {
        anyhow::bail!("{} is too large to be a public key", path.display());
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

pub async fn external_config(storage: &StorageConfig, command: ExternalConfigCommand) -> anyhow::Result<()> {
    let admin = admin(storage).await?;
    match command {
        ExternalConfigCommand::Show { project, json } => {
            let settings = admin.settings(project_id(&project)?).await?;
            print_settings(&settings, json)?;
        }
        ExternalConfigCommand::Set { project, max_token_lifetime, jwks_url, clear_jwks_url, json } => {
            let id = project_id(&project)?;
            let mut settings = admin.settings(id).await?;
            if let Some(secs) = max_token_lifetime {
                settings.max_token_lifetime_secs = secs;
            }
            if clear_jwks_url {
                settings.jwks_url = None;
            } else if jwks_url.is_some() {
                settings.jwks_url = jwks_url;
            }
            let updated = admin.update_settings(id, settings).await?;
            print_settings(&updated, json)?;
        }
    }
    Ok(())
}

fn print_settings(settings: &ExternalSettings, json: bool) -> anyhow::Result<()> {
    if json {
        print_json(&ExternalConfig::from(settings))?;
    } else {
        println!("  max token lifetime   {}s", settings.max_token_lifetime_secs);
        println!("  jwks url             {}", settings.jwks_url.as_deref().unwrap_or("(none)"));
    }
    Ok(())
}
