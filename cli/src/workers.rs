//! `mosaic workers`: the nodes the orchestrator knows, and how they did.

use anyhow::Result;
use protocol::api::WorkerInfo;

use crate::client::Client;
use crate::output::{age, now_unix, print_json, short_peer, Align, Table};

pub fn list(client: &Client, json: bool) -> Result<()> {
    let workers: Vec<WorkerInfo> = client.get_json("/api/workers")?;
    if json {
        return print_json(&serde_json::to_value(&workers)?);
    }
    if workers.is_empty() {
        eprintln!(
            "no worker has connected yet: start one with `mosaic-worker --orchestrator MULTIADDR`"
        );
        return Ok(());
    }
    print!("{}", workers_table(&workers, now_unix()));
    Ok(())
}

pub fn workers_table(workers: &[WorkerInfo], now: i64) -> String {
    let mut table = Table::new(&[
        ("PEER", Align::Left),
        ("CONNECTED", Align::Left),
        ("CORES/THREADS", Align::Right),
        ("BACKENDS", Align::Left),
        ("ENCODERS", Align::Left),
        ("DONE", Align::Right),
        ("FAILED", Align::Right),
        ("LAST SEEN", Align::Right),
    ]);
    for worker in workers {
        let caps = &worker.capabilities;
        table.row(vec![
            short_peer(&worker.peer_id),
            if worker.connected { "yes" } else { "no" }.to_owned(),
            format!("{}/{}", caps.cpu_cores, caps.threads),
            if caps.render_backends.is_empty() {
                "-".to_owned()
            } else {
                caps.render_backends.join(",")
            },
            if caps.encoders.is_empty() { "-".to_owned() } else { caps.encoders.join(",") },
            worker.tasks_done.to_string(),
            worker.tasks_failed.to_string(),
            format!("{} ago", age(now - worker.last_seen)),
        ]);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::wire::Capabilities;

    #[test]
    fn the_workers_table_shows_capabilities_and_counts() {
        let worker = WorkerInfo {
            peer_id: "12D3KooWQrStUvWxYz12345678".into(),
            connected: true,
            capabilities: Capabilities {
                version: "0.1.0".into(),
                cpu_cores: 16,
                threads: 8,
                render_backends: vec!["cpu-pathtracer".into()],
                encoders: vec!["libx264".into()],
            },
            tasks_done: 12,
            tasks_failed: 1,
            last_seen: 95,
        };
        let text = workers_table(&[worker], 100);
        let row = text.lines().nth(1).unwrap();
        for part in ["…12345678", "yes", "16/8", "cpu-pathtracer", "libx264", "12", "1", "5s ago"]
        {
            assert!(row.contains(part), "{part} missing from {row:?}");
        }
    }
}
