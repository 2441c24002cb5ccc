//! `mosaic streams`: live streams for the farm operator: add one (and get
//! the URL and key a broadcaster publishes to), list them with their
//! ladder, workers and latency, show one, remove one.

use anyhow::Result;
use clap::Subcommand;
use protocol::api::{NewStream, StreamInfo};

use crate::client::Client;
use crate::output::{age, now_unix, print_json, short_peer, Align, Table};

#[derive(Subcommand, Debug)]
pub enum StreamsCommand {
    /// Create a stream and print where to publish it and where to watch it.
    Add {
        /// Letters, digits, '-' and '_'; it is part of the playback URL.
        name: String,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Show one stream: its URLs, key, ladder, workers and latency.
    Show {
        name: String,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Remove a stream: its key stops working and a live broadcast is cut off.
    Remove {
        name: String,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(client: &Client, command: Option<&StreamsCommand>, json: bool) -> Result<()> {
    match command {
        None => list(client, json),
        Some(StreamsCommand::Add { name, json }) => {
            let body = NewStream { name: name.clone() };
            let stream: StreamInfo = client.post_json("/api/streams", &body)?;
            if *json {
                return print_json(&serde_json::to_value(&stream)?);
            }
            println!("stream {} added", stream.name);
            println!("  publish to: {}", stream.ingest_url);
            println!(
                "              (OBS: server {}, stream key {})",
                server_of(&stream),
                stream.key
            );
            println!("  watch at:   {}", stream.playback_url);
            println!("  recording:  {}", stream.recording_url);
            println!("Keep the key secret: anyone who has it can broadcast on this stream.");
            Ok(())
        }
        Some(StreamsCommand::Show { name, json }) => {
            let stream: StreamInfo = client.get_json(&format!("/api/streams/{name}"))?;
            if *json {
                return print_json(&serde_json::to_value(&stream)?);
            }
            print!("{}", describe(&stream, now_unix()));
            Ok(())
        }
        Some(StreamsCommand::Remove { name, json }) => {
            let stream: StreamInfo = client.delete_json(&format!("/api/streams/{name}"))?;
            if *json {
                return print_json(&serde_json::to_value(&stream)?);
            }
            println!("stream {} removed; its key no longer works", stream.name);
            Ok(())
        }
    }
}

fn list(client: &Client, json: bool) -> Result<()> {
    let streams: Vec<StreamInfo> = client.get_json("/api/streams")?;
    if json {
        return print_json(&serde_json::to_value(&streams)?);
    }
    if streams.is_empty() {
        eprintln!("no streams yet: add one with `mosaic streams add NAME`");
        return Ok(());
    }
    print!("{}", streams_table(&streams, now_unix()));
    Ok(())
}

/// `rtmp://host:1935/live`: what OBS calls the server, the key apart.
fn server_of(stream: &StreamInfo) -> &str {
    stream.ingest_url.strip_suffix(&format!("/{}", stream.key)).unwrap_or(&stream.ingest_url)
}

fn latency(stream: &StreamInfo) -> String {
    match stream.broadcast.as_ref().map(|b| (b.latency_p50_ms, b.latency_p95_ms)) {
        Some((Some(p50), Some(p95))) => {
            format!("{:.1}/{:.1} s", p50 as f64 / 1000.0, p95 as f64 / 1000.0)
        }
        _ => "-".to_owned(),
    }
}

pub fn streams_table(streams: &[StreamInfo], now: i64) -> String {
    let mut table = Table::new(&[
        ("NAME", Align::Left),
        ("LIVE", Align::Left),
        ("SOURCE", Align::Left),
        ("LADDER", Align::Left),
        ("WORKER", Align::Left),
        ("SEGMENTS", Align::Right),
        ("GAPS", Align::Right),
        ("LATENCY p50/p95", Align::Right),
        ("PLAYBACK", Align::Left),
    ]);
    for s in streams {
        let b = s.broadcast.as_ref();
        let live = match (s.live, b) {
            (true, Some(b)) => format!("yes, {}", age(now - b.started_at)),
            (false, Some(b)) => match b.ended_at {
                Some(ended) => format!("no, ended {} ago", age(now - ended)),
                None => "no".to_owned(),
            },
            _ => "never".to_owned(),
        };
        let source = b
            .and_then(|b| b.source.as_ref())
            .map_or("-".to_owned(), |src| format!("{}x{}", src.width, src.height));
        let ladder = b
            .map(|b| b.rungs.iter().map(|r| r.rung.name.as_str()).collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "-".to_owned());
        let worker = b
            .and_then(|b| b.rungs.first())
            .and_then(|r| r.worker.as_deref().map(|w| (w, r.encoder.as_deref().unwrap_or("?"))))
            .map_or("-".to_owned(), |(w, e)| format!("{} ({e})", short_peer(w)));
        table.row(vec![
            s.name.clone(),
            live,
            source,
            ladder,
            worker,
            b.map_or(0, |b| b.segments).to_string(),
            b.map_or(0, |b| b.gaps).to_string(),
            latency(s),
            s.playback_url.clone(),
        ]);
    }
    table.render()
}

pub fn describe(s: &StreamInfo, now: i64) -> String {
    let mut out = String::new();
    let line = |out: &mut String, label: &str, value: &str| {
        out.push_str(&format!("{label:<12} {value}\n"));
    };
    line(&mut out, "stream", &s.name);
    line(&mut out, "publish to", &s.ingest_url);
    line(&mut out, "OBS", &format!("server {}, stream key {}", server_of(s), s.key));
    line(&mut out, "watch at", &s.playback_url);
    line(&mut out, "recording", &s.recording_url);
    let Some(b) = &s.broadcast else {
        line(&mut out, "live", "never broadcast yet");
        return out;
    };
    let state = if s.live {
        format!("yes, for {}", age(now - b.started_at))
    } else {
        match b.ended_at {
            Some(ended) => format!("no; the last broadcast ended {} ago", age(now - ended)),
            None => "no".to_owned(),
        }
    };
    line(&mut out, "live", &state);
    if let Some(error) = &b.error {
        line(&mut out, "ended by", error);
    }
    if let Some(src) = &b.source {
        let audio = src.audio_codec.as_deref().unwrap_or("no audio");
        line(
            &mut out,
            "source",
            &format!("{}x{} {}, {audio}", src.width, src.height, src.video_codec),
        );
    }
    line(
        &mut out,
        "segments",
        &format!(
            "{} cut, {} published, {} gaps; latency {}",
            b.segments,
            b.published,
            b.gaps,
            latency(s)
        ),
    );
    let mut table = Table::new(&[
        ("RUNG", Align::Left),
        ("SIZE", Align::Left),
        ("BITRATE", Align::Right),
        ("WORKER", Align::Left),
        ("ENCODER", Align::Left),
    ]);
    for r in &b.rungs {
        table.row(vec![
            r.rung.name.clone(),
            format!("{}x{}", r.rung.width, r.rung.height),
            format!("{} kb/s", r.rung.bitrate / 1000),
            r.worker.as_deref().map_or("-".to_owned(), short_peer),
            r.encoder.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    out.push_str(&table.render());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::api::{BroadcastInfo, RungStatus, SourceDescription};
    use protocol::{BroadcastId, Rung};

    fn stream(live: bool) -> StreamInfo {
        StreamInfo {
            name: "studio".into(),
            key: "k3y".into(),
            ingest_url: "rtmp://host:1935/live/k3y".into(),
            playback_url: "http://host:8080/live/studio/master.m3u8".into(),
            recording_url: "http://host:8080/live/studio/recording.m3u8".into(),
            live,
            created_at: 0,
            broadcast: Some(BroadcastInfo {
                id: BroadcastId(1),
                started_at: 40,
                ended_at: (!live).then_some(90),
                error: None,
                source: Some(SourceDescription {
                    width: 1280,
                    height: 720,
                    video_codec: "avc1.64001f".into(),
                    audio_codec: Some("mp4a.40.2".into()),
                }),
                rungs: ["720p", "480p"]
                    .iter()
                    .map(|name| RungStatus {
                        rung: Rung {
                            name: (*name).into(),
                            width: 1280,
                            height: 720,
                            bitrate: 3_000_000,
                        },
                        worker: Some("12D3KooWQrStUvWxYz12345678".into()),
                        encoder: Some("libx264".into()),
                    })
                    .collect(),
                segments: 30,
                published: 29,
                gaps: 1,
                latency_p50_ms: Some(1100),
                latency_p95_ms: Some(1600),
            }),
        }
    }

    #[test]
    fn the_table_shows_ladder_worker_and_latency() {
        let text = streams_table(&[stream(true)], 100);
        let row = text.lines().nth(1).unwrap();
        for part in
            ["studio", "yes, 1m", "1280x720", "720p 480p", "…12345678 (libx264)", "30", "1.1/1.6 s"]
        {
            assert!(row.contains(part), "{part} missing from {row:?}");
        }
        let ended = streams_table(&[stream(false)], 100);
        assert!(ended.contains("no, ended 10s ago"), "{ended}");
    }

    #[test]
    fn the_detail_splits_the_url_for_obs() {
        let text = describe(&stream(true), 100);
        assert!(text.contains("server rtmp://host:1935/live, stream key k3y"), "{text}");
        assert!(text.contains("720p") && text.contains("3000 kb/s"), "{text}");
    }
}
