//! `mosaic-worker`: the node operator's binary. Parses arguments, loads the
//! worker's identity, and wires the network, the scene cache and the task
//! loop together; the work itself lives in the library modules.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use libp2p::Multiaddr;
use mosaic_worker::{identity, network, runner::Runner, scene_cache::SceneCache};
use tracing::info;
use tracing_subscriber::EnvFilter;

/// Renders frames for a Mosaic orchestrator.
#[derive(Parser, Debug)]
#[command(name = "mosaic-worker", version, about)]
struct Args {
    /// The orchestrator's full libp2p address, ending in /p2p/PEER_ID (it
    /// writes it to its data directory's p2p.addr).
    #[arg(long, env = "MOSAIC_ORCHESTRATOR", value_name = "MULTIADDR")]
    orchestrator: Multiaddr,
    /// Where the worker keeps its identity key and its scene cache.
    #[arg(long, value_name = "DIR", default_value = "mosaic-worker-data")]
    data_dir: PathBuf,
    /// Render threads [default: every core].
    #[arg(long, value_name = "N")]
    threads: Option<NonZeroUsize>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    // Checked before anything touches the disk, so a typo costs nothing.
    let orchestrator = network::orchestrator_peer(&args.orchestrator)?;

    let keypair = identity::load_or_create(&args.data_dir)?;
    let threads = args
        .threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    info!(
        peer = %keypair.public().to_peer_id(),
        data_dir = %args.data_dir.display(),
        threads,
        %orchestrator,
        "mosaic-worker starting"
    );

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("render-{i}"))
        .build()
        .context("cannot start the render threads")?;
    let cache = SceneCache::new(args.data_dir.join("scenes"), renderer::Limits::default());
    let client = network::spawn(keypair, args.orchestrator)?;

    tokio::select! {
        () = Runner::new(client, cache, pool).run() => {}
        _ = tokio::signal::ctrl_c() => info!("interrupted; the orchestrator requeues any task we held"),
    }
    Ok(())
}
