//! (being written) glTF loading; placeholder types so the crate compiles.
#[derive(Debug, thiserror::Error)]
#[error("placeholder")]
pub struct SceneError;
pub struct SceneAsset;
pub struct SceneSummary;
pub struct Limits;
