//! Queries on `conversations` and `messages`, one file per aggregate. Every read and write that starts from a request
//! is scoped to the owner (`user_id`), so another user's id behaves exactly like a missing one. Only the chat service
//! calls them.

mod conversations;
mod imports;
mod lists;
mod messages;
mod shares;
mod steps;
mod turns;

pub use conversations::*;
pub use imports::*;
pub use lists::*;
pub use messages::*;
pub use shares::*;
pub use steps::*;
pub use turns::*;
