//! The worker's network code against a real libp2p peer on 127.0.0.1:
//! chunked scene fetches, frame uploads, and reconnecting after the
//! orchestrator goes away.

mod common;

use std::time::Duration;

use common::{connect, pattern, Reply, Responder};
use libp2p::identity::Keypair;
use mosaic_worker::network::{Link, RequestError};
use mosaic_worker::runner::{upload_output, TaskError};
use mosaic_worker::scene_cache::{fetch_blob, FetchError, SceneCache, SceneCacheError};
use protocol::wire::{Lane, OrchestratorResponse, WorkerRequest, BLOB_CHUNK};
use protocol::{ContentId, LeaseId};

/// Answers `FetchBlob` from `blob`, like the orchestrator's blob store.
fn serve(blob: Vec<u8>) -> impl FnMut(&WorkerRequest) -> Reply + Send + 'static {
    move |request| match request {
        WorkerRequest::FetchBlob { offset, .. } => {
            let start = (*offset as usize).min(blob.len());
            let end = (start + BLOB_CHUNK).min(blob.len());
            Reply::now(OrchestratorResponse::BlobChunk {
                total: blob.len() as u64,
                data: blob[start..end].to_vec(),
            })
        }
        other => panic!("unexpected request {other:?}"),
    }
}

fn fetch_offsets(requests: &[WorkerRequest]) -> Vec<u64> {
    requests
        .iter()
        .filter_map(|r| match r {
            WorkerRequest::FetchBlob { offset, .. } => Some(*offset),
            _ => None,
        })
        .collect()
}

fn limits() -> renderer::Limits {
    renderer::Limits::default()
}

#[tokio::test]
async fn scene_fetch_reassembles_chunks_verifies_and_caches() {
    let scene = pattern(2 * BLOB_CHUNK + 1000);
    let cid = ContentId::of(&scene);
    let responder = Responder::start(Keypair::generate_ed25519(), 0, serve(scene.clone())).await;
    let client = connect(&responder).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = SceneCache::new(dir.path().join("scenes"), limits());

    let bytes = cache.scene_bytes(&client, cid).await.unwrap();
    assert_eq!(bytes, scene);
    let chunk = BLOB_CHUNK as u64;
    assert_eq!(fetch_offsets(&responder.requests()), vec![0, chunk, 2 * chunk]);
    let path = dir.path().join("scenes").join(format!("{cid}.glb"));
    assert_eq!(std::fs::read(&path).unwrap(), scene);
    assert!(!dir.path().join("scenes").join(format!("{cid}.glb.part")).exists());

    // Cached: no more requests.
    assert_eq!(cache.scene_bytes(&client, cid).await.unwrap(), scene);
    assert_eq!(responder.requests().len(), 3);

    // A damaged cache entry is not trusted: it is fetched again.
    std::fs::write(&path, b"bit rot").unwrap();
    assert_eq!(cache.scene_bytes(&client, cid).await.unwrap(), scene);
    assert_eq!(responder.requests().len(), 6);
    assert_eq!(std::fs::read(&path).unwrap(), scene);
}

#[tokio::test]
async fn a_scene_whose_bytes_do_not_hash_to_its_cid_is_refused() {
    let asked = ContentId::of(b"the scene we asked for");
    let responder =
        Responder::start(Keypair::generate_ed25519(), 0, serve(pattern(BLOB_CHUNK + 7))).await;
    let client = connect(&responder).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = SceneCache::new(dir.path().join("scenes"), limits());

    let err = cache.scene_bytes(&client, asked).await.unwrap_err();
    assert!(
        matches!(err, SceneCacheError::Fetch(FetchError::Mismatch { cid, .. }) if cid == asked),
        "{err}"
    );
    assert!(!cache.path(&asked).exists(), "a bad blob must not be cached");
}

#[tokio::test]
async fn a_blob_over_the_limit_is_refused_after_one_chunk() {
    let blob = pattern(3 * BLOB_CHUNK);
    let cid = ContentId::of(&blob);
    let responder = Responder::start(Keypair::generate_ed25519(), 0, serve(blob)).await;
    let client = connect(&responder).await;

    let err = fetch_blob(&client, cid, BLOB_CHUNK as u64).await.unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { .. }), "{err}");
    assert_eq!(responder.requests().len(), 1);
}

#[tokio::test]
async fn a_refused_fetch_says_why() {
    let responder = Responder::start(Keypair::generate_ed25519(), 0, |_: &WorkerRequest| {
        Reply::now(OrchestratorResponse::Rejected { reason: "no such blob".to_owned() })
    })
    .await;
    let client = connect(&responder).await;
    let err = fetch_blob(&client, ContentId::of(b"x"), 1 << 20).await.unwrap_err();
    assert!(err.to_string().contains("no such blob"), "{err}");
}

/// Collects uploads like the orchestrator does and answers its own hash of
/// what it received on the last chunk (or a wrong one, when `lie` is set).
fn collect_uploads(lie: bool) -> impl FnMut(&WorkerRequest) -> Reply + Send + 'static {
    let mut received = Vec::new();
    move |request| match request {
        WorkerRequest::UploadChunk { offset, data, last, .. } => {
            assert_eq!(*offset as usize, received.len(), "chunks out of order");
            received.extend_from_slice(data);
            let cid = last.then(|| {
                if lie {
                    ContentId::of(b"something else")
                } else {
                    ContentId::of(&std::mem::take(&mut received))
                }
            });
            Reply::now(OrchestratorResponse::ChunkStored { cid })
        }
        other => panic!("unexpected request {other:?}"),
    }
}

#[tokio::test]
async fn a_frame_is_uploaded_in_chunks_ending_with_last() {
    let responder = Responder::start(Keypair::generate_ed25519(), 0, collect_uploads(false)).await;
    let client = connect(&responder).await;
    let frame = pattern(2 * BLOB_CHUNK + 1);

    let cid = upload_output(&client, LeaseId(7), 3, &frame).await.unwrap();
    assert_eq!(cid, ContentId::of(&frame));

    let shape: Vec<(LeaseId, u32, u64, usize, bool)> = responder
        .requests()
        .into_iter()
        .map(|r| match r {
            WorkerRequest::UploadChunk { lease, output, offset, data, last } => {
                (lease, output, offset, data.len(), last)
            }
            other => panic!("unexpected request {other:?}"),
        })
        .collect();
    let c = BLOB_CHUNK;
    assert_eq!(
        shape,
        vec![
            (LeaseId(7), 3, 0, c, false),
            (LeaseId(7), 3, c as u64, c, false),
            (LeaseId(7), 3, 2 * c as u64, 1, true),
        ]
    );
}

#[tokio::test]
async fn an_upload_the_orchestrator_hashes_differently_is_an_error() {
    let responder = Responder::start(Keypair::generate_ed25519(), 0, collect_uploads(true)).await;
    let client = connect(&responder).await;
    let err = upload_output(&client, LeaseId(1), 1, &pattern(1000)).await.unwrap_err();
    assert!(matches!(err, TaskError::Failed(ref m) if m.contains("stored")), "{err}");
}

#[tokio::test]
async fn the_worker_reconnects_when_the_orchestrator_comes_back() {
    let orchestrator = Keypair::generate_ed25519();
    let answer = |_: &WorkerRequest| {
        Reply::now(OrchestratorResponse::NoTask { retry_after_ms: 1, reason: None })
    };
    let first = Responder::start(orchestrator.clone(), 0, answer).await;
    let port = first.port();
    let client = connect(&first).await;
    assert_eq!(client.link(), Link::Up { generation: 1 });
    assert!(client.request(WorkerRequest::NextTask { lane: Lane::Render }).await.is_ok());

    // Killed: the link goes down and requests fail fast, not after a timeout.
    first.kill().await;
    tokio::time::timeout(Duration::from_secs(10), client.link_lost(1)).await.unwrap();
    assert_eq!(
        client.request(WorkerRequest::NextTask { lane: Lane::Render }).await,
        Err(RequestError::NotConnected)
    );

    // Down for a while (the worker keeps redialling), then back on the
    // same address with the same identity.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = Responder::start(orchestrator, port, answer).await;
    let generation = tokio::time::timeout(Duration::from_secs(10), client.connected())
        .await
        .expect("no reconnect within 10 s")
        .unwrap();
    assert_eq!(generation, 2);
    assert_eq!(
        client.request(WorkerRequest::NextTask { lane: Lane::Render }).await,
        Ok(OrchestratorResponse::NoTask { retry_after_ms: 1, reason: None })
    );
    assert_eq!(second.requests().len(), 1);
}
