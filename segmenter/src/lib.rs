//! Cutting work into tasks. For render jobs: a frame spec into chunks of
//! consecutive-in-the-spec frames, one task each. It decides nothing about
//! who does the work.

pub mod scene;
