//! Domain types. Input types validate on construction, so a value of type [`Email`] or
//! [`Username`] is always normalised and within bounds; the rest of the code never re-checks.

mod ids;
mod mail;
pub(crate) mod profile;
mod project;
mod user;
mod validated;

pub use ids::{ApiKeyId, OutboxId, ProjectId, SessionId, UserId};
pub use mail::{LinkPurpose, MailSettings, SmtpOverride, smtp_password_context};
pub use profile::{Location, Profile, ProfileInput};
pub use project::{ApiKeyRecord, Project, ProjectSettings};
pub use user::{Role, User};
pub use validated::{Email, Password, Username};
