//! The task loop against a stand-in orchestrator over real libp2p: a task is
//! fetched, rendered with the real path tracer, uploaded and completed; a
//! task that cannot be done is reported failed; a task whose lease is lost
//! is dropped without a report; a render backend whose device fails is
//! taken out of service, announced and its task handed back.

mod common;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Reply, Responder};
use libp2p::identity::{Keypair, PublicKey};
use mosaic_worker::network;
use mosaic_worker::runner::Runner;
use mosaic_worker::scene_cache::SceneCache;
use protocol::wire::{
    Capabilities, Lane, OrchestratorResponse, RenderWork, TaskAssignment, Work, WorkerRequest,
    BLOB_CHUNK,
};
use protocol::{ContentId, ImageFormat, JobId, LeaseId, RenderSettings, TaskId};
use renderer::backend::{Backend, CpuBackend, Progress, RenderError};
use renderer::{Image, RenderOptions, Scene};
use tokio::sync::mpsc;

const LEASE: LeaseId = LeaseId(42);

fn assignment(
    scene: &[u8],
    frames: Vec<u32>,
    settings: RenderSettings,
    lease_ms: u64,
) -> TaskAssignment {
    leased(LEASE, scene, frames, settings, lease_ms)
}

fn leased(
    lease: LeaseId,
    scene: &[u8],
    frames: Vec<u32>,
    settings: RenderSettings,
    lease_ms: u64,
) -> TaskAssignment {
    TaskAssignment {
        lease,
        lease_ms,
        work: Work::Render(RenderWork {
            task: TaskId(1),
            job: JobId(1),
            scene: ContentId::of(scene),
            scene_bytes: scene.len() as u64,
            frames,
            settings,
        }),
    }
}

fn tiny(format: ImageFormat, camera: Option<&str>) -> RenderSettings {
    RenderSettings {
        width: 24,
        height: 16,
        spp: 2,
        max_bounces: 2,
        seed: 1,
        fps: 24.0,
        camera: camera.map(str::to_owned),
        format,
        backend: None,
    }
}

/// A one-task orchestrator (see [`farm`]).
fn one_task_farm(
    scene: Vec<u8>,
    task: TaskAssignment,
    renewal: OrchestratorResponse,
    fetch_delay: Duration,
    reports: mpsc::UnboundedSender<WorkerRequest>,
) -> (Farm, impl FnMut(&WorkerRequest) -> Reply + Send + 'static) {
    farm(scene, vec![task], renewal, fetch_delay, reports)
}

/// An orchestrator with a queue of tasks. Hands out each task once, serves
/// their scene (holding each chunk back for `fetch_delay`), keeps uploads
/// and hellos, answers renewals with `renewal`, and passes `Complete`,
/// `Fail` and `Announce` to `reports`.
struct Farm {
    uploads: Uploads,
    hellos: Arc<Mutex<Vec<Capabilities>>>,
}

/// Each uploaded frame: its number and its bytes, in arrival order.
type Uploads = Arc<Mutex<Vec<(u32, Vec<u8>)>>>;

fn farm(
    scene: Vec<u8>,
    tasks: Vec<TaskAssignment>,
    renewal: OrchestratorResponse,
    fetch_delay: Duration,
    reports: mpsc::UnboundedSender<WorkerRequest>,
) -> (Farm, impl FnMut(&WorkerRequest) -> Reply + Send + 'static) {
    let uploads: Uploads = Arc::new(Mutex::new(Vec::new()));
    let hellos = Arc::new(Mutex::new(Vec::new()));
    let (kept, said) = (uploads.clone(), hellos.clone());
    let mut tasks = VecDeque::from(tasks);
    let mut upload: Vec<u8> = Vec::new();
    let answer = move |request: &WorkerRequest| match request {
        WorkerRequest::Hello { capabilities } => {
            said.lock().unwrap().push(capabilities.clone());
            Reply::now(OrchestratorResponse::Welcome { orchestrator_version: "test".to_owned() })
        }
        WorkerRequest::NextTask { lane } => {
            let task = if *lane == Lane::Render { tasks.pop_front() } else { None };
            Reply::now(match task {
                Some(task) => OrchestratorResponse::Task(task),
                None => OrchestratorResponse::NoTask { retry_after_ms: 50, reason: None },
            })
        }
        WorkerRequest::Renew { .. } => Reply::now(renewal.clone()),
        WorkerRequest::FetchBlob { offset, .. } => {
            let start = (*offset as usize).min(scene.len());
            let end = (start + BLOB_CHUNK).min(scene.len());
            let chunk = OrchestratorResponse::BlobChunk {
                total: scene.len() as u64,
                data: scene[start..end].to_vec(),
            };
            Reply::after(chunk, fetch_delay)
        }
        WorkerRequest::UploadChunk { output: frame, offset, data, last, .. } => {
            assert_eq!(*offset as usize, upload.len());
            upload.extend_from_slice(data);
            let cid = last.then(|| {
                let bytes = std::mem::take(&mut upload);
                let cid = ContentId::of(&bytes);
                kept.lock().unwrap().push((*frame, bytes));
                cid
            });
            Reply::now(OrchestratorResponse::ChunkStored { cid })
        }
        report @ (WorkerRequest::Complete { .. }
        | WorkerRequest::Fail { .. }
        | WorkerRequest::Announce { .. }) => {
            reports.send(report.clone()).unwrap();
            Reply::now(OrchestratorResponse::Accepted)
        }
    };
    (Farm { uploads, hellos }, answer)
}

/// The real CPU path tracer on two threads.
fn cpu() -> Arc<dyn Backend> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    Arc::new(CpuBackend::new(Arc::new(pool)))
}

/// Starts a worker rendering on the CPU; returns its public key, which
/// signs its receipts.
async fn start_worker(responder: &Responder, data: &std::path::Path) -> PublicKey {
    start_worker_with(responder, data, vec![cpu()]).await
}

async fn start_worker_with(
    responder: &Responder,
    data: &std::path::Path,
    backends: Vec<Arc<dyn Backend>>,
) -> PublicKey {
    let keypair = Keypair::generate_ed25519();
    let client = network::spawn(keypair.clone(), responder.address.clone()).unwrap();
    let cache = SceneCache::new(data.join("scenes"), renderer::Limits::default());
    let scratch = data.join("transcode");
    let public = keypair.public();
    let runner = Runner::new(client, keypair, cache, backends, 2, Vec::new(), scratch);
    tokio::spawn(runner.run());
    public
}

/// A GPU backend whose device is lost on its first render.
struct LostDevice {
    renders: Arc<AtomicUsize>,
}

impl Backend for LostDevice {
    fn name(&self) -> &'static str {
        "vulkan-rt"
    }
    fn device(&self) -> String {
        "Test GPU".into()
    }
    fn engine(&self) -> String {
        "vulkan-rt Test GPU driver 1".into()
    }
    fn render(&self, _: &Scene, _: &RenderOptions, _: Progress<'_>) -> Result<Image, RenderError> {
        self.renders.fetch_add(1, Ordering::SeqCst);
        Err(RenderError::Device { backend: "vulkan-rt", message: "VK_ERROR_DEVICE_LOST".into() })
    }
}

async fn next_report(reports: &mut mpsc::UnboundedReceiver<WorkerRequest>) -> WorkerRequest {
    tokio::time::timeout(Duration::from_secs(60), reports.recv())
        .await
        .expect("no report within 60 s")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_rendered_uploaded_and_completed() {
    let scene = samples::cornell_box_animated();
    let task = assignment(&scene, vec![1, 2, 3], tiny(ImageFormat::Png, None), 30_000);
    let task_work = task.work.clone();
    let (tx, mut reports) = mpsc::unbounded_channel();
    let (farm, answer) =
        one_task_farm(scene.clone(), task, OrchestratorResponse::LeaseRenewed, Duration::ZERO, tx);
    let responder = Responder::start(Keypair::generate_ed25519(), 0, answer).await;
    let data = tempfile::tempdir().unwrap();
    let public = start_worker(&responder, data.path()).await;

    let WorkerRequest::Complete { lease, outputs, engine, signature } =
        next_report(&mut reports).await
    else {
        panic!("expected Complete");
    };
    assert_eq!(lease, LEASE);
    assert_eq!(engine.as_deref(), Some("cpu"), "a render names its backend's engine");
    let hello = farm.hellos.lock().unwrap()[0].clone();
    assert_eq!(hello.render_backends, ["cpu"]);
    assert_eq!(hello.threads, 2);
    assert!(hello.encoders.is_empty(), "started without encoders");
    // The receipt is signed over exactly what was assigned and delivered.
    let digest = protocol::receipt::work_digest(&task_work);
    let message = protocol::receipt::receipt_message(lease, &digest, &outputs, engine.as_deref());
    assert!(public.verify(&message, &signature), "the receipt does not verify");
    let other =
        protocol::receipt::receipt_message(lease, &digest, &outputs[1..], engine.as_deref());
    assert!(!public.verify(&other, &signature));
    let uploads = farm.uploads.lock().unwrap().clone();
    assert_eq!(outputs.iter().map(|o| o.output).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(uploads.len(), 3);
    for (output, (frame, bytes)) in outputs.iter().zip(&uploads) {
        assert_eq!(output.output, *frame);
        assert_eq!(output.cid, ContentId::of(bytes));
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "frame {frame} is not a PNG");
    }
    // The scene is cached on disk under its cid.
    let cached = data.path().join("scenes").join(format!("{}.glb", ContentId::of(&scene)));
    assert_eq!(std::fs::read(cached).unwrap(), scene);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exr_is_uploaded_when_asked_for() {
    let scene = samples::cornell_box_animated();
    let task = assignment(&scene, vec![1], tiny(ImageFormat::Exr, None), 30_000);
    let (tx, mut reports) = mpsc::unbounded_channel();
    let (farm, answer) =
        one_task_farm(scene, task, OrchestratorResponse::LeaseRenewed, Duration::ZERO, tx);
    let responder = Responder::start(Keypair::generate_ed25519(), 0, answer).await;
    let data = tempfile::tempdir().unwrap();
    start_worker(&responder, data.path()).await;

    assert!(matches!(next_report(&mut reports).await, WorkerRequest::Complete { .. }));
    let uploads = farm.uploads.lock().unwrap().clone();
    // OpenEXR's magic number.
    assert!(uploads[0].1.starts_with(&[0x76, 0x2f, 0x31, 0x01]), "not an EXR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_camera_fails_the_task_with_the_reason() {
    let scene = samples::cornell_box_animated();
    let task = assignment(&scene, vec![1], tiny(ImageFormat::Png, Some("no-such-camera")), 30_000);
    let (tx, mut reports) = mpsc::unbounded_channel();
    let (farm, answer) =
        one_task_farm(scene, task, OrchestratorResponse::LeaseRenewed, Duration::ZERO, tx);
    let responder = Responder::start(Keypair::generate_ed25519(), 0, answer).await;
    let data = tempfile::tempdir().unwrap();
    start_worker(&responder, data.path()).await;

    let WorkerRequest::Fail { lease, reason, device_failure } = next_report(&mut reports).await
    else {
        panic!("expected Fail");
    };
    assert_eq!(lease, LEASE);
    assert!(!device_failure, "a bad camera is the task's fault");
    assert!(reason.contains("no-such-camera"), "{reason}");
    assert!(farm.uploads.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scene_that_is_not_gltf_fails_the_task() {
    let scene = b"this is not a glb".to_vec();
    let task = assignment(&scene, vec![1], tiny(ImageFormat::Png, None), 30_000);
    let (tx, mut reports) = mpsc::unbounded_channel();
    let (_farm, answer) =
        one_task_farm(scene, task, OrchestratorResponse::LeaseRenewed, Duration::ZERO, tx);
    let responder = Responder::start(Keypair::generate_ed25519(), 0, answer).await;
    let data = tempfile::tempdir().unwrap();
    start_worker(&responder, data.path()).await;

    let WorkerRequest::Fail { reason, .. } = next_report(&mut reports).await else {
        panic!("expected Fail");
    };
    assert!(reason.contains("not usable"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_lease_abandons_the_task_without_a_report() {
    let scene = samples::cornell_box_animated();
    // Renewals every 100 ms; the scene arrives only after 1 s, by which
    // time the orchestrator has said the lease is gone.
    let task = assignment(&scene, vec![1], tiny(ImageFormat::Png, None), 300);
    let (tx, mut reports) = mpsc::unbounded_channel();
    let lost = OrchestratorResponse::LeaseLost { reason: "job cancelled".to_owned() };
    let (farm, answer) = one_task_farm(scene, task, lost, Duration::from_secs(1), tx);
    let responder = Responder::start(Keypair::generate_ed25519(), 0, answer).await;
    let data = tempfile::tempdir().unwrap();
    start_worker(&responder, data.path()).await;

    // The worker goes back to asking for work...
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let requests = responder.requests();
            let renewed = requests.iter().position(|r| matches!(r, WorkerRequest::Renew { .. }));
            let asked_again = requests.iter().enumerate().any(|(i, r)| {
                matches!(r, WorkerRequest::NextTask { .. })
                    && Some(i) > renewed
                    && renewed.is_some()
            });
            if asked_again {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the worker did not move on after losing its lease");
    // ...having sent no result and no failure for the lost task.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(reports.try_recv().is_err(), "a lost task was reported");
    assert!(farm.uploads.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_device_is_announced_its_task_handed_back_and_the_next_backend_used() {
    let scene = samples::cornell_box_animated();
    let any = tiny(ImageFormat::Png, None);
    let gpu_only = RenderSettings { backend: Some("vulkan-rt".into()), ..any.clone() };
    let tasks = vec![
        leased(LeaseId(1), &scene, vec![1], any.clone(), 30_000),
        // The orchestrator hands the same task out again after the hand-back.
        leased(LeaseId(2), &scene, vec![1], any, 30_000),
        leased(LeaseId(3), &scene, vec![1], gpu_only, 30_000),
    ];
    let (tx, mut reports) = mpsc::unbounded_channel();
    let (farm, answer) = farm(scene, tasks, OrchestratorResponse::LeaseRenewed, Duration::ZERO, tx);
    let responder = Responder::start(Keypair::generate_ed25519(), 0, answer).await;
    let data = tempfile::tempdir().unwrap();
    let renders = Arc::new(AtomicUsize::new(0));
    let gpu: Arc<dyn Backend> = Arc::new(LostDevice { renders: renders.clone() });
    start_worker_with(&responder, data.path(), vec![gpu, cpu()]).await;

    // The fastest backend first; its device is lost: the worker says what
    // it has left before handing the task back as a device failure.
    let WorkerRequest::Announce { capabilities } = next_report(&mut reports).await else {
        panic!("expected Announce");
    };
    assert_eq!(capabilities.render_backends, ["cpu"]);
    let WorkerRequest::Fail { lease, reason, device_failure } = next_report(&mut reports).await
    else {
        panic!("expected Fail");
    };
    assert_eq!(lease, LeaseId(1));
    assert!(device_failure);
    assert!(reason.contains("VK_ERROR_DEVICE_LOST"), "{reason}");
    assert_eq!(farm.hellos.lock().unwrap()[0].render_backends, ["vulkan-rt", "cpu"]);

    // The same task again: rendered on the CPU, named by its engine.
    let WorkerRequest::Complete { lease, engine, .. } = next_report(&mut reports).await else {
        panic!("expected Complete");
    };
    assert_eq!((lease, engine.as_deref()), (LeaseId(2), Some("cpu")));

    // A job that insists on the failed backend fails here, with the reason.
    let WorkerRequest::Fail { lease, reason, device_failure } = next_report(&mut reports).await
    else {
        panic!("expected Fail");
    };
    assert_eq!(lease, LeaseId(3));
    assert!(!device_failure);
    assert!(reason.contains("vulkan-rt") && reason.contains("failed on this worker"), "{reason}");
    assert_eq!(renders.load(Ordering::SeqCst), 1, "the failed backend was used again");
}
