use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id (UUIDv7 keeps index inserts local).
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A project: the unit of tenancy. Every stored row belongs to exactly one.
    ProjectId
);
uuid_id!(UserId);
uuid_id!(
    /// A login session; refresh tokens name it and its generation.
    SessionId
);
uuid_id!(ApiKeyId);
uuid_id!(
    /// One message in the email outbox.
    OutboxId
);
uuid_id!(
    /// One record of the audit trail (time-ordered, so id order is time order).
    AuditEventId
);
uuid_id!(
    /// One suspension of a user.
    SuspensionId
);
