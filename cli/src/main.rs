//! The `mosaic` command: submit renders to an orchestrator, follow and cancel
//! jobs, fetch their frames and video, manage live streams, list workers,
//! stake nodes and audit the ledger,
//! and benchmark the path tracer against Cycles and the transcoder against
//! the ffmpeg CLI.
//!
//! A thin binary over the libraries (protocol, renderer, samples): argument
//! parsing here, one module per command. Results go to stdout, progress and
//! errors to stderr.

mod bench;
mod client;
mod fetch;
mod jobs;
mod ledger;
mod output;
mod render;
mod streams;
mod workers;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use protocol::JobId;

#[derive(Parser, Debug)]
#[command(
    name = "mosaic",
    version,
    about = "Render glTF scenes and transcode live streams on a Mosaic farm"
)]
struct Cli {
    /// The orchestrator's HTTP address.
    #[arg(
        long,
        global = true,
        env = "MOSAIC_URL",
        default_value = "http://127.0.0.1:8080",
        help_heading = "Orchestrator"
    )]
    url: String,
    /// The orchestrator's admin token (default: read from a token file).
    #[arg(
        long,
        global = true,
        env = "MOSAIC_TOKEN",
        hide_env_values = true,
        help_heading = "Orchestrator"
    )]
    token: Option<String>,
    /// A file holding the token, e.g. the orchestrator's DATA_DIR/admin.token
    /// (default: ./mosaic-data/admin.token, then ~/.config/mosaic/token).
    #[arg(
        long,
        global = true,
        env = "MOSAIC_TOKEN_FILE",
        value_name = "FILE",
        help_heading = "Orchestrator"
    )]
    token_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Render jobs.
    Render {
        #[command(subcommand)]
        command: RenderCommand,
    },
    /// List every job, or show one in full.
    Jobs {
        job: Option<JobId>,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Download a job's finished frames (and its video) into a directory.
    Fetch {
        job: JobId,
        /// Where to write NNNN.png (or .exr) and video.mp4.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Print one JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Cancel a job: frames not yet rendered are dropped.
    Cancel {
        job: JobId,
        /// Print one JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Live streams: list them, or add, show or remove one.
    Streams {
        #[command(subcommand)]
        command: Option<streams::StreamsCommand>,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// The stake ledger: every node's stake and earnings; `stake`, `verify`, `prove`.
    Ledger {
        #[command(subcommand)]
        command: Option<ledger::LedgerCommand>,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// List the workers the orchestrator knows.
    Workers {
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand, Debug)]
enum RenderCommand {
    /// Check a scene and settings, upload them and follow the job.
    Submit(render::SubmitArgs),
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Our path tracer on the sample Cornell box, against Cycles when Blender is installed.
    Render(bench::BenchRenderArgs),
    /// Our segment transcoder against the ffmpeg CLI on the same 1080p30 ladder.
    Transcode(bench::BenchTranscodeArgs),
    /// Verification: fingerprint matching on a generated corpus of honest and tampered outputs
    /// (`--economics`: what cheating earns against what it risks).
    Verify(bench::BenchVerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let connect = || -> Result<client::Client> {
        let xdg = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from);
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let defaults = client::default_token_files(xdg.as_deref(), home.as_deref());
        let token = client::find_token(cli.token.as_deref(), cli.token_file.as_deref(), &defaults)?;
        client::Client::new(&cli.url, token)
    };
    match &cli.command {
        Command::Render { command: RenderCommand::Submit(args) } => {
            // Every local check first: a bad request needs no orchestrator.
            let checked = render::check(args)?;
            render::submit(&connect()?, checked, args)
        }
        Command::Jobs { job: None, json } => {
            jobs::list(&connect()?, *json).map(|()| ExitCode::SUCCESS)
        }
        Command::Jobs { job: Some(job), json } => {
            jobs::show(&connect()?, *job, *json).map(|()| ExitCode::SUCCESS)
        }
        Command::Fetch { job, out, json } => fetch::fetch(&connect()?, *job, out, *json),
        Command::Cancel { job, json } => {
            jobs::cancel(&connect()?, *job, *json).map(|()| ExitCode::SUCCESS)
        }
        Command::Ledger { command, json } => {
            ledger::run(&connect()?, &cli.url, command.as_ref(), *json)
        }
        Command::Workers { json } => workers::list(&connect()?, *json).map(|()| ExitCode::SUCCESS),
        Command::Streams { command, json } => {
            streams::run(&connect()?, command.as_ref(), *json).map(|()| ExitCode::SUCCESS)
        }
        Command::Bench { command: BenchCommand::Render(args) } => {
            bench::render(args).map(|()| ExitCode::SUCCESS)
        }
        Command::Bench { command: BenchCommand::Transcode(args) } => {
            bench::transcode(args).map(|()| ExitCode::SUCCESS)
        }
        Command::Bench { command: BenchCommand::Verify(args) } => {
            bench::verify(args).map(|()| ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_frame_specs_and_sizes_are_refused_while_parsing() {
        for args in [
            [
                "mosaic", "render", "submit", "s.glb", "--frames", "5-1", "--size", "64x64",
                "--spp", "1",
            ],
            [
                "mosaic", "render", "submit", "s.glb", "--frames", "1-2", "--size", "0x0", "--spp",
                "1",
            ],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err().to_string();
            assert!(err.contains("5-1") || err.contains("0x0"), "{err}");
        }
    }

    #[test]
    fn submit_options_have_the_documented_defaults() {
        let cli = Cli::try_parse_from([
            "mosaic", "render", "submit", "s.glb", "--frames", "1-3", "--size", "64x32", "--spp",
            "4",
        ])
        .unwrap();
        let Command::Render { command: RenderCommand::Submit(args) } = cli.command else {
            panic!("parsed as {:?}", cli.command)
        };
        assert_eq!(
            (args.bounces, args.fps, args.seed, args.chunk, args.priority),
            (8, 24.0, 0, 1, 0)
        );
        assert_eq!(args.format, protocol::ImageFormat::Png);
        assert_eq!(args.frames.frames(), [1, 2, 3]);
        assert!(!args.detach && !args.json);
        assert_eq!(args.scene, PathBuf::from("s.glb"));
    }
}
