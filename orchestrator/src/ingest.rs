//! The RTMP ingest: where OBS, ffmpeg and GStreamer publish. Laid out like
//! mini-redis' server: a [`Listener`] accepts (at most
//! `max_connections` at once, backing off on accept errors), a [`Handler`]
//! runs one connection, and a [`Connection`] turns socket bytes into
//! [`rtmp::Event`]s and writes the answers.
//!
//! A publish must name the `live` app and a stream key the farm knows, and
//! the stream must not be live already. Its media is cut into segments by
//! [`segmenter::live`] and handed to the farm. Everything a client can do
//! wrong ends with a message to it (where RTMP has a way to say it) and in
//! the log, and only its own connection closes.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rtmp::{Event, ServerSession, SessionError};
use segmenter::live::{LiveSegmenter, LiveSettings, Segment};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tracing::{debug, info, warn, Instrument};

use crate::farm::{Farm, FarmError, PublishRefusal, Publisher};

/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 64 * 1024;
/// The RTMP application publishers must use: `rtmp://host/live/KEY`.
const APP: &str = "live";
/// How long a refused client has to read why.
const LINGER: Duration = Duration::from_secs(2);

#[derive(Clone, Debug)]
pub struct IngestSettings {
    /// A handshake must finish, and a publisher must send something, within this.
    pub timeout: Duration,
    pub max_connections: usize,
    pub segments: LiveSettings,
}

fn unix_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Accepts connections until `shutdown` turns true.
pub struct Listener {
    pub listener: TcpListener,
    pub farm: Arc<Farm>,
    pub settings: IngestSettings,
    pub shutdown: watch::Receiver<bool>,
}

impl Listener {
    pub async fn run(mut self) {
        let limit = Arc::new(Semaphore::new(self.settings.max_connections));
        let mut backoff = Duration::from_millis(10);
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                _ = self.shutdown.wait_for(|stop| *stop) => return,
            };
            let (socket, remote) = match accepted {
                Ok(pair) => {
                    backoff = Duration::from_millis(10);
                    pair
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait, then retry.
                    warn!(error = %e, retry_ms = backoff.as_millis() as u64, "RTMP accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            };
            let Ok(permit) = limit.clone().try_acquire_owned() else {
                warn!(%remote, max = self.settings.max_connections, "too many RTMP connections; refused");
                drop(socket);
                continue;
            };
            let _ = socket.set_nodelay(true);
            let handler = Handler {
                farm: self.farm.clone(),
                settings: self.settings.clone(),
                connection: Connection::new(socket),
                shutdown: self.shutdown.clone(),
            };
            let span = tracing::info_span!("rtmp", %remote);
            tokio::spawn(
                async move {
                    handler.run().await;
                    drop(permit);
                }
                .instrument(span),
            );
        }
    }
}

/// Socket bytes in, RTMP events out.
struct Connection {
    socket: TcpStream,
    session: ServerSession,
    buf: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("nothing received for {0} s")]
    Timeout(u64),
    #[error("the connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Protocol(#[from] SessionError),
}

impl Connection {
    fn new(socket: TcpStream) -> Self {
        Self { socket, session: ServerSession::new(), buf: vec![0; READ_CHUNK] }
    }

    /// The events in the next bytes received; `None` once the peer closed.
    async fn read_events(&mut self, timeout: Duration) -> Result<Option<Vec<Event>>, ReadError> {
        let n = match tokio::time::timeout(timeout, self.socket.read(&mut self.buf)).await {
            Err(_) => return Err(ReadError::Timeout(timeout.as_secs())),
            Ok(read) => read?,
        };
        if n == 0 {
            return Ok(None);
        }
        let events = self.session.feed(&self.buf[..n])?;
        self.flush().await?;
        Ok(Some(events))
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        let out = self.session.take_output();
        if !out.is_empty() {
            self.socket.write_all(&out).await?;
        }
        Ok(())
    }

    /// Tells the client why, and closes. A publisher reads what the server
    /// says between its writes, so the connection stays open (its input
    /// dropped) for up to [`LINGER`] or until the client hangs up: closed at
    /// once, the client would see a broken pipe instead of the reason.
    async fn refuse(mut self, code: &str, description: &str) {
        self.session.reject(code, description);
        let _ = tokio::time::timeout(LINGER, async {
            if self.flush().await.is_err() {
                return;
            }
            while let Ok(n) = self.socket.read(&mut self.buf).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
        let _ = self.socket.shutdown().await;
    }
}

/// One connection, from handshake to close.
struct Handler {
    farm: Arc<Farm>,
    settings: IngestSettings,
    connection: Connection,
    shutdown: watch::Receiver<bool>,
}

/// A publish under way.
struct Broadcast {
    publisher: Publisher,
    segmenter: LiveSegmenter,
    ladder_set: bool,
    /// When the segment being built got its first frame (Unix ms).
    segment_started: Option<i64>,
}

/// How a connection ended, for the log and the broadcast's record.
enum End {
    /// The client closed, or said it stopped publishing.
    Clean,
    /// The farm or the server ended it: tell the client this.
    Refused { code: &'static str, reason: String },
    /// The connection failed; nobody left to tell.
    Broken(String),
}

impl Handler {
    async fn run(mut self) {
        let mut broadcast: Option<Broadcast> = None;
        let end = self.serve(&mut broadcast).await;
        if let Some(b) = broadcast {
            // What the publisher sent before it left is kept, unless the
            // stream itself was at fault.
            let (keep_last, error) = match &end {
                End::Clean => (true, None),
                End::Refused { code, reason } => (*code != STREAM_FAULT, Some(reason.as_str())),
                End::Broken(reason) => (true, Some(reason.as_str())),
            };
            self.finish_broadcast(b, keep_last, error).await;
        }
        match end {
            End::Clean => info!("connection closed"),
            End::Broken(reason) => info!(%reason, "connection ended"),
            End::Refused { code, reason } => {
                warn!(code, %reason, "refused");
                self.connection.refuse(code, &reason).await;
            }
        }
    }

    /// Ends a broadcast: its last segment (when `keep_last`) is stored, and
    /// the farm records the end, with the reason when it was not clean.
    async fn finish_broadcast(&self, mut b: Broadcast, keep_last: bool, error: Option<&str>) {
        if keep_last {
            if let Some(last) = b.segmenter.finish() {
                if let Err(e) = self.add_segment(&mut b, last).await {
                    warn!(error = %e, "cannot store the broadcast's last segment");
                }
            }
        }
        let farm = self.farm.clone();
        let error = error.map(str::to_owned);
        let result =
            tokio::task::spawn_blocking(move || farm.end_broadcast(&b.publisher, error.as_deref()))
                .await;
        if let Ok(Err(e)) = result {
            warn!(error = %e, "cannot record the end of the broadcast");
        }
    }

    async fn serve(&mut self, broadcast: &mut Option<Broadcast>) -> End {
        let timeout = self.settings.timeout;
        loop {
            let kicked = async {
                match broadcast.as_mut() {
                    Some(b) => {
                        let _ = b.publisher.kicked.changed().await;
                        b.publisher.kicked.borrow().clone()
                    }
                    None => std::future::pending().await,
                }
            };
            let events = tokio::select! {
                events = self.connection.read_events(timeout) => events,
                reason = kicked => {
                    let reason = reason.unwrap_or_else(|| "stopped by the farm".to_owned());
                    return End::Refused { code: "NetStream.Publish.Stopped", reason };
                }
                _ = self.shutdown.wait_for(|stop| *stop) => {
                    return End::Refused {
                        code: "NetStream.Publish.Stopped",
                        reason: "the orchestrator is shutting down".into(),
                    };
                }
            };
            let events = match events {
                Ok(Some(events)) => events,
                Ok(None) => return End::Clean,
                Err(ReadError::Timeout(s)) if !self.connection.session.handshake_done() => {
                    return End::Broken(format!("the handshake stalled for {s} s"));
                }
                Err(ReadError::Timeout(s)) if broadcast.is_some() => {
                    return End::Refused {
                        code: "NetStream.Publish.Stopped",
                        reason: format!("no data for {s} s: the publisher stalled"),
                    };
                }
                Err(ReadError::Timeout(s)) => {
                    return End::Broken(format!("idle for {s} s without publishing"));
                }
                Err(ReadError::Io(e)) => return End::Broken(e.to_string()),
                Err(ReadError::Protocol(e)) => {
                    return End::Broken(format!("not speaking RTMP properly: {e}"));
                }
            };
            for event in events {
                if let Some(end) = self.on_event(event, broadcast).await {
                    return end;
                }
            }
            if let Err(e) = self.connection.flush().await {
                return End::Broken(e.to_string());
            }
        }
    }

    async fn on_event(&mut self, event: Event, broadcast: &mut Option<Broadcast>) -> Option<End> {
        match event {
            Event::ConnectRequested { app, tc_url } => {
                if app != APP {
                    return Some(End::Refused {
                        code: "NetConnection.Connect.Rejected",
                        reason: format!(
                            "unknown application {app:?}: publish to rtmp://HOST:PORT/{APP}/STREAM_KEY"
                        ),
                    });
                }
                debug!(?tc_url, "connect");
                self.connection.session.accept_connect();
            }
            Event::PublishRequested { stream_key } => {
                let farm = self.farm.clone();
                let claimed =
                    tokio::task::spawn_blocking(move || farm.claim_publisher(&stream_key)).await;
                match claimed {
                    Ok(Ok(Ok(publisher))) => {
                        info!(stream = %publisher.stream.name, broadcast = %publisher.broadcast, "publishing");
                        self.connection.session.accept_publish();
                        *broadcast = Some(Broadcast {
                            publisher,
                            segmenter: LiveSegmenter::new(self.settings.segments.clone()),
                            ladder_set: false,
                            segment_started: None,
                        });
                    }
                    Ok(Ok(Err(PublishRefusal::UnknownKey))) => {
                        return Some(End::Refused {
                            code: "NetStream.Publish.BadName",
                            reason: "unknown stream key: create a stream with `mosaic streams add NAME` \
                                     and publish with the key it prints"
                                .into(),
                        });
                    }
                    Ok(Ok(Err(PublishRefusal::AlreadyLive(name)))) => {
                        return Some(End::Refused {
                            code: "NetStream.Publish.BadName",
                            reason: format!("stream {name} is already being published"),
                        });
                    }
                    Ok(Err(e)) => return Some(internal(e)),
                    Err(e) => return Some(End::Broken(format!("the farm call panicked: {e}"))),
                }
            }
            Event::Metadata(meta) => debug!(%meta, "stream metadata"),
            Event::Video { timestamp, data } => {
                let b = broadcast.as_mut()?;
                let result = b.segmenter.push_video(timestamp, &data);
                match result {
                    Err(e) => return Some(stream_fault(e)),
                    Ok(done) => {
                        let opened = b.segment_started.is_none() && b.segmenter.has_open_segment();
                        if opened {
                            b.segment_started = Some(unix_ms());
                        }
                        if let Some(segment) = done {
                            if let Err(e) = self.add_segment(b, segment).await {
                                return Some(internal(e));
                            }
                            // The keyframe that ended it began the next.
                            b.segment_started = Some(unix_ms());
                        }
                    }
                }
            }
            Event::Audio { timestamp, data } => {
                let b = broadcast.as_mut()?;
                if let Err(e) = b.segmenter.push_audio(timestamp, &data) {
                    return Some(stream_fault(e));
                }
            }
            // The publisher stopped; it closes the connection itself (and
            // may publish again on it), so the connection stays open.
            Event::Unpublished => {
                if let Some(b) = broadcast.take() {
                    self.finish_broadcast(b, true, None).await;
                }
            }
            Event::Refused { command } => {
                return Some(End::Refused {
                    code: "NetStream.Play.Failed",
                    reason: format!(
                        "{command}: this server takes publishing only; play the stream over HLS"
                    ),
                });
            }
        }
        None
    }

    async fn add_segment(&self, b: &mut Broadcast, segment: Segment) -> Result<(), FarmError> {
        let cut_at = unix_ms();
        let started = b.segment_started.unwrap_or(cut_at);
        let (farm, id) = (self.farm.clone(), b.publisher.broadcast);
        let source = if b.ladder_set { None } else { b.segmenter.source() };
        b.ladder_set = true;
        let sequence = segment.sequence;
        let stored = tokio::task::spawn_blocking(move || {
            if let Some(source) = source {
                farm.set_source(id, &source)?;
            }
            farm.add_segment(id, &segment, started, cut_at)
        })
        .await
        .map_err(|e| FarmError::Invalid(format!("storing a segment panicked: {e}")))?;
        stored?;
        debug!(broadcast = %id, sequence, "segment stored");
        Ok(())
    }
}

/// The status code of a stream that is itself at fault (a codec we do not
/// take, no keyframes): what it sent last is not kept.
const STREAM_FAULT: &str = "NetStream.Publish.Failed";

/// The stream is at fault: it is told why and cut off.
fn stream_fault(e: segmenter::live::SegmenterError) -> End {
    End::Refused { code: STREAM_FAULT, reason: e.to_string() }
}

fn internal(e: FarmError) -> End {
    tracing::error!(error = %e, "the farm failed during a publish");
    End::Refused {
        code: "NetStream.Publish.Error",
        reason: "internal error in the orchestrator".into(),
    }
}
