//! Domain types. Input types validate on construction, so a value of type [`Email`] or
//! [`Username`] is always normalised and within bounds; the rest of the code never re-checks.

pub mod audit;
mod ids;
mod mail;
pub(crate) mod profile;
mod project;
mod session_method;
mod suspension;
mod user;
mod validated;

pub use audit::{Actor, AuditAction, AuditEvent, AuditFilter};
pub use ids::{ApiKeyId, AuditEventId, OutboxId, ProjectId, SessionId, SuspensionId, UserId};
pub use mail::{LinkPurpose, MailSettings, SmtpOverride, smtp_password_context};
pub use profile::{Location, Profile, ProfileInput};
pub use project::{ApiKeyRecord, ApiKeyScope, Project, ProjectSettings};
pub use session_method::SessionMethod;
pub use suspension::Suspension;
pub use user::{Role, User};
pub use validated::{Email, Password, Username};
