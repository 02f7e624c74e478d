//! What the request flows decided, told to an observer as it is decided (the server counts
//! each outcome in `/metrics`). The outcomes carry nothing identifying: no project, user or
//! address, so a counter of them has a bounded set of labels.

/// The outcome of a sign-up, a password sign-in or a refresh-token exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthOutcome {
    /// A new account and its first session.
    SignUpCreated,
    /// The email address or username was taken.
    SignUpDuplicate,
    /// The password matched: a new session.
    SignInSucceeded,
    /// Unknown email or wrong password (the two are not told apart, here either).
    SignInFailed,
    /// Refused unchecked: too many failed attempts for this address in the window.
    SignInLocked,
    /// The right password for a disabled or suspended account.
    SignInDenied,
    /// The current refresh token exchanged for a new pair.
    RefreshRotated,
    /// The previous refresh token replayed inside the grace window: the current pair again.
    RefreshGrace,
    /// An older refresh token replayed after the grace window: the session was revoked.
    RefreshReuseDetected,
}

impl AuthOutcome {
    /// Every outcome (the server starts each counter at zero).
    pub const ALL: [AuthOutcome; 9] = [
        AuthOutcome::SignUpCreated,
        AuthOutcome::SignUpDuplicate,
        AuthOutcome::SignInSucceeded,
        AuthOutcome::SignInFailed,
        AuthOutcome::SignInLocked,
        AuthOutcome::SignInDenied,
        AuthOutcome::RefreshRotated,
        AuthOutcome::RefreshGrace,
        AuthOutcome::RefreshReuseDetected,
    ];

    /// The outcome within its flow.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthOutcome::SignUpCreated => "created",
            AuthOutcome::SignUpDuplicate => "duplicate",
            AuthOutcome::SignInSucceeded => "success",
            AuthOutcome::SignInFailed => "failure",
            AuthOutcome::SignInLocked => "locked",
            AuthOutcome::SignInDenied => "denied",
            AuthOutcome::RefreshRotated => "rotated",
            AuthOutcome::RefreshGrace => "grace",
            AuthOutcome::RefreshReuseDetected => "reuse_detected",
        }
    }
}

/// Told of each outcome, synchronously, on the request's task: an implementation must be
/// cheap and must not block (a counter increment).
pub trait AuthObserver: Send + Sync + 'static {
    fn observed(&self, outcome: AuthOutcome);
}

/// The default: nobody is told.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAuthObserver;

impl AuthObserver for NoAuthObserver {
    fn observed(&self, _outcome: AuthOutcome) {}
}
