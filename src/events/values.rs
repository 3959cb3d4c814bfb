//! The open string sets: `status`, `role` and `direction`.
//!
//! Each is an enum of the values the API documents plus `Other(String)`: a value that a newer
//! server sends is kept as it came, never rejected. A value that is not a JSON string does not
//! decode (the field then stays in the event's `extra`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $wire:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $(
                $(#[$variant_meta])*
                $variant,
            )*
            /// A value this version does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every value this version knows, as on the wire.
            pub const KNOWN: &'static [&'static str] = &[$($wire),*];

            /// The value as on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::Other(other) => other,
                }
            }

            /// Whether this value is one this version knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($wire => $name::$variant,)*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $($wire => $name::$variant,)*
                    _ => $name::Other(value),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map($name::from)
            }
        }
    };
}

open_enum! {
    /// The `status` of a thread (and the status a `session.status_*` event moves a session to).
    pub enum ThreadStatus {
        /// `running`: the thread is working.
        Running = "running",
        /// `idle`: the thread waits for input (see the event's `stop_reason`).
        Idle = "idle",
        /// `rescheduling`: the thread is being moved and resumes by itself.
        Rescheduling = "rescheduling",
        /// `terminated`: the thread ended.
        Terminated = "terminated",
        /// `archived`: the thread was archived.
        Archived = "archived",
        /// `blocked`: the thread cannot go on without outside help.
        Blocked = "blocked",
    }
}

open_enum! {
    /// The `role` of a thread in a multi-agent session.
    pub enum Role {
        /// `coordinator`: the session's primary thread, which delegates.
        Coordinator = "coordinator",
        /// `child`: a thread created by the coordinator.
        Child = "child",
    }
}

open_enum! {
    /// The `direction` of a message between threads.
    pub enum Direction {
        /// `coordinator_to_child`: the coordinator delegates to a child.
        CoordinatorToChild = "coordinator_to_child",
        /// `child_to_coordinator`: a child answers the coordinator.
        ChildToCoordinator = "child_to_coordinator",
    }
}
