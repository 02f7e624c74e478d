//! `latchkey user import` and `latchkey user export`: JSON Lines in and out (docs/MIGRATING.md),
//! on the same core service as `POST /admin/users/import` (actor `cli`).
//!
//! Import reads the file a batch of 1,000 lines at a time (one transaction each), writes one
//! report line per input line, and shows a progress bar on a terminal. Export pages through
//! the users by id and writes each page as it comes, so memory stays one page whatever the
//! size of the project.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use latchkey_core::auth::{ImportLine, ImportRun, LineOutcome, MAX_IMPORT_BATCH, UserImport};
use latchkey_core::domain::{Actor, ProjectId};

use super::PROJECT_HELP;
use crate::import_wire::{exported_user, line_report, parse_line};

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(long, value_name = "ID", help = PROJECT_HELP)]
    pub project: String,
    /// JSON Lines, one user per line (the schema of docs/MIGRATING.md).
    pub file: PathBuf,
    /// Report what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the per-line report (JSON Lines) to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_name = "ID", help = PROJECT_HELP)]
    pub project: String,
    /// Include each user's stored password hash (`passwordHash`). Treat the output as secret.
    #[arg(long)]
    pub with_password_hashes: bool,
}

#[derive(Debug, Default)]
struct Totals {
    created: u64,
    updated: u64,
    skipped: u64,
    errors: u64,
    below_floor: u64,
}

/// Imports the file; fails (after the whole file) when any line was an error.
pub async fn import(imports: &UserImport, project: ProjectId, args: ImportArgs) -> anyhow::Result<()> {
    let file = File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut input = BufReader::new(file);
    let mut out: Box<dyn Write> = match &args.report {
        Some(path) => {
            Box::new(BufWriter::new(File::create(path).with_context(|| format!("cannot create {}", path.display()))?))
        }
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let progress = progress_bar(size);
    let (mut run, mut totals) = (ImportRun::default(), Totals::default());
    let (mut line_no, mut buf, mut batch) = (0u64, Vec::new(), Vec::with_capacity(MAX_IMPORT_BATCH));
    loop {
        buf.clear();
        let read = input.read_until(b'\n', &mut buf).context("cannot read the import file")?;
        if read > 0 {
            line_no += 1;
            progress.inc(read as u64);
            match std::str::from_utf8(&buf) {
                Ok(text) if text.trim().is_empty() => {}
                Ok(text) => batch.push(parse_line(line_no, text)),
                Err(_) => batch.push(ImportLine { line: line_no, user: Err("the line is not UTF-8".into()) }),
            }
        }
        if batch.len() == MAX_IMPORT_BATCH || (read == 0 && !batch.is_empty()) {
            let first = batch.first().map(|l| l.line).unwrap_or(line_no);
            let lines = std::mem::replace(&mut batch, Vec::with_capacity(MAX_IMPORT_BATCH));
            let reports = imports
                .import_batch(Actor::Cli, project, &mut run, lines, args.dry_run)
                .await
                .with_context(|| format!("the batch from line {first} was not imported (earlier batches were)"))?;
            for report in &reports {
                totals.add(report.outcome, report.below_floor);
                serde_json::to_writer(&mut out, &line_report(report))?;
                out.write_all(b"\n")?;
            }
        }
        if read == 0 {
            break;
        }
    }
    out.flush()?;
    progress.finish_and_clear();
    let Totals { created, updated, skipped, errors, below_floor } = totals;
    let mode = if args.dry_run { " (dry run: nothing written)" } else { "" };
    eprintln!(
        "created {created}, updated {updated}, skipped {skipped}, errors {errors}, below the hash floor {below_floor}{mode}"
    );
    if errors > 0 {
        anyhow::bail!("{errors} line(s) were not imported; the report gives each line's reason");
    }
    Ok(())
}

impl Totals {
    fn add(&mut self, outcome: LineOutcome, below_floor: bool) {
        match outcome {
            LineOutcome::Created => self.created += 1,
            LineOutcome::Updated => self.updated += 1,
            LineOutcome::Skipped => self.skipped += 1,
            LineOutcome::Error => self.errors += 1,
        }
        self.below_floor += u64::from(below_floor);
    }
}

/// A bar over the file's bytes on a terminal; hidden otherwise (scripts, tests).
fn progress_bar(bytes: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(bytes);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} ({eta} left)") {
        bar.set_style(style);
    }
    bar
}

/// Writes every user of the project with an email as a JSON line, a page at a time.
pub async fn export(imports: &UserImport, project: ProjectId, args: ExportArgs) -> anyhow::Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let (mut after, mut without_email) = (None, 0u64);
    loop {
        let page = imports.export_page(project, after, MAX_IMPORT_BATCH as u32).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for user in &page {
            match exported_user(user, args.with_password_hashes) {
                Some(line) => {
                    serde_json::to_writer(&mut out, &line)?;
                    out.write_all(b"\n")?;
                }
                None => without_email += 1,
            }
        }
    }
    out.flush()?;
    if without_email > 0 {
        eprintln!("{without_email} user(s) without an email (external users) were left out");
    }
    Ok(())
}
