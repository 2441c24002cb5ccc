//! Receipts: what a worker signs when it reports a result, so that the
//! orchestrator holds evidence (who delivered which bytes for which work)
//! that survives a restart and settles an argument.
//!
//! The signed message is built the same way on both sides from values both
//! hold: the lease, a digest of the work as it was assigned, the outputs'
//! content ids and the engine (encoder or render backend) that made them.
//! The signature is ed25519 by the worker's libp2p identity key, so its
//! peer id names the key that must verify it.

use crate::wire::{TaskOutput, Work};
use crate::{ContentId, LeaseId};

/// Domain separation: a receipt's signature can never be taken for any
/// other message signed by the same key.
const RECEIPT_TAG: &[u8] = b"mosaic-receipt-v1\0";

/// The digest of a task's work as assigned: its kind, subject and every
/// parameter (scene, frames and settings; or source segment and ladder).
pub fn work_digest(work: &Work) -> [u8; 32] {
    // serde_json of one struct is deterministic, and both sides run the
    // same protocol version (the libp2p protocol name carries it).
    let json = serde_json::to_vec(work).expect("work serialises");
    *blake3::hash(&json).as_bytes()
}

/// The bytes a worker signs for a result.
pub fn receipt_message(
    lease: LeaseId,
    work_digest: &[u8; 32],
    outputs: &[TaskOutput],
    engine: Option<&str>,
) -> Vec<u8> {
    let mut outputs: Vec<(u32, ContentId)> = outputs.iter().map(|o| (o.output, o.cid)).collect();
    outputs.sort_by_key(|(n, _)| *n);
    let engine = engine.unwrap_or("").as_bytes();
    let mut m = Vec::with_capacity(RECEIPT_TAG.len() + 56 + outputs.len() * 36 + engine.len());
    m.extend_from_slice(RECEIPT_TAG);
    m.extend_from_slice(&lease.0.to_be_bytes());
    m.extend_from_slice(work_digest);
    m.extend_from_slice(&(outputs.len() as u32).to_be_bytes());
    for (n, cid) in outputs {
        m.extend_from_slice(&n.to_be_bytes());
        m.extend_from_slice(cid.as_bytes());
    }
    m.extend_from_slice(&(engine.len() as u32).to_be_bytes());
    m.extend_from_slice(engine);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::RenderWork;
    use crate::{JobId, RenderSettings, TaskId};

    fn work(spp: u32) -> Work {
        Work::Render(RenderWork {
            task: TaskId(7),
            job: JobId(3),
            scene: ContentId::of(b"scene"),
            scene_bytes: 5,
            frames: vec![1, 2],
            settings: RenderSettings { spp, ..RenderSettings::default() },
        })
    }

    #[test]
    fn digest_covers_every_parameter() {
        assert_eq!(work_digest(&work(16)), work_digest(&work(16)));
        assert_ne!(work_digest(&work(16)), work_digest(&work(17)));
    }

    #[test]
    fn message_is_independent_of_output_order_and_names_everything() {
        let a = TaskOutput { output: 1, cid: ContentId::of(b"a") };
        let b = TaskOutput { output: 2, cid: ContentId::of(b"b") };
        let d = work_digest(&work(16));
        let m = receipt_message(LeaseId(9), &d, &[a.clone(), b.clone()], Some("cpu"));
        assert_eq!(m, receipt_message(LeaseId(9), &d, &[b.clone(), a.clone()], Some("cpu")));
        assert_ne!(m, receipt_message(LeaseId(10), &d, &[a.clone(), b.clone()], Some("cpu")));
        assert_ne!(m, receipt_message(LeaseId(9), &d, std::slice::from_ref(&a), Some("cpu")));
        assert_ne!(m, receipt_message(LeaseId(9), &d, &[a, b], Some("vulkan-rt")));
    }
}
