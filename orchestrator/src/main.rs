//! `mosaic-orchestrator`: the daemon that holds the job store, hands tasks to
//! workers over libp2p, and serves the HTTP API the `mosaic` CLI talks to.
//!
//! This file only wires the parts together: configuration, the data
//! directory's identity and token files, the HTTP listener, the RTMP
//! ingest, the p2p host, the lease sweeper, and a clean shutdown on
//! SIGINT/SIGTERM.

mod blobs;
mod config;
mod farm;
mod hls;
mod http;
mod ingest;
mod p2p;
mod store;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use libp2p::identity::Keypair;
use tokio::sync::{oneshot, watch};

use crate::config::Config;
use crate::farm::{Farm, FarmSettings};

/// How often expired leases are swept back into the queue.
const LEASE_SWEEP: Duration = Duration::from_secs(1);

/// The Mosaic orchestrator: job store, scheduler, libp2p host and HTTP API.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// A TOML config file (see mosaic.toml in the repository for every option).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the database, blobs, identity and admin token live [default: mosaic-data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The HTTP API's listen address [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    http: Option<std::net::SocketAddr>,
    /// The libp2p listen address [default: /ip4/0.0.0.0/tcp/4001].
    #[arg(long, value_name = "MULTIADDR")]
    p2p: Option<libp2p::Multiaddr>,
    /// The RTMP ingest's listen address [default: 0.0.0.0:1935].
    #[arg(long, value_name = "ADDR")]
    rtmp: Option<std::net::SocketAddr>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        // Colours only on a terminal: log files stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    if let Some(http) = args.http {
        config.http = http;
    }
    if let Some(p2p) = args.p2p {
        config.p2p = p2p.to_string();
    }
    if let Some(rtmp) = args.rtmp {
        config.rtmp = rtmp;
    }
    config.validate()?;
    tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")?
        .block_on(serve(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let dir = &config.data_dir;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Addresses from a previous run would mislead anyone waiting for these.
    for stale in ["http.addr", "p2p.addr", "rtmp.addr"] {
        let _ = fs::remove_file(dir.join(stale));
    }
    let keypair = load_or_create_identity(&dir.join("identity.key"))?;
    let token_path = dir.join("admin.token");
    let token = load_or_create_token(&token_path)?;
    tracing::info!(path = %token_path.display(), "admin token (clients send it as a bearer token)");

    let mut settings = FarmSettings::from(&config);
    // The ledger's tree heads are signed with the identity workers dial.
    settings.verify.signer = orchestrator_signer(&keypair)?;
    let farm = Arc::new(
        Farm::open(dir, settings)
            .with_context(|| format!("cannot open the job store in {}", dir.display()))?,
    );

    let (shutdown_tx, shutdown_rx) = watch::channel(false);

    let rtmp_listener = tokio::net::TcpListener::bind(config.rtmp)
        .await
        .with_context(|| format!("cannot listen for RTMP on {} (option rtmp)", config.rtmp))?;
    let rtmp_addr = rtmp_listener.local_addr()?;
    let listener = tokio::net::TcpListener::bind(config.http)
        .await
        .with_context(|| format!("cannot listen for HTTP on {}", config.http))?;
    let http_addr = listener.local_addr()?;
    write_atomically(&dir.join("http.addr"), http_addr.to_string().as_bytes())?;
    tracing::info!(address = %http_addr, "HTTP API listening");
    let addresses = http::Addresses {
        public_host: config.public_host.clone(),
        http_port: http_addr.port(),
        rtmp_port: rtmp_addr.port(),
    };
    let app = http::router(farm.clone(), &token, addresses);
    let mut http_shutdown = shutdown_rx.clone();
    let http_server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_shutdown.wait_for(|stop| *stop).await;
            })
            .await
    });

    let ingest = ingest::Listener {
        listener: rtmp_listener,
        farm: farm.clone(),
        settings: ingest::IngestSettings {
            timeout: Duration::from_secs(config.rtmp_timeout_seconds),
            max_connections: config.max_rtmp_connections as usize,
            segments: segmenter::live::LiveSettings {
                target_duration: Duration::from_secs_f64(config.segment_seconds),
                max_keyframe_interval: Duration::from_secs(config.max_keyframe_interval_seconds),
                max_segment_bytes: config.max_segment_bytes as usize,
            },
        },
        shutdown: shutdown_rx.clone(),
    };
    let ingest = tokio::spawn(ingest.run());
    write_atomically(&dir.join("rtmp.addr"), rtmp_addr.to_string().as_bytes())?;
    tracing::info!(address = %rtmp_addr, "RTMP ingest listening (rtmp://HOST:PORT/live/STREAM_KEY)");

    let listen: libp2p::Multiaddr = config.p2p.parse().context("p2p listen address")?;
    let (listening_tx, listening_rx) = oneshot::channel();
    let mut p2p_host = tokio::spawn(p2p::run(farm.clone(), keypair, listen, listening_tx));
    let p2p_addr = tokio::select! {
        addr = listening_rx => addr.context("the p2p host stopped before it was listening")?,
        result = &mut p2p_host => {
            result.context("the p2p host panicked")??;
            bail!("the p2p host stopped before it was listening");
        }
    };
    write_atomically(&dir.join("p2p.addr"), p2p_addr.to_string().as_bytes())?;
    tracing::info!(address = %p2p_addr, "p2p host listening; workers dial this address");

    let sweeper = {
        let farm = farm.clone();
        let mut stop = shutdown_rx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(LEASE_SWEEP);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.wait_for(|stop| *stop) => return,
                }
                let farm = farm.clone();
                match tokio::task::spawn_blocking(move || farm.expire_leases()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "cannot sweep expired leases"),
                    Err(e) => tracing::error!(error = %e, "the lease sweep panicked"),
                }
            }
        })
    };

    let outcome = tokio::select! {
        signal = shutdown_signal() => {
            tracing::info!(signal, "shutting down");
            Ok(())
        }
        result = &mut p2p_host => match result {
            Ok(Ok(())) => Err(anyhow::anyhow!("the p2p host stopped")),
            Ok(Err(e)) => Err(e.context("the p2p host failed")),
            Err(e) => Err(anyhow::anyhow!("the p2p host panicked: {e}")),
        },
    };
    let _ = shutdown_tx.send(true);
    p2p_host.abort();
    let _ = sweeper.await;
    let _ = ingest.await;
    match tokio::time::timeout(Duration::from_secs(5), http_server).await {
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "HTTP server ended with an error"),
        Err(_) => tracing::warn!("HTTP connections still open after 5 s; closing them"),
        _ => {}
    }
    outcome
}

/// Resolves on SIGINT or SIGTERM, naming which.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGTERM; only Ctrl-C stops the orchestrator");
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

fn orchestrator_signer(keypair: &Keypair) -> anyhow::Result<farm::TreeSigner> {
    farm::TreeSigner::from_identity(keypair).context("the identity key is not an ed25519 key")
}

/// The orchestrator's ed25519 identity, so its peer id (and the address
/// workers were given) survives restarts. Stored in libp2p's protobuf
/// encoding, readable by the owner only.
fn load_or_create_identity(path: &Path) -> anyhow::Result<Keypair> {
    match fs::read(path) {
        Ok(bytes) => Keypair::from_protobuf_encoding(&bytes)
            .with_context(|| format!("{} is not a libp2p identity key", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let keypair = Keypair::generate_ed25519();
            let bytes = keypair.to_protobuf_encoding().context("cannot encode the identity")?;
            create_private_file(path, &bytes)?;
            tracing::info!(path = %path.display(), peer = %keypair.public().to_peer_id(), "created a new identity");
            Ok(keypair)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The admin token: 32 random bytes as hex, made on first start and kept,
/// so clients configured with it keep working.
fn load_or_create_token(path: &Path) -> anyhow::Result<String> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let token = text.trim().to_owned();
            if token.len() < 16 {
                bail!("{} holds no usable token; delete it to make a new one", path.display());
            }
            Ok(token)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = hex::encode(rand::random::<[u8; 32]>());
            create_private_file(path, token.as_bytes())?;
            Ok(token)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes a new file only its owner can read (mode 0600).
fn create_private_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Writes a file by rename, so a reader never sees it half written.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
