//! Ids of jobs, tasks and leases. They are the orchestrator's database row
//! ids: small, ordered, and easy to type on a command line.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map($name)
            }
        }
    };
}

row_id!(
    /// A render job: one scene, a set of frames, one set of settings.
    JobId
);
row_id!(
    /// A unit of work handed to one worker: a chunk of a job's frames.
    TaskId
);
row_id!(
    /// One hand-out of a task to a worker. A task handed out again gets a new
    /// lease id, so a late report from the previous holder is recognised and
    /// ignored.
    LeaseId
);
row_id!(
    /// A live stream (its name and key), which may be broadcast many times.
    StreamId
);
row_id!(
    /// One broadcast of a stream: from publish to unpublish.
    BroadcastId
);
row_id!(
    /// One source segment of a broadcast, transcoded as one task.
    SegmentId
);
