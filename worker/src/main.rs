//! `mosaic-worker`: the node operator's binary. Parses arguments, loads the
//! worker's identity, and wires the network, the scene cache and the task
//! loop together; the work itself lives in the library modules.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use libp2p::Multiaddr;
use mosaic_worker::{backends, identity, network, runner::Runner, scene_cache::SceneCache};
use tracing::info;
use tracing_subscriber::EnvFilter;

/// Renders frames and transcodes live segments for a Mosaic orchestrator.
#[derive(Parser, Debug)]
#[command(name = "mosaic-worker", version, about)]
struct Args {
    /// The orchestrator's full libp2p address, ending in /p2p/PEER_ID (it
    /// writes it to its data directory's p2p.addr).
    #[arg(
        long,
        env = "MOSAIC_ORCHESTRATOR",
        value_name = "MULTIADDR",
        required_unless_present_any = ["list_encoders", "list_backends"]
    )]
    orchestrator: Option<Multiaddr>,
    /// Where the worker keeps its identity key and its scene cache.
    #[arg(long, value_name = "DIR", default_value = "mosaic-worker-data")]
    data_dir: PathBuf,
    /// Render threads of the cpu backend [default: every core].
    #[arg(long, value_name = "N")]
    threads: Option<NonZeroUsize>,
    /// Render backends to use, in order of preference, from those that work
    /// here (vulkan-rt, vulkan-compute, cpu) [default: every one that works,
    /// fastest first, as timed at start on a machine with a GPU].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    backends: Option<Vec<String>>,
    /// Print which render backends work on this machine (and why not) and exit.
    #[arg(long)]
    list_backends: bool,
    /// H.264 encoders to use for live work, in order of preference, from
    /// those that work here (libx264, h264_nvenc); `none` keeps this worker
    /// off live work [default: every one that works, NVENC first].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    encoders: Option<Vec<String>>,
    /// Print which encoders work on this machine (and why not) and exit.
    #[arg(long)]
    list_encoders: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        // Colours only on a terminal: log files stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let args = Args::parse();
    let probes = transcoder::encoders::probe();
    let threads = args
        .threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("render-{i}"))
        .build()
        .context("cannot start the render threads")?;
    if args.list_encoders {
        for p in &probes {
            match &p.result {
                Ok(()) => println!("{:<12} works", p.encoder.name()),
                Err(reason) => println!("{:<12} unavailable: {reason}", p.encoder.name()),
            }
        }
    }
    // Opening the Vulkan devices costs a little: not for --list-encoders.
    if args.list_encoders && !args.list_backends {
        return Ok(());
    }
    let backend_probes = renderer::backend::probe(Arc::new(pool));
    if args.list_backends {
        backend_probes.iter().for_each(|p| println!("{}", backends::describe(p)));
        return Ok(());
    }
    let address = args.orchestrator.clone().context("--orchestrator is required")?;
    // Checked before anything touches the disk, so a typo costs nothing.
    let orchestrator = network::orchestrator_peer(&address)?;
    let encoders = choose_encoders(&probes, args.encoders.as_deref())?;
    log_backend_probes(&backend_probes);
    let mut chosen = backends::choose(backend_probes, args.backends.as_deref())
        .map_err(anyhow::Error::msg)
        .context("--backends")?;
    if args.backends.is_none() {
        chosen = backends::rank_by_speed(chosen);
    }

    let keypair = identity::load_or_create(&args.data_dir)?;
    info!(
        peer = %keypair.public().to_peer_id(),
        data_dir = %args.data_dir.display(),
        threads,
        backends = ?chosen.iter().map(|b| b.name()).collect::<Vec<_>>(),
        encoders = ?encoders.iter().map(|e| e.name()).collect::<Vec<_>>(),
        %orchestrator,
        "mosaic-worker starting"
    );
    for p in &probes {
        if let Err(reason) = &p.result {
            info!(encoder = p.encoder.name(), %reason, "encoder unavailable");
        }
    }

    let cache = SceneCache::new(args.data_dir.join("scenes"), renderer::Limits::default());
    let client = network::spawn(keypair.clone(), address)?;
    let scratch = args.data_dir.join("transcode");
    let runner = Runner::new(client, keypair, cache, chosen, threads, encoders, scratch);

    tokio::select! {
        () = runner.run() => {}
        _ = tokio::signal::ctrl_c() => info!("interrupted; the orchestrator requeues any task we held"),
    }
    Ok(())
}

/// Which render backends work here (with their devices) and why the
/// others do not.
fn log_backend_probes(probes: &[renderer::backend::Probe]) {
    for p in probes {
        match &p.result {
            Ok(b) => {
                info!(backend = p.name, device = %b.device(), engine = %b.engine(), "render backend works")
            }
            Err(reason) => info!(backend = p.name, %reason, "render backend unavailable"),
        }
    }
}

/// The encoders to announce: those asked for (in that order) or every one
/// that works; an asked-for encoder that does not work here is an error.
fn choose_encoders(
    probes: &[transcoder::encoders::Probe],
    asked: Option<&[String]>,
) -> anyhow::Result<Vec<&'static dyn transcoder::H264Encoder>> {
    let working = || probes.iter().filter(|p| p.result.is_ok()).map(|p| p.encoder);
    let Some(asked) = asked else { return Ok(working().collect()) };
    if asked.iter().any(|a| a == "none") {
        return Ok(Vec::new());
    }
    asked
        .iter()
        .map(|name| {
            let probe = probes.iter().find(|p| p.encoder.name() == name).with_context(|| {
                let known: Vec<&str> = probes.iter().map(|p| p.encoder.name()).collect();
                format!("unknown encoder {name:?}: choose from {} or none", known.join(", "))
            })?;
            match &probe.result {
                Ok(()) => Ok(probe.encoder),
                Err(reason) => {
                    anyhow::bail!("encoder {name} does not work on this machine: {reason}")
                }
            }
        })
        .collect()
}
