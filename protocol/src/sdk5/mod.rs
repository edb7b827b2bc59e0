//! GameLift Server SDK 5 messages (in progress).
