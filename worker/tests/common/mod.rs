//! A stand-in orchestrator for the worker's tests: a real libp2p swarm
//! (the worker's own `build_swarm`, so both ends speak the same stack over
//! TCP on 127.0.0.1) that answers each request with a closure and records
//! what it was asked.

#![allow(dead_code)] // each test file uses a different part

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::request_response;
use libp2p::swarm::SwarmEvent;
use libp2p::Multiaddr;
use mosaic_worker::network::{self, build_swarm, Client, WorkBehaviourEvent};
use protocol::wire::{OrchestratorResponse, WorkerRequest};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// An answer, sent at once or after a pause.
pub struct Reply {
    pub response: OrchestratorResponse,
    pub after: Duration,
}

impl Reply {
    pub fn now(response: OrchestratorResponse) -> Self {
        Self { response, after: Duration::ZERO }
    }

    pub fn after(response: OrchestratorResponse, after: Duration) -> Self {
        Self { response, after }
    }
}

pub struct Responder {
    /// The full address, ending in /p2p/<peer id>.
    pub address: Multiaddr,
    pub requests: Arc<Mutex<Vec<WorkerRequest>>>,
    task: JoinHandle<()>,
}

impl Responder {
    /// Listens on 127.0.0.1:`port` (0 for any) as `keypair`.
    pub async fn start(
        keypair: Keypair,
        port: u16,
        mut answer: impl FnMut(&WorkerRequest) -> Reply + Send + 'static,
    ) -> Responder {
        let mut swarm = build_swarm(keypair, "test-orchestrator/0".to_owned()).unwrap();
        let peer = *swarm.local_peer_id();
        swarm.listen_on(format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()).unwrap();
        let address = loop {
            if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
                break address.with(Protocol::P2p(peer));
            }
        };
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            let (delayed_tx, mut delayed_rx) = mpsc::unbounded_channel();
            loop {
                tokio::select! {
                    event = swarm.select_next_some() => {
                        let SwarmEvent::Behaviour(WorkBehaviourEvent::Work(
                            request_response::Event::Message {
                                message: request_response::Message::Request { request, channel, .. },
                                ..
                            },
                        )) = event
                        else {
                            continue;
                        };
                        let reply = answer(&request);
                        seen.lock().unwrap().push(request);
                        if reply.after.is_zero() {
                            let _ = swarm.behaviour_mut().work.send_response(channel, reply.response);
                        } else {
                            let delayed_tx = delayed_tx.clone();
                            tokio::spawn(async move {
                                tokio::time::sleep(reply.after).await;
                                let _ = delayed_tx.send((channel, reply.response));
                            });
                        }
                    }
                    Some((channel, response)) = delayed_rx.recv() => {
                        let _ = swarm.behaviour_mut().work.send_response(channel, response);
                    }
                }
            }
        });
        Responder { address, requests, task }
    }

    pub fn port(&self) -> u16 {
        self.address
            .iter()
            .find_map(|p| match p {
                Protocol::Tcp(port) => Some(port),
                _ => None,
            })
            .unwrap()
    }

    pub fn requests(&self) -> Vec<WorkerRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// Stops answering and closes every connection, like a killed process.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// A worker's network task connected to `responder`.
pub async fn connect(responder: &Responder) -> Client {
    let client = network::spawn(Keypair::generate_ed25519(), responder.address.clone()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), client.connected())
        .await
        .expect("the worker did not connect within 10 s")
        .unwrap();
    client
}

/// Deterministic bytes that are not all alike.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31) % 251) as u8).collect()
}
