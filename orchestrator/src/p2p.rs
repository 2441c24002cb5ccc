//! The orchestrator's libp2p host: where workers connect, say hello, take
//! tasks, renew leases, fetch scenes and upload frames.
//!
//! One event loop task owns the [`Swarm`]; it never touches disk or SQLite.
//! Each inbound request is answered by a [`Farm`] call on a blocking thread,
//! and the answer comes back to the loop through a channel to be sent (the
//! layout of rust-libp2p's file-sharing example). Every exchange is started
//! by a worker, so this side only listens.

use std::sync::Arc;

use anyhow::Context;
use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{identify, Multiaddr, PeerId, Swarm};
use protocol::wire::{OrchestratorResponse, WorkerRequest};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::farm::{Farm, Renewal};
use mosaic_p2p::{WorkBehaviour, WorkBehaviourEvent};

/// When there is no work, how long a worker waits before asking again.
const NO_TASK_RETRY_MS: u64 = 500;

/// An answer computed off the event loop, on its way back to be sent.
struct Answer {
    peer: PeerId,
    channel: ResponseChannel<OrchestratorResponse>,
    response: OrchestratorResponse,
}

/// Runs the host until the process ends. Sends the first address it listens
/// on, with `/p2p/<peer id>` appended, through `listening`.
pub async fn run(
    farm: Arc<Farm>,
    keypair: Keypair,
    listen: Multiaddr,
    listening: oneshot::Sender<Multiaddr>,
) -> anyhow::Result<()> {
    let mut swarm = build_swarm(keypair)?;
    let local_peer = *swarm.local_peer_id();
    swarm.listen_on(listen.clone()).with_context(|| format!("cannot listen on {listen}"))?;
    info!(peer = %local_peer, "p2p host started");

    let (answers_tx, mut answers_rx) = mpsc::channel::<Answer>(256);
    let mut listening = Some(listening);

    loop {
        tokio::select! {
            event = swarm.select_next_some() => match event {
                SwarmEvent::NewListenAddr { address, .. } => {
                    let full = address.with(Protocol::P2p(local_peer));
                    info!(address = %full, "p2p listening");
                    if let Some(tx) = listening.take() {
                        let _ = tx.send(full);
                    }
                }
                SwarmEvent::ConnectionEstablished { peer_id, endpoint, num_established, .. } => {
                    info!(
                        worker = %peer_id,
                        remote = %endpoint.get_remote_address(),
                        connections = num_established.get(),
                        "worker connected"
                    );
                }
                SwarmEvent::ConnectionClosed { peer_id, num_established, cause, .. } => {
                    let cause = cause.map(|c| c.to_string());
                    info!(worker = %peer_id, connections = num_established, ?cause, "worker connection closed");
                    if num_established == 0 {
                        let farm = farm.clone();
                        tokio::task::spawn_blocking(move || {
                            farm.worker_disconnected(&peer_id.to_string())
                        });
                    }
                }
                SwarmEvent::IncomingConnectionError { send_back_addr, error, .. } => {
                    debug!(remote = %send_back_addr, %error, "incoming connection failed");
                }
                SwarmEvent::ListenerClosed { addresses, reason, .. } => {
                    warn!(?addresses, ?reason, "p2p listener closed");
                }
                SwarmEvent::ListenerError { error, .. } => warn!(%error, "p2p listener error"),
                SwarmEvent::Behaviour(WorkBehaviourEvent::Work(event)) => {
                    on_work_event(event, &farm, &answers_tx);
                }
                SwarmEvent::Behaviour(WorkBehaviourEvent::Identify(identify::Event::Received {
                    peer_id,
                    info,
                    ..
                })) => {
                    debug!(worker = %peer_id, agent = %info.agent_version, "identified");
                }
                _ => {}
            },
            Some(answer) = answers_rx.recv() => {
                let undelivered = swarm.behaviour_mut().work.send_response(answer.channel, answer.response);
                if let Err(response) = undelivered {
                    debug!(worker = %answer.peer, "worker gone before its answer was sent");
                    // A task handed to a worker that can no longer hear about
                    // it would sit leased until expiry: give it back now.
                    if matches!(response, OrchestratorResponse::Task(_))
                        && !swarm.is_connected(&answer.peer)
                    {
                        let farm = farm.clone();
                        let peer = answer.peer.to_string();
                        tokio::task::spawn_blocking(move || farm.worker_disconnected(&peer));
                    }
                }
            }
        }
    }
}

fn build_swarm(keypair: Keypair) -> anyhow::Result<Swarm<WorkBehaviour>> {
    let agent = format!("mosaic-orchestrator/{}", env!("CARGO_PKG_VERSION"));
    Ok(mosaic_p2p::build_swarm(keypair, agent)?)
}

fn on_work_event(
    event: request_response::Event<WorkerRequest, OrchestratorResponse>,
    farm: &Arc<Farm>,
    answers: &mpsc::Sender<Answer>,
) {
    match event {
        request_response::Event::Message {
            peer,
            message: request_response::Message::Request { request, channel, .. },
            ..
        } => {
            let farm = farm.clone();
            let answers = answers.clone();
            tokio::spawn(async move {
                let worker = peer.to_string();
                let response = tokio::task::spawn_blocking(move || answer(&farm, &worker, request))
                    .await
                    .unwrap_or_else(|e| {
                        warn!(worker = %peer, error = %e, "request handler panicked");
                        OrchestratorResponse::Rejected {
                            reason: "internal error in the orchestrator".to_owned(),
                        }
                    });
                // The loop only stops with the process, so this cannot fail
                // in practice; if it does, the worker's request times out.
                let _ = answers.send(Answer { peer, channel, response }).await;
            });
        }
        request_response::Event::Message {
            message: request_response::Message::Response { .. },
            ..
        } => {
            // The orchestrator never sends requests.
        }
        request_response::Event::InboundFailure { peer, error, .. } => {
            debug!(worker = %peer, %error, "inbound request failed");
        }
        request_response::Event::OutboundFailure { peer, error, .. } => {
            debug!(worker = %peer, %error, "outbound request failed");
        }
        request_response::Event::ResponseSent { .. } => {}
    }
}

/// The Farm call for one request. Runs on a blocking thread: it may touch
/// SQLite and the blob store.
fn answer(farm: &Farm, worker: &str, request: WorkerRequest) -> OrchestratorResponse {
    let kind = request_kind(&request);
    let result = match request {
        WorkerRequest::Hello { capabilities } => {
            debug!(
                worker,
                version = %capabilities.version,
                cores = capabilities.cpu_cores,
                threads = capabilities.threads,
                backends = ?capabilities.render_backends,
                "worker hello"
            );
            farm.worker_hello(worker, capabilities).map(|()| OrchestratorResponse::Welcome {
                orchestrator_version: env!("CARGO_PKG_VERSION").to_owned(),
            })
        }
        WorkerRequest::Announce { capabilities } => {
            farm.worker_announce(worker, capabilities).map(|()| OrchestratorResponse::Accepted)
        }
        WorkerRequest::NextTask { lane } => match farm.next_task(worker, lane) {
            Ok(Some(task)) => Ok(OrchestratorResponse::Task(task)),
            // Say why when it is not just an empty queue.
            Ok(None) => farm.work_refusal(worker).map(|reason| OrchestratorResponse::NoTask {
                retry_after_ms: NO_TASK_RETRY_MS,
                reason,
            }),
            Err(e) => Err(e),
        },
        WorkerRequest::Renew { lease } => farm.renew(worker, lease).map(|renewal| match renewal {
            Renewal::Renewed => OrchestratorResponse::LeaseRenewed,
            Renewal::Lost(reason) => OrchestratorResponse::LeaseLost { reason },
        }),
        WorkerRequest::FetchBlob { cid, offset } => farm
            .read_blob(&cid, offset)
            .map(|(total, data)| OrchestratorResponse::BlobChunk { total, data }),
        WorkerRequest::UploadChunk { lease, output, offset, data, last } => farm
            .upload_chunk(worker, lease, output, offset, &data, last)
            .map(|cid| OrchestratorResponse::ChunkStored { cid }),
        WorkerRequest::Complete { lease, outputs, engine, signature } => farm
            .complete(worker, lease, outputs, engine.as_deref(), &signature)
            .map(|verdict| match verdict {
                Ok(()) => OrchestratorResponse::Accepted,
                Err(reason) => OrchestratorResponse::Rejected { reason },
            }),
        WorkerRequest::Fail { lease, reason, device_failure: false } => {
            farm.fail(worker, lease, &reason).map(|()| OrchestratorResponse::Accepted)
        }
        WorkerRequest::Fail { lease, reason, device_failure: true } => {
            farm.hand_back(worker, lease, &reason).map(|()| OrchestratorResponse::Accepted)
        }
    };
    result.unwrap_or_else(|e| {
        let reason = e.to_string();
        debug!(worker, request = kind, %reason, "request rejected");
        OrchestratorResponse::Rejected { reason }
    })
}

fn request_kind(request: &WorkerRequest) -> &'static str {
    match request {
        WorkerRequest::Hello { .. } => "hello",
        WorkerRequest::Announce { .. } => "announce",
        WorkerRequest::NextTask { .. } => "next-task",
        WorkerRequest::Renew { .. } => "renew",
        WorkerRequest::FetchBlob { .. } => "fetch-blob",
        WorkerRequest::UploadChunk { .. } => "upload-chunk",
        WorkerRequest::Complete { .. } => "complete",
        WorkerRequest::Fail { .. } => "fail",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::farm::FarmSettings;
    use protocol::api::JobRequest;
    use protocol::wire::{Lane, TaskAssignment, Work};
    use protocol::{ContentId, LeaseId, RenderSettings};

    fn settings() -> FarmSettings {
        FarmSettings {
            lease_seconds: 30,
            max_scene_bytes: 64 << 20,
            max_task_failures: 3,
            worker_job_failures_to_blocklist: 3,
            default_chunk: 1,
            live: FarmSettings::from(&crate::config::Config::default()).live,
            verify: crate::farm::verify::unchecked(),
        }
    }

    fn cpu_worker() -> protocol::wire::Capabilities {
        protocol::wire::Capabilities {
            render_backends: vec!["cpu".to_owned()],
            ..Default::default()
        }
    }

    /// A stand-in worker: the host's own swarm stack, dialled in.
    struct TestWorker {
        swarm: Swarm<WorkBehaviour>,
        host: PeerId,
    }

    impl TestWorker {
        async fn connect(address: &Multiaddr) -> TestWorker {
            let mut swarm = build_swarm(Keypair::generate_ed25519()).unwrap();
            let Some(Protocol::P2p(host)) = address.iter().last() else {
                panic!("{address} does not end in /p2p/");
            };
            swarm.dial(address.clone()).unwrap();
            loop {
                match swarm.select_next_some().await {
                    SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == host => break,
                    SwarmEvent::OutgoingConnectionError { error, .. } => panic!("dial: {error}"),
                    _ => {}
                }
            }
            TestWorker { swarm, host }
        }

        fn peer(&self) -> String {
            self.swarm.local_peer_id().to_string()
        }

        async fn ask(&mut self, request: WorkerRequest) -> OrchestratorResponse {
            let id = self.swarm.behaviour_mut().work.send_request(&self.host, request);
            let wait = async {
                loop {
                    if let SwarmEvent::Behaviour(WorkBehaviourEvent::Work(event)) =
                        self.swarm.select_next_some().await
                    {
                        match event {
                            request_response::Event::Message {
                                message:
                                    request_response::Message::Response { request_id, response },
                                ..
                            } if request_id == id => return response,
                            request_response::Event::OutboundFailure {
                                request_id, error, ..
                            } if request_id == id => {
                                panic!("request failed: {error}")
                            }
                            _ => {}
                        }
                    }
                }
            };
            tokio::time::timeout(Duration::from_secs(20), wait).await.expect("no answer in 20 s")
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_worker_is_served_and_its_task_requeued_when_it_vanishes() {
        let dir = tempfile::tempdir().unwrap();
        let farm = Arc::new(Farm::open(dir.path(), settings()).unwrap());
        let (tx, rx) = oneshot::channel();
        let listen: Multiaddr = "/ip4/127.0.0.1/tcp/0".parse().unwrap();
        tokio::spawn(run(farm.clone(), Keypair::generate_ed25519(), listen, tx));
        let address = rx.await.unwrap();

        let mut worker = TestWorker::connect(&address).await;
        let hello = WorkerRequest::Hello { capabilities: cpu_worker() };
        assert!(matches!(worker.ask(hello).await, OrchestratorResponse::Welcome { .. }));
        let announce = WorkerRequest::Announce { capabilities: cpu_worker() };
        assert_eq!(worker.ask(announce).await, OrchestratorResponse::Accepted);
        assert_eq!(
            worker.ask(WorkerRequest::NextTask { lane: Lane::Render }).await,
            OrchestratorResponse::NoTask { retry_after_ms: NO_TASK_RETRY_MS, reason: None }
        );
        let unknown = WorkerRequest::FetchBlob { cid: ContentId::of(b"nothing"), offset: 0 };
        assert!(matches!(worker.ask(unknown).await, OrchestratorResponse::Rejected { .. }));

        let scene = samples::cornell_box_animated();
        let info = farm.add_scene(&scene).unwrap();
        let job = JobRequest {
            scene: info.cid,
            name: "p2p test".to_owned(),
            frames: "1-2".parse().unwrap(),
            settings: RenderSettings { width: 16, height: 16, spp: 1, ..Default::default() },
            chunk: 1,
            priority: 0,
        };
        farm.create_job(&job).unwrap();

        let next = WorkerRequest::NextTask { lane: Lane::Render };
        let OrchestratorResponse::Task(task) = worker.ask(next).await else {
            panic!("expected a task");
        };
        let Work::Render(work) = &task.work else { panic!("expected a render task") };
        assert_eq!(work.scene, info.cid);
        let fetch = WorkerRequest::FetchBlob { cid: work.scene, offset: 0 };
        let OrchestratorResponse::BlobChunk { total, data } = worker.ask(fetch).await else {
            panic!("expected a blob chunk");
        };
        assert_eq!(total, scene.len() as u64);
        assert_eq!(data, scene[..data.len()]);
        assert_eq!(
            worker.ask(WorkerRequest::Renew { lease: task.lease }).await,
            OrchestratorResponse::LeaseRenewed
        );
        let stranger = WorkerRequest::Renew { lease: LeaseId(task.lease.0 + 1000) };
        assert!(matches!(worker.ask(stranger).await, OrchestratorResponse::LeaseLost { .. }));

        // The worker vanishes mid-task: its task is handed to the next one
        // at once, not after the 30 s lease.
        let gone = worker.peer();
        drop(worker);
        let mut next = TestWorker::connect(&address).await;
        let hello = WorkerRequest::Hello { capabilities: cpu_worker() };
        next.ask(hello).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut tasks = Vec::new();
        while tasks.len() < 2 && tokio::time::Instant::now() < deadline {
            match next.ask(WorkerRequest::NextTask { lane: Lane::Render }).await {
                OrchestratorResponse::Task(TaskAssignment { work: Work::Render(w), .. }) => {
                    tasks.push(w.task)
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        assert!(tasks.contains(&work.task), "the vanished worker's task was not requeued");
        let workers = farm.workers().unwrap();
        assert!(workers.iter().any(|w| w.peer_id == gone && !w.connected));

        // A report for a lease that is no longer ours is refused, not fatal.
        let late = WorkerRequest::Fail {
            lease: task.lease,
            reason: "late".to_owned(),
            device_failure: false,
        };
        assert!(matches!(next.ask(late).await, OrchestratorResponse::Rejected { .. }));
    }
}
