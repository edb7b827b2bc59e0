//! Every wire format the stack speaks, and nothing else.
//!
//! | module | format | spoken between |
//! |---|---|---|
//! | [`game`] | bincode 2 (varint, little endian), hard size limits | game client ↔ session server, over QUIC datagrams and a stream |
//! | [`sdk5`] | JSON text frames, PascalCase | session server ↔ GameLift (or `fleet local`), over the SDK5 WebSocket |
//! | [`result`] | JSON, HMAC-SHA256 signed over a canonical encoding | session server → SQS → backend |
//! | [`http`] | JSON | game clients and the web page ↔ backend HTTP API |
//! | [`tls`] | X.509 DER | the certificate clients pin, derived by server and backend alike |
//!
//! **What it is:** plain data types, codecs, size limits, a protocol version, the rules for
//! which game message is legal in which connection state, and match-result signing.
//!
//! **What it is not:** it does no I/O and has no runtime: no tokio, quinn, AWS SDK or
//! redis dependency (`cargo tree -p protocol -e normal` shows none). Transport framing
//! beyond a length prefix, retries, and timers belong to the crates that own sockets.
//!
//! The game wire format is documented byte by byte in `protocol/docs/wire-format.md`,
//! enough for a client written in C# or C++.

pub mod game;
pub mod http;
pub mod result;
pub mod sdk5;
pub mod tls;
