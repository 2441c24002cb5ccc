//! One publisher's RTMP session, server side: handshake, protocol control,
//! the NetConnection and NetStream commands of a publish, and the media.
//!
//! It does no I/O and decides nothing about keys or apps: it reports
//! [`Event`]s, and the caller answers requests with `accept_*`/`reject_*`.
//! What to send back accumulates in an output buffer for the caller to
//! write ([`ServerSession::take_output`]).

use crate::amf0::{self, Value};
use crate::chunk::{ChunkError, ChunkReader, ChunkWriter, Message};
use crate::handshake::{Handshake, HandshakeError, Progress};

/// The chunk size we send with: big enough that a command fits in one.
const OUR_CHUNK_SIZE: usize = 4096;
/// Our acknowledgement window and the peer bandwidth we announce.
const WINDOW: u32 = 5_000_000;
/// The message stream id a createStream gets.
const STREAM_ID: u32 = 1;

// Message type ids.
const SET_CHUNK_SIZE: u8 = 1;
const ABORT: u8 = 2;
const ACK: u8 = 3;
const USER_CONTROL: u8 = 4;
const WINDOW_ACK_SIZE: u8 = 5;
const SET_PEER_BANDWIDTH: u8 = 6;
const AUDIO: u8 = 8;
const VIDEO: u8 = 9;
const DATA_AMF3: u8 = 15;
const COMMAND_AMF3: u8 = 17;
const DATA_AMF0: u8 = 18;
const COMMAND_AMF0: u8 = 20;

// Chunk streams we send on.
const CONTROL_CSID: u32 = 2;
const COMMAND_CSID: u32 = 3;
const STATUS_CSID: u32 = 5;

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The client asked to connect to an application (`live` in
    /// `rtmp://host/live/KEY`). Answer with `accept_connect` or `reject`.
    ConnectRequested { app: String, tc_url: Option<String> },
    /// The client asked to publish under `stream_key` (the query part,
    /// `?...`, removed). Answer with `accept_publish` or `reject`.
    PublishRequested { stream_key: String },
    /// `@setDataFrame onMetaData`: the encoder's description of the stream.
    Metadata(Value),
    /// An FLV video tag body, timestamped in milliseconds.
    Video { timestamp: u32, data: Vec<u8> },
    /// An FLV audio tag body, timestamped in milliseconds.
    Audio { timestamp: u32, data: Vec<u8> },
    /// The client said it stopped publishing (FCUnpublish, deleteStream or
    /// closeStream).
    Unpublished,
    /// The client asked for something a publish-only server does not do
    /// (e.g. play); it has been told, and the caller may log it.
    Refused { command: String },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    #[error(transparent)]
    Chunk(#[from] ChunkError),
    #[error("{what} is not valid AMF0: {source}")]
    Amf0 {
        what: &'static str,
        #[source]
        source: amf0::Amf0Error,
    },
    #[error("protocol error: {0}")]
    Protocol(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Handshake,
    /// Handshake done, waiting for connect.
    Connecting,
    /// A connect request awaits the caller's answer.
    ConnectPending {
        txn: u64,
    },
    Connected,
    /// A publish request awaits the caller's answer.
    PublishPending {
        txn: u64,
    },
    Publishing,
    Closed,
}

pub struct ServerSession {
    stage: Stage,
    handshake: Handshake,
    reader: ChunkReader,
    writer: ChunkWriter,
    out: Vec<u8>,
    bytes_in: u64,
    /// The peer's window: we acknowledge every this many bytes.
    ack_window: Option<u32>,
    acked_at: u64,
}

impl Default for ServerSession {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerSession {
    pub fn new() -> Self {
        Self {
            stage: Stage::Handshake,
            handshake: Handshake::new(),
            reader: ChunkReader::new(),
            writer: ChunkWriter::default(),
            out: Vec::new(),
            bytes_in: 0,
            ack_window: None,
            acked_at: 0,
        }
    }

    /// Whether the handshake is done.
    pub fn handshake_done(&self) -> bool {
        self.stage != Stage::Handshake
    }

    pub fn is_publishing(&self) -> bool {
        self.stage == Stage::Publishing
    }

    /// Bytes to send to the client, taken out of the session.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Takes received bytes and returns what they meant.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Event>, SessionError> {
        self.bytes_in += bytes.len() as u64;
        let mut events = Vec::new();
        if self.stage == Stage::Closed {
            return Ok(events);
        }
        if self.stage == Stage::Handshake {
            match self.handshake.feed(bytes, &mut self.out)? {
                Progress::Waiting => return Ok(events),
                Progress::Done(rest) => {
                    self.stage = Stage::Connecting;
                    self.reader.push(&rest);
                }
            }
        } else {
            self.reader.push(bytes);
        }
        self.acknowledge();
        while let Some(message) = self.reader.next_message()? {
            self.on_message(message, &mut events)?;
        }
        Ok(events)
    }

    fn acknowledge(&mut self) {
        if let Some(window) = self.ack_window {
            if self.bytes_in - self.acked_at >= u64::from(window) {
                self.acked_at = self.bytes_in;
                let seq = (self.bytes_in & 0xffff_ffff) as u32;
                self.send_control(ACK, &seq.to_be_bytes());
            }
        }
    }

    fn on_message(&mut self, m: Message, events: &mut Vec<Event>) -> Result<(), SessionError> {
        let u32_payload = |m: &Message| -> Result<u32, SessionError> {
            let b: [u8; 4] =
                m.payload.get(..4).and_then(|b| b.try_into().ok()).ok_or_else(|| {
                    SessionError::Protocol(format!("message type {} is too short", m.type_id))
                })?;
            Ok(u32::from_be_bytes(b))
        };
        match m.type_id {
            SET_CHUNK_SIZE => self.reader.set_chunk_size(u32_payload(&m)? & 0x7fff_ffff)?,
            ABORT => self.reader.abort(u32_payload(&m)?),
            WINDOW_ACK_SIZE => self.ack_window = Some(u32_payload(&m)?.max(1)),
            ACK | USER_CONTROL | SET_PEER_BANDWIDTH => {}
            // Media counts only on the stream being published; an empty tag
            // carries nothing (some encoders send them).
            AUDIO | VIDEO
                if self.stage == Stage::Publishing
                    && m.stream_id == STREAM_ID
                    && !m.payload.is_empty() =>
            {
                events.push(if m.type_id == AUDIO {
                    Event::Audio { timestamp: m.timestamp, data: m.payload }
                } else {
                    Event::Video { timestamp: m.timestamp, data: m.payload }
                });
            }
            AUDIO | VIDEO => {}
            COMMAND_AMF0 | COMMAND_AMF3 => {
                let body = if m.type_id == COMMAND_AMF3 {
                    m.payload.get(1..).unwrap_or(&[])
                } else {
                    &m.payload
                };
                let values = amf0::decode_all(body)
                    .map_err(|source| SessionError::Amf0 { what: "a command", source })?;
                self.on_command(values, events)?;
            }
            DATA_AMF0 | DATA_AMF3 => {
                let body = if m.type_id == DATA_AMF3 {
                    m.payload.get(1..).unwrap_or(&[])
                } else {
                    &m.payload
                };
                // Metadata is informational: a malformed one is skipped.
                if let Ok(values) = amf0::decode_all(body) {
                    let mut values = values.into_iter().skip_while(|v| {
                        matches!(v.as_str(), Some("@setDataFrame") | Some("onMetaData"))
                    });
                    if let Some(meta) = values.next() {
                        events.push(Event::Metadata(meta));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn on_command(
        &mut self,
        values: Vec<Value>,
        events: &mut Vec<Event>,
    ) -> Result<(), SessionError> {
        let mut values = values.into_iter();
        let name = match values.next() {
            Some(Value::String(name)) => name,
            other => {
                return Err(SessionError::Protocol(format!(
                    "a command must start with its name, not {other:?}"
                )))
            }
        };
        let txn = values.next().and_then(|v| v.as_number()).unwrap_or(0.0).max(0.0) as u64;
        let command_object = values.next();
        let args: Vec<Value> = values.collect();
        match name.as_str() {
            "connect" => {
                if self.stage != Stage::Connecting {
                    return Err(SessionError::Protocol("connect sent twice".into()));
                }
                let obj = command_object.unwrap_or(Value::Null);
                let app = obj.get("app").and_then(Value::as_str).unwrap_or("").to_owned();
                let tc_url = obj.get("tcUrl").and_then(Value::as_str).map(str::to_owned);
                self.stage = Stage::ConnectPending { txn };
                events.push(Event::ConnectRequested { app, tc_url });
            }
            "releaseStream" | "FCPublish" => {
                self.send_command(&[
                    Value::String("_result".into()),
                    Value::Number(txn as f64),
                    Value::Null,
                    Value::Undefined,
                ]);
            }
            "createStream" => {
                self.require_connected(&name)?;
                self.send_command(&[
                    Value::String("_result".into()),
                    Value::Number(txn as f64),
                    Value::Null,
                    Value::Number(f64::from(STREAM_ID)),
                ]);
            }
            "publish" => {
                self.require_connected(&name)?;
                if self.stage != Stage::Connected {
                    return Err(SessionError::Protocol("publish sent twice".into()));
                }
                let key = args.first().and_then(Value::as_str).unwrap_or("");
                let key = key.split('?').next().unwrap_or("").to_owned();
                self.stage = Stage::PublishPending { txn };
                events.push(Event::PublishRequested { stream_key: key });
            }
            "FCUnpublish" | "deleteStream" | "closeStream" if self.stage == Stage::Publishing => {
                self.stage = Stage::Connected;
                self.send_status("status", "NetStream.Unpublish.Success", "Stopped publishing.");
                events.push(Event::Unpublished);
            }
            "play" | "play2" => {
                self.send_status(
                    "error",
                    "NetStream.Play.Failed",
                    "This server takes publishing only: play the stream over HLS.",
                );
                events.push(Event::Refused { command: name });
            }
            // getStreamLength, _checkbw and the like: nothing to say.
            _ => {}
        }
        Ok(())
    }

    fn require_connected(&self, command: &str) -> Result<(), SessionError> {
        match self.stage {
            Stage::Connected | Stage::PublishPending { .. } | Stage::Publishing => Ok(()),
            _ => Err(SessionError::Protocol(format!("{command} before a successful connect"))),
        }
    }

    /// Accepts the pending connect request.
    pub fn accept_connect(&mut self) {
        let Stage::ConnectPending { txn } = self.stage else { return };
        self.send_control(WINDOW_ACK_SIZE, &WINDOW.to_be_bytes());
        let mut bandwidth = WINDOW.to_be_bytes().to_vec();
        bandwidth.push(2); // dynamic
        self.send_control(SET_PEER_BANDWIDTH, &bandwidth);
        self.send_control(SET_CHUNK_SIZE, &(OUR_CHUNK_SIZE as u32).to_be_bytes());
        self.writer.set_chunk_size(OUR_CHUNK_SIZE);
        self.send_command(&[
            Value::String("_result".into()),
            Value::Number(txn as f64),
            Value::object(&[
                ("fmsVer", Value::String("FMS/3,0,1,123".into())),
                ("capabilities", Value::Number(31.0)),
            ]),
            Value::object(&[
                ("level", Value::String("status".into())),
                ("code", Value::String("NetConnection.Connect.Success".into())),
                ("description", Value::String("Connection succeeded.".into())),
                ("objectEncoding", Value::Number(0.0)),
            ]),
        ]);
        self.stage = Stage::Connected;
    }

    /// Accepts the pending publish request: media events follow.
    pub fn accept_publish(&mut self) {
        let Stage::PublishPending { .. } = self.stage else { return };
        // User control: Stream Begin on our stream.
        let mut begin = vec![0, 0];
        begin.extend_from_slice(&STREAM_ID.to_be_bytes());
        self.send_control(USER_CONTROL, &begin);
        self.send_status("status", "NetStream.Publish.Start", "Publishing.");
        self.stage = Stage::Publishing;
    }

    /// Refuses whatever is pending (or, while publishing, stops it) with a
    /// reason the client shows its user. The caller then closes the
    /// connection after writing the output.
    pub fn reject(&mut self, code: &str, description: &str) {
        match self.stage {
            Stage::ConnectPending { txn } => self.send_command(&[
                Value::String("_error".into()),
                Value::Number(txn as f64),
                Value::Null,
                Value::object(&[
                    ("level", Value::String("error".into())),
                    ("code", Value::String(code.into())),
                    ("description", Value::String(description.into())),
                ]),
            ]),
            _ => self.send_status("error", code, description),
        }
        self.stage = Stage::Closed;
    }

    fn send_control(&mut self, type_id: u8, payload: &[u8]) {
        let m = Message {
            chunk_stream: CONTROL_CSID,
            timestamp: 0,
            type_id,
            stream_id: 0,
            payload: payload.to_vec(),
        };
        self.writer.write(&m, &mut self.out);
    }

    fn send_command(&mut self, values: &[Value]) {
        let mut payload = Vec::new();
        for v in values {
            amf0::encode(v, &mut payload);
        }
        let m = Message {
            chunk_stream: COMMAND_CSID,
            timestamp: 0,
            type_id: COMMAND_AMF0,
            stream_id: 0,
            payload,
        };
        self.writer.write(&m, &mut self.out);
    }

    fn send_status(&mut self, level: &str, code: &str, description: &str) {
        let mut payload = Vec::new();
        for v in [
            Value::String("onStatus".into()),
            Value::Number(0.0),
            Value::Null,
            Value::object(&[
                ("level", Value::String(level.into())),
                ("code", Value::String(code.into())),
                ("description", Value::String(description.into())),
            ]),
        ] {
            amf0::encode(&v, &mut payload);
        }
        let m = Message {
            chunk_stream: STATUS_CSID,
            timestamp: 0,
            type_id: COMMAND_AMF0,
            stream_id: STREAM_ID,
            payload,
        };
        self.writer.write(&m, &mut self.out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::PACKET;

    /// A scripted publisher, the way ffmpeg's rtmp client talks.
    struct Client {
        writer: ChunkWriter,
        reader: ChunkReader,
    }

    impl Client {
        fn new() -> Self {
            Self { writer: ChunkWriter::default(), reader: ChunkReader::new() }
        }

        fn command(&self, csid: u32, stream_id: u32, values: &[Value]) -> Vec<u8> {
            let mut payload = Vec::new();
            for v in values {
                amf0::encode(v, &mut payload);
            }
            let mut out = Vec::new();
            let m = Message {
                chunk_stream: csid,
                timestamp: 0,
                type_id: COMMAND_AMF0,
                stream_id,
                payload,
            };
            self.writer.write(&m, &mut out);
            out
        }

        /// The commands (AMF0 values) in the server's output.
        fn read(&mut self, bytes: &[u8]) -> Vec<Vec<Value>> {
            self.reader.push(bytes);
            let mut commands = Vec::new();
            while let Some(m) = self.reader.next_message().unwrap() {
                match m.type_id {
                    SET_CHUNK_SIZE => {
                        let size = u32::from_be_bytes(m.payload[..4].try_into().unwrap());
                        self.reader.set_chunk_size(size).unwrap();
                    }
                    COMMAND_AMF0 => commands.push(amf0::decode_all(&m.payload).unwrap()),
                    _ => {}
                }
            }
            commands
        }
    }

    fn s(text: &str) -> Value {
        Value::String(text.into())
    }

    fn handshake(server: &mut ServerSession) {
        let mut c0c1 = vec![3];
        c0c1.resize(1 + PACKET, 7);
        assert!(server.feed(&c0c1).unwrap().is_empty());
        assert_eq!(server.take_output().len(), 1 + 2 * PACKET);
        assert!(server.feed(&vec![0; PACKET]).unwrap().is_empty());
        assert!(server.handshake_done());
    }

    #[test]
    fn a_publish_from_connect_to_media_to_unpublish() {
        let mut server = ServerSession::new();
        let mut client = Client::new();
        handshake(&mut server);

        let connect = client.command(
            3,
            0,
            &[
                s("connect"),
                Value::Number(1.0),
                Value::object(&[("app", s("live")), ("tcUrl", s("rtmp://host/live"))]),
            ],
        );
        let events = server.feed(&connect).unwrap();
        assert_eq!(
            events,
            [Event::ConnectRequested {
                app: "live".into(),
                tc_url: Some("rtmp://host/live".into())
            }]
        );
        server.accept_connect();
        let answers = client.read(&server.take_output());
        assert_eq!(answers[0][0], s("_result"));
        assert_eq!(answers[0][3].get("code"), Some(&s("NetConnection.Connect.Success")));

        let mut bytes =
            client.command(3, 0, &[s("releaseStream"), Value::Number(2.0), Value::Null, s("key")]);
        bytes.extend(client.command(3, 0, &[s("createStream"), Value::Number(4.0), Value::Null]));
        bytes.extend(client.command(
            8,
            1,
            &[s("publish"), Value::Number(5.0), Value::Null, s("secret?x=1"), s("live")],
        ));
        let events = server.feed(&bytes).unwrap();
        assert_eq!(events, [Event::PublishRequested { stream_key: "secret".into() }]);
        let answers = client.read(&server.take_output());
        assert_eq!(answers[1], [s("_result"), Value::Number(4.0), Value::Null, Value::Number(1.0)]);
        server.accept_publish();
        let answers = client.read(&server.take_output());
        assert_eq!(answers[0][3].get("code"), Some(&s("NetStream.Publish.Start")));

        let mut media = Vec::new();
        let video = Message {
            chunk_stream: 6,
            timestamp: 40,
            type_id: VIDEO,
            stream_id: 1,
            payload: vec![0x17, 1, 0, 0, 0, 9],
        };
        client.writer.write(&video, &mut media);
        let audio = Message {
            chunk_stream: 4,
            timestamp: 23,
            type_id: AUDIO,
            stream_id: 1,
            payload: vec![0xaf, 1, 5],
        };
        client.writer.write(&audio, &mut media);
        media.extend(client.command(
            3,
            0,
            &[s("FCUnpublish"), Value::Number(6.0), Value::Null, s("secret")],
        ));
        let events = server.feed(&media).unwrap();
        assert_eq!(
            events,
            [
                Event::Video { timestamp: 40, data: vec![0x17, 1, 0, 0, 0, 9] },
                Event::Audio { timestamp: 23, data: vec![0xaf, 1, 5] },
                Event::Unpublished,
            ]
        );
    }

    #[test]
    fn a_rejected_publish_tells_the_client_why() {
        let mut server = ServerSession::new();
        let mut client = Client::new();
        handshake(&mut server);
        let connect = client.command(
            3,
            0,
            &[s("connect"), Value::Number(1.0), Value::object(&[("app", s("live"))])],
        );
        server.feed(&connect).unwrap();
        server.accept_connect();
        client.read(&server.take_output());
        let publish = client.command(
            8,
            1,
            &[s("publish"), Value::Number(5.0), Value::Null, s("wrong"), s("live")],
        );
        server.feed(&publish).unwrap();
        server.reject("NetStream.Publish.BadName", "unknown stream key");
        let answers = client.read(&server.take_output());
        let info = &answers[0][3];
        assert_eq!(info.get("level"), Some(&s("error")));
        assert_eq!(info.get("description"), Some(&s("unknown stream key")));
        // Nothing more is taken from a closed session.
        assert!(server.feed(&publish).unwrap().is_empty());
    }

    #[test]
    fn commands_out_of_order_are_protocol_errors() {
        let mut server = ServerSession::new();
        let client = Client::new();
        handshake(&mut server);
        let publish =
            client.command(8, 1, &[s("publish"), Value::Number(5.0), Value::Null, s("k")]);
        let err = server.feed(&publish).unwrap_err();
        assert!(err.to_string().contains("before a successful connect"), "{err}");
    }

    #[test]
    fn acknowledges_the_peers_window() {
        let mut server = ServerSession::new();
        let mut client = Client::new();
        handshake(&mut server);
        let mut bytes = Vec::new();
        let window = Message {
            chunk_stream: 2,
            timestamp: 0,
            type_id: WINDOW_ACK_SIZE,
            stream_id: 0,
            payload: 100u32.to_be_bytes().to_vec(),
        };
        client.writer.write(&window, &mut bytes);
        server.feed(&bytes).unwrap();
        server.take_output();
        server.feed(&[0xc2; 0]).unwrap();
        let padding = Message {
            chunk_stream: 2,
            timestamp: 0,
            type_id: ACK,
            stream_id: 0,
            payload: vec![0; 120],
        };
        let mut bytes = Vec::new();
        client.writer.write(&padding, &mut bytes);
        server.feed(&bytes).unwrap();
        client.reader.push(&server.take_output());
        let ack = client.reader.next_message().unwrap().expect("an acknowledgement");
        assert_eq!(ack.type_id, ACK);
    }
}
