//! The worker's libp2p side: one task owns the [`Swarm`], keeps a connection
//! to the orchestrator (dialling again with back-off whenever it is down),
//! and carries requests for the rest of the worker, which holds a cheap
//! [`Client`] (the layout of rust-libp2p's file-sharing example).
//!
//! The worker only dials and never listens: every exchange is a request it
//! starts, so it needs no open port. Nothing here knows what a task is.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundFailure, OutboundRequestId};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::SwarmEvent;
use libp2p::{identify, Multiaddr, PeerId, Swarm};
use protocol::wire::{OrchestratorResponse, WorkerRequest};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::{debug, info, warn};

pub use mosaic_p2p::{build_swarm, WorkBehaviour, WorkBehaviourEvent, REQUEST_TIMEOUT};

/// The first wait before dialling again after a failed dial or a lost
/// connection; it doubles per failure up to [`MAX_REDIAL_DELAY`].
pub const FIRST_REDIAL_DELAY: Duration = Duration::from_millis(250);
pub const MAX_REDIAL_DELAY: Duration = Duration::from_secs(4);

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error(transparent)]
    Transport(#[from] mosaic_p2p::TransportError),
    #[error(transparent)]
    Address(#[from] AddressError),
}

#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error(
        "orchestrator address {0} does not end in /p2p/<peer id>; use the full address the \
         orchestrator logs and writes to its p2p.addr, e.g. /ip4/10.0.0.5/tcp/4001/p2p/12D3KooW..."
    )]
    NoPeerId(Multiaddr),
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("not connected to the orchestrator")]
    NotConnected,
    #[error("the connection to the orchestrator closed before it answered")]
    ConnectionLost,
    #[error("the orchestrator did not answer within {}s", REQUEST_TIMEOUT.as_secs())]
    Timeout,
    #[error("request to the orchestrator failed: {0}")]
    Protocol(String),
    #[error("the worker's network task has stopped")]
    Stopped,
}

/// Whether the worker is connected to the orchestrator. Each new connection
/// gets a new generation, so a task can tell that the connection it started
/// on is gone even if another one came up since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Down,
    Up { generation: u64 },
}

/// The peer id at the end of an orchestrator address (`.../p2p/<peer id>`).
pub fn orchestrator_peer(address: &Multiaddr) -> Result<PeerId, AddressError> {
    match address.iter().last() {
        Some(Protocol::P2p(peer)) => Ok(peer),
        _ => Err(AddressError::NoPeerId(address.clone())),
    }
}

/// The rest of the worker's handle on the network. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    link: watch::Receiver<Link>,
    local_peer: PeerId,
}

enum Command {
    Request {
        request: WorkerRequest,
        reply: oneshot::Sender<Result<OrchestratorResponse, RequestError>>,
    },
}

impl Client {
    /// Sends one request and waits for its answer. Fails at once when not
    /// connected: the caller decides what to abandon, the network task
    /// decides when to dial.
    pub async fn request(
        &self,
        request: WorkerRequest,
    ) -> Result<OrchestratorResponse, RequestError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Request { request, reply })
            .await
            .map_err(|_| RequestError::Stopped)?;
        answer.await.map_err(|_| RequestError::Stopped)?
    }

    pub fn link(&self) -> Link {
        *self.link.borrow()
    }

    pub fn local_peer(&self) -> PeerId {
        self.local_peer
    }

    /// Waits until connected and returns the connection's generation.
    pub async fn connected(&self) -> Result<u64, RequestError> {
        let mut link = self.link.clone();
        let up = link
            .wait_for(|l| matches!(l, Link::Up { .. }))
            .await
            .map_err(|_| RequestError::Stopped)?;
        match *up {
            Link::Up { generation } => Ok(generation),
            Link::Down => unreachable!("wait_for returned a link that is down"),
        }
    }

    /// Resolves once the connection of `generation` is gone (or the network
    /// task stopped).
    pub async fn link_lost(&self, generation: u64) {
        let mut link = self.link.clone();
        let _ = link.wait_for(|l| *l != Link::Up { generation }).await;
    }
}

/// Starts the network task for a worker with `keypair` that serves the
/// orchestrator at `orchestrator` (which must end in `/p2p/<peer id>`).
/// The task dials at once and keeps the connection up for as long as a
/// [`Client`] is alive.
pub fn spawn(keypair: Keypair, orchestrator: Multiaddr) -> Result<Client, NetworkError> {
    let orchestrator_id = orchestrator_peer(&orchestrator)?;
    let local_peer = keypair.public().to_peer_id();
    let swarm = build_swarm(keypair, format!("mosaic-worker/{}", env!("CARGO_PKG_VERSION")))?;
    let (commands_tx, commands_rx) = mpsc::channel(64);
    let (link_tx, link_rx) = watch::channel(Link::Down);
    let event_loop = EventLoop {
        swarm,
        orchestrator: orchestrator_id,
        address: orchestrator,
        commands: commands_rx,
        link: link_tx,
        pending: HashMap::new(),
        generation: 0,
        redial_delay: FIRST_REDIAL_DELAY,
        redial_at: None,
    };
    tokio::spawn(event_loop.run());
    Ok(Client { commands: commands_tx, link: link_rx, local_peer })
}

type Reply = oneshot::Sender<Result<OrchestratorResponse, RequestError>>;

struct EventLoop {
    swarm: Swarm<WorkBehaviour>,
    orchestrator: PeerId,
    address: Multiaddr,
    commands: mpsc::Receiver<Command>,
    link: watch::Sender<Link>,
    pending: HashMap<OutboundRequestId, Reply>,
    generation: u64,
    redial_delay: Duration,
    /// When to dial next; `None` while connected or dialling.
    redial_at: Option<Instant>,
}

impl EventLoop {
    async fn run(mut self) {
        info!(orchestrator = %self.address, "connecting to the orchestrator");
        self.dial();
        loop {
            let redial_at = self.redial_at;
            let redial = async move {
                match redial_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    // Every client is gone: the worker is shutting down.
                    None => return,
                },
                () = redial => {
                    self.redial_at = None;
                    self.dial();
                }
            }
        }
    }

    fn dial(&mut self) {
        let opts =
            DialOpts::peer_id(self.orchestrator).addresses(vec![self.address.clone()]).build();
        if let Err(error) = self.swarm.dial(opts) {
            debug!(%error, "dial refused");
            self.schedule_redial();
        }
    }

    fn schedule_redial(&mut self) {
        self.redial_at = Some(Instant::now() + self.redial_delay);
        self.redial_delay = (self.redial_delay * 2).min(MAX_REDIAL_DELAY);
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Request { request, reply } => {
                if !self.swarm.is_connected(&self.orchestrator) {
                    let _ = reply.send(Err(RequestError::NotConnected));
                    return;
                }
                let id = self.swarm.behaviour_mut().work.send_request(&self.orchestrator, request);
                self.pending.insert(id, reply);
            }
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<WorkBehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, endpoint, num_established, .. }
                if peer_id == self.orchestrator && num_established.get() == 1 =>
            {
                self.generation += 1;
                self.redial_delay = FIRST_REDIAL_DELAY;
                self.redial_at = None;
                info!(
                    orchestrator = %endpoint.get_remote_address(),
                    generation = self.generation,
                    "connected to the orchestrator"
                );
                self.link.send_replace(Link::Up { generation: self.generation });
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established, cause, .. }
                if peer_id == self.orchestrator && num_established == 0 =>
            {
                let cause = cause.map(|c| c.to_string()).unwrap_or_else(|| "closed".to_owned());
                warn!(%cause, "lost the connection to the orchestrator; reconnecting");
                self.link.send_replace(Link::Down);
                // Reconnect quickly after a drop: the orchestrator may just
                // have restarted.
                self.redial_delay = FIRST_REDIAL_DELAY;
                self.schedule_redial();
            }
            // Only dials to the orchestrator happen; a failed one while
            // another connection is up needs no retry.
            SwarmEvent::OutgoingConnectionError { error, .. }
                if !self.swarm.is_connected(&self.orchestrator) =>
            {
                warn!(
                    %error,
                    retry_in_ms = self.redial_delay.as_millis() as u64,
                    "cannot reach the orchestrator"
                );
                self.schedule_redial();
            }
            SwarmEvent::Behaviour(WorkBehaviourEvent::Work(event)) => self.on_work_event(event),
            SwarmEvent::Behaviour(WorkBehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                debug!(peer = %peer_id, agent = %info.agent_version, "identified");
            }
            _ => {}
        }
    }

    fn on_work_event(
        &mut self,
        event: request_response::Event<WorkerRequest, OrchestratorResponse>,
    ) {
        match event {
            request_response::Event::Message {
                message: request_response::Message::Response { request_id, response },
                ..
            } => {
                if let Some(reply) = self.pending.remove(&request_id) {
                    let _ = reply.send(Ok(response));
                }
            }
            request_response::Event::Message {
                peer,
                message: request_response::Message::Request { .. },
                ..
            } => {
                // Workers answer no requests; dropping the channel tells
                // the sender so.
                debug!(%peer, "ignored a request sent to a worker");
            }
            request_response::Event::OutboundFailure { request_id, error, .. } => {
                let error = match error {
                    OutboundFailure::ConnectionClosed | OutboundFailure::DialFailure => {
                        RequestError::ConnectionLost
                    }
                    OutboundFailure::Timeout => RequestError::Timeout,
                    other => RequestError::Protocol(other.to_string()),
                };
                if let Some(reply) = self.pending.remove(&request_id) {
                    let _ = reply.send(Err(error));
                }
            }
            request_response::Event::InboundFailure { .. }
            | request_response::Event::ResponseSent { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orchestrator_address_must_name_the_peer() {
        let peer = Keypair::generate_ed25519().public().to_peer_id();
        let full: Multiaddr = format!("/ip4/127.0.0.1/tcp/4001/p2p/{peer}").parse().unwrap();
        assert_eq!(orchestrator_peer(&full).unwrap(), peer);

        let bare: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
        let err = orchestrator_peer(&bare).unwrap_err();
        assert!(err.to_string().contains("/p2p/<peer id>"), "{err}");

        // The peer id must come last, not somewhere in the middle.
        let middle: Multiaddr = format!("/p2p/{peer}/ip4/127.0.0.1/tcp/4001").parse().unwrap();
        assert!(orchestrator_peer(&middle).is_err());
    }

    #[tokio::test]
    async fn a_request_while_down_fails_at_once() {
        // Nothing listens on port 1: the dial fails, the link stays down.
        let peer = Keypair::generate_ed25519().public().to_peer_id();
        let address: Multiaddr = format!("/ip4/127.0.0.1/tcp/1/p2p/{peer}").parse().unwrap();
        let client = spawn(Keypair::generate_ed25519(), address).unwrap();
        assert_eq!(client.link(), Link::Down);
        let answer =
            client.request(WorkerRequest::NextTask { lane: protocol::wire::Lane::Render }).await;
        assert_eq!(answer, Err(RequestError::NotConnected));
    }
}
