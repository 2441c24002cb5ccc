//! RTMP ingest, server side, without I/O: the bytes a publisher (OBS,
//! ffmpeg, GStreamer) sends go in, [`Event`]s and the bytes to answer with
//! come out. The orchestrator's ingest owns the sockets and the decisions
//! (which app, which stream keys); this crate only speaks the protocol.
//!
//! Everything a peer sends is bounded before it is buffered (see
//! [`chunk`]), so a hostile client costs a fixed amount of memory.

pub mod amf0;
pub mod chunk;
pub mod handshake;
pub mod session;

pub use session::{Event, ServerSession, SessionError};
