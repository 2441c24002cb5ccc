//! `mosaic jobs`, `mosaic jobs JOB` and `mosaic cancel JOB`: what the farm
//! is doing with an artist's jobs, and stopping one.

use anyhow::Result;
use protocol::api::{FrameState, JobDetail, JobSummary};
use protocol::JobId;
use serde_json::json;

use crate::client::Client;
use crate::output::{age, frame_ranges, now_unix, print_json, short_peer, Align, Table};

/// `mosaic jobs`: every job, newest first as the orchestrator lists them.
pub fn list(client: &Client, json: bool) -> Result<()> {
    let jobs: Vec<JobSummary> = client.get_json("/api/jobs")?;
    if json {
        return print_json(&serde_json::to_value(&jobs)?);
    }
    if jobs.is_empty() {
        eprintln!("no jobs yet: submit one with `mosaic render submit SCENE --frames 1-48`");
        return Ok(());
    }
    print!("{}", jobs_table(&jobs, now_unix()));
    Ok(())
}

pub fn jobs_table(jobs: &[JobSummary], now: i64) -> String {
    let mut table = Table::new(&[
        ("ID", Align::Right),
        ("STATE", Align::Left),
        ("FRAMES", Align::Right),
        ("FAILED", Align::Right),
        ("AGE", Align::Right),
        ("NAME", Align::Left),
    ]);
    for job in jobs {
        table.row(vec![
            job.id.to_string(),
            job.state.as_str().to_owned(),
            format!("{}/{}", job.frames_done, job.frames_total),
            job.frames_failed.to_string(),
            age(now - job.created_at),
            job.name.clone(),
        ]);
    }
    table.render()
}

/// `mosaic jobs JOB`: one job in full.
pub fn show(client: &Client, job: JobId, json: bool) -> Result<()> {
    let detail = client.job(job)?;
    if json {
        return print_json(&serde_json::to_value(&detail)?);
    }
    print!("{}", describe(&detail, now_unix()));
    Ok(())
}

pub fn describe(detail: &JobDetail, now: i64) -> String {
    let job = &detail.summary;
    let s = &detail.settings;
    let mut out = String::new();
    let mut line = |key: &str, value: String| out.push_str(&format!("{key:<10}{value}\n"));
    line("job", format!("{}  {}", job.id, job.name));
    line("state", job.state.as_str().to_owned());
    line(
        "frames",
        format!(
            "{} ({} frames): {} done, {} failed",
            detail.frame_spec, job.frames_total, job.frames_done, job.frames_failed
        ),
    );
    line(
        "settings",
        format!(
            "{}x{}, {} spp, {} bounces, seed {}, {} fps, camera {}, {}, {} frame(s) per task",
            s.width,
            s.height,
            s.spp,
            s.max_bounces,
            s.seed,
            s.fps,
            s.camera.as_deref().unwrap_or("(the scene's first)"),
            s.format,
            detail.chunk
        ),
    );
    line("backend", s.backend.clone().unwrap_or_else(|| "any (the farm picks)".to_owned()));
    line("priority", job.priority.to_string());
    line("scene", detail.scene.to_string());
    let mut when = format!("{} ago", age(now - job.created_at));
    if let Some(finished) = job.finished_at {
        when.push_str(&format!(", finished after {}", age(finished - job.created_at)));
    }
    line("created", when);
    line(
        "video",
        match (&detail.video, job.state.is_final()) {
            (Some(cid), _) => format!("ready ({cid}): `mosaic fetch {} --out DIR`", job.id),
            (None, false) => "not yet: assembled once every frame is done".to_owned(),
            (None, true) => "none".to_owned(),
        },
    );
    if let Some(waiting) = &job.waiting {
        line("waiting", waiting.clone());
    }
    if let Some(error) = &detail.error {
        line("error", error.clone());
    }
    out.push('\n');
    let mut table = Table::new(&[
        ("FRAME", Align::Right),
        ("STATE", Align::Left),
        ("WORKER", Align::Left),
        ("ATTEMPTS", Align::Right),
        ("ERROR", Align::Left),
    ]);
    for frame in &detail.frames {
        table.row(vec![
            frame.frame.to_string(),
            frame.state.as_str().to_owned(),
            frame.worker.as_deref().map(short_peer).unwrap_or_else(|| "-".to_owned()),
            frame.attempts.to_string(),
            frame.error.clone().unwrap_or_default(),
        ]);
    }
    out.push_str(&table.render());
    out
}

/// `mosaic cancel JOB`.
pub fn cancel(client: &Client, job: JobId, json: bool) -> Result<()> {
    let summary: JobSummary = client.post_empty(&format!("/api/jobs/{job}/cancel"))?;
    if json {
        return print_json(&json!({ "job": summary.id, "state": summary.state }));
    }
    println!("job {} is {}", summary.id, summary.state.as_str());
    Ok(())
}

/// Frames of a job in a given state, ascending.
pub fn frames_in(detail: &JobDetail, state: FrameState) -> Vec<u32> {
    let mut frames: Vec<u32> =
        detail.frames.iter().filter(|f| f.state == state).map(|f| f.frame).collect();
    frames.sort_unstable();
    frames
}

/// "frames 3,5-7 failed" style summary of everything not done.
pub fn not_done(detail: &JobDetail) -> Vec<String> {
    [
        FrameState::Failed,
        FrameState::Cancelled,
        FrameState::Verifying,
        FrameState::Rendering,
        FrameState::Queued,
    ]
    .into_iter()
    .filter_map(|state| {
        let frames = frames_in(detail, state);
        (!frames.is_empty()).then(|| format!("{} {}", frame_ranges(&frames), state.as_str()))
    })
    .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use protocol::api::{FrameStatus, JobState};
    use protocol::{ContentId, FrameSpec, RenderSettings};

    pub fn summary(id: i64, state: JobState) -> JobSummary {
        JobSummary {
            id: JobId(id),
            name: "box.glb".into(),
            state,
            frames_total: 3,
            frames_done: 1,
            frames_failed: 1,
            created_at: 1_000,
            finished_at: None,
            priority: 0,
            waiting: None,
        }
    }

    pub fn detail() -> JobDetail {
        let frame = |frame, state, worker: Option<&str>, error: Option<&str>| FrameStatus {
            frame,
            state,
            worker: worker.map(str::to_owned),
            cid: (state == FrameState::Done).then(|| ContentId::of(&frame.to_le_bytes())),
            error: error.map(str::to_owned),
            attempts: 1,
        };
        JobDetail {
            summary: summary(7, JobState::Running),
            scene: ContentId::of(b"scene"),
            frame_spec: FrameSpec::parse("1-3").unwrap(),
            settings: RenderSettings::default(),
            chunk: 1,
            frames: vec![
                frame(1, FrameState::Done, Some("12D3KooWAbCdEfGhIjKlMnOp"), None),
                frame(2, FrameState::Failed, Some("12D3KooWZzZzZzZz99887766"), Some("NaN pixels")),
                frame(3, FrameState::Queued, None, None),
            ],
            video: None,
            error: None,
        }
    }

    #[test]
    fn the_jobs_table_shows_progress_failures_and_age() {
        let text = jobs_table(&[summary(7, JobState::Running)], 1_192);
        assert_eq!(
            text,
            "ID  STATE    FRAMES  FAILED    AGE  NAME\n 7  running     1/3       1  3m12s  box.glb\n"
        );
    }

    #[test]
    fn one_job_shows_each_frame_its_worker_and_errors() {
        let text = describe(&detail(), 1_060);
        assert!(text.contains("1m00s ago"), "{text}");
        assert!(text.contains("640x360, 64 spp, 8 bounces"), "{text}");
        assert!(text.contains("backend   any (the farm picks)"), "{text}");
        assert!(text.contains("not yet"), "{text}");
        let frame2 = text.lines().find(|l| l.trim_start().starts_with("2 ")).unwrap();
        assert!(
            frame2.contains("failed")
                && frame2.contains("…99887766")
                && frame2.contains("NaN pixels"),
            "{frame2}"
        );
    }

    #[test]
    fn a_job_that_waits_for_a_backend_says_so() {
        let mut detail = detail();
        detail.settings.backend = Some("vulkan-rt".into());
        detail.summary.waiting = Some("no connected worker has render backend vulkan-rt".into());
        let text = describe(&detail, 1_060);
        assert!(text.contains("backend   vulkan-rt\n"), "{text}");
        assert!(
            text.contains("waiting   no connected worker has render backend vulkan-rt"),
            "{text}"
        );
    }

    #[test]
    fn not_done_groups_frames_by_state() {
        assert_eq!(not_done(&detail()), ["2 failed", "3 queued"]);
    }
}
