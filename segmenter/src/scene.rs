//! Render jobs -> frame tasks.

use protocol::FrameSpec;

/// Splits the spec's frames into tasks of at most `chunk` frames, in order.
/// A chunk of 0 is treated as 1.
pub fn frame_chunks(spec: &FrameSpec, chunk: u32) -> Vec<Vec<u32>> {
    spec.frames().chunks(chunk.max(1) as usize).map(<[u32]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_frame_once_in_order() {
        let spec = FrameSpec::parse("1-7").unwrap();
        assert_eq!(frame_chunks(&spec, 3), vec![vec![1, 2, 3], vec![4, 5, 6], vec![7]]);
        assert_eq!(frame_chunks(&spec, 0).len(), 7);
    }
}
