//! The libp2p stack between the orchestrator and its workers: TCP (nodelay),
//! Noise and Yamux, identify, and request-response carrying
//! [`protocol::wire`] messages as CBOR.
//!
//! Both binaries build their swarm here, so protocol names, message size
//! limits and timeouts are defined once. It only builds the swarm: listening,
//! dialling and the event loops belong to the binaries.

use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{identify, noise, tcp, yamux, StreamProtocol, Swarm};
use protocol::wire::{self, OrchestratorResponse, WorkerRequest};

/// The identify protocol name both sides announce.
pub const IDENTIFY_PROTOCOL: &str = "/mosaic/id/1.0.0";
/// How long a request may wait for its answer. Orchestrator calls are
/// quick; this only bounds a wedged disk or a dead peer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// A working connection carries a request at least every lease third or
/// every half second of polling, so this only closes a truly dead one.
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(120);

/// The behaviour both ends run.
#[derive(NetworkBehaviour)]
pub struct WorkBehaviour {
    pub identify: identify::Behaviour,
    pub work: request_response::cbor::Behaviour<WorkerRequest, OrchestratorResponse>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot set up the libp2p transport: {0}")]
pub struct TransportError(String);

/// A swarm with `keypair`'s identity, announcing `agent_version` (e.g.
/// `mosaic-worker/0.1.0`) through identify.
pub fn build_swarm(
    keypair: Keypair,
    agent_version: String,
) -> Result<Swarm<WorkBehaviour>, TransportError> {
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| TransportError(e.to_string()))?
        .with_behaviour(|key| {
            let identify = identify::Behaviour::new(
                identify::Config::new(IDENTIFY_PROTOCOL.to_owned(), key.public())
                    .with_agent_version(agent_version),
            );
            // A chunk of BLOB_CHUNK bytes plus framing must fit both ways.
            let codec = request_response::cbor::codec::Codec::default()
                .set_request_size_maximum(wire::MAX_MESSAGE)
                .set_response_size_maximum(wire::MAX_MESSAGE);
            let work = request_response::Behaviour::with_codec(
                codec,
                [(StreamProtocol::new(wire::PROTOCOL), ProtocolSupport::Full)],
                request_response::Config::default().with_request_timeout(REQUEST_TIMEOUT),
            );
            WorkBehaviour { identify, work }
        })
        .map_err(|e| TransportError(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT))
        .build();
    Ok(swarm)
}
