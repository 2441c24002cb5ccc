//! Scenes by content id: fetched once from the orchestrator in chunks,
//! verified (blake3 of the bytes == the cid) before anything reads them,
//! kept on disk as `scenes/<cid>.glb`, and the last one parsed kept in
//! memory, since parsing a scene is not free and a job's tasks share it.
//!
//! A file on disk is verified again each time it is read: a cache entry is
//! never trusted just because it exists.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use protocol::wire::{OrchestratorResponse, WorkerRequest, BLOB_CHUNK};
use protocol::ContentId;
use renderer::{Limits, SceneAsset, SceneError};
use tracing::{info, warn};

use crate::network::{Client, RequestError};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Network(#[from] RequestError),
    #[error("the orchestrator refused blob {cid}: {reason}")]
    Rejected { cid: ContentId, reason: String },
    #[error("the orchestrator answered a blob fetch with {0}")]
    Unexpected(String),
    #[error("blob {cid} is {total} bytes, more than the {limit} allowed")]
    TooLarge { cid: ContentId, total: u64, limit: u64 },
    #[error("blob {cid}: bad chunk at offset {offset} ({detail})")]
    BadChunk { cid: ContentId, offset: u64, detail: String },
    #[error("blob {cid} arrived with a different hash ({actual}): not using it")]
    Mismatch { cid: ContentId, actual: ContentId },
}

#[derive(Debug, thiserror::Error)]
pub enum SceneCacheError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("cannot store scene {path}: {source}")]
    Store { path: PathBuf, source: std::io::Error },
    #[error("scene {cid} is not usable: {source}")]
    Scene { cid: ContentId, source: SceneError },
}

/// Reads a whole blob with `FetchBlob`, chunk by chunk from offset 0, and
/// returns it only if its blake3 hash is `cid`. `limit` bounds the size the
/// orchestrator may claim, so a hostile peer cannot make us allocate
/// without bound.
pub async fn fetch_blob(
    client: &Client,
    cid: ContentId,
    limit: u64,
) -> Result<Vec<u8>, FetchError> {
    let mut bytes: Vec<u8> = Vec::new();
    let mut expected_total: Option<u64> = None;
    loop {
        let offset = bytes.len() as u64;
        let (total, data) = match client.request(WorkerRequest::FetchBlob { cid, offset }).await? {
            OrchestratorResponse::BlobChunk { total, data } => (total, data),
            OrchestratorResponse::Rejected { reason } => {
                return Err(FetchError::Rejected { cid, reason })
            }
            other => return Err(FetchError::Unexpected(format!("{other:?}"))),
        };
        let bad = |detail: String| FetchError::BadChunk { cid, offset, detail };
        match expected_total {
            None => {
                if total > limit {
                    return Err(FetchError::TooLarge { cid, total, limit });
                }
                bytes.reserve_exact(total as usize);
                expected_total = Some(total);
            }
            Some(t) if t != total => {
                return Err(bad(format!("total changed from {t} to {total}")));
            }
            Some(_) => {}
        }
        if data.len() > BLOB_CHUNK {
            return Err(bad(format!("{} bytes, more than a chunk", data.len())));
        }
        if offset + data.len() as u64 > total {
            return Err(bad(format!("{} bytes run past the total of {total}", data.len())));
        }
        if data.is_empty() && offset < total {
            return Err(bad("empty chunk before the end".to_owned()));
        }
        bytes.extend_from_slice(&data);
        if bytes.len() as u64 == total {
            break;
        }
    }
    let actual = ContentId::of(&bytes);
    if actual != cid {
        return Err(FetchError::Mismatch { cid, actual });
    }
    Ok(bytes)
}

/// The worker's scene store.
pub struct SceneCache {
    dir: PathBuf,
    limits: Arc<Limits>,
    /// The last scene parsed.
    loaded: Option<(ContentId, Arc<SceneAsset>)>,
}

impl SceneCache {
    pub fn new(dir: impl Into<PathBuf>, limits: Limits) -> Self {
        Self { dir: dir.into(), limits: Arc::new(limits), loaded: None }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the scene `cid` lives on disk.
    pub fn path(&self, cid: &ContentId) -> PathBuf {
        self.dir.join(format!("{cid}.glb"))
    }

    /// The scene's verified bytes: from disk when a good copy is there,
    /// otherwise fetched from the orchestrator and stored.
    pub async fn scene_bytes(
        &self,
        client: &Client,
        cid: ContentId,
    ) -> Result<Vec<u8>, SceneCacheError> {
        let path = self.path(&cid);
        match tokio::fs::read(&path).await {
            Ok(bytes) if ContentId::of(&bytes) == cid => return Ok(bytes),
            Ok(_) => warn!(path = %path.display(), "cached scene is corrupt; fetching it again"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                warn!(path = %path.display(), error = %e, "cannot read cached scene; fetching it again")
            }
        }

        let started = std::time::Instant::now();
        let bytes = fetch_blob(client, cid, self.limits.max_scene_bytes).await?;
        info!(
            scene = %cid,
            bytes = bytes.len(),
            ms = started.elapsed().as_millis() as u64,
            "fetched scene"
        );
        self.store(&cid, &bytes).await?;
        Ok(bytes)
    }

    /// The parsed scene `cid`, from memory when it was the last one used.
    pub async fn asset(
        &mut self,
        client: &Client,
        cid: ContentId,
    ) -> Result<Arc<SceneAsset>, SceneCacheError> {
        if let Some((loaded, asset)) = &self.loaded {
            if *loaded == cid {
                return Ok(asset.clone());
            }
        }
        let bytes = self.scene_bytes(client, cid).await?;
        let limits = Arc::clone(&self.limits);
        let started = std::time::Instant::now();
        let asset = tokio::task::spawn_blocking(move || SceneAsset::from_bytes(&bytes, &limits))
            .await
            .expect("scene loading panicked")
            .map_err(|source| SceneCacheError::Scene { cid, source })?;
        info!(scene = %cid, ms = started.elapsed().as_millis() as u64, "loaded scene");
        let asset = Arc::new(asset);
        self.loaded = Some((cid, asset.clone()));
        Ok(asset)
    }

    /// Writes through a temporary file and a rename, so a reader never
    /// sees half a scene.
    async fn store(&self, cid: &ContentId, bytes: &[u8]) -> Result<(), SceneCacheError> {
        let path = self.path(cid);
        let err = |source| SceneCacheError::Store { path: path.clone(), source };
        tokio::fs::create_dir_all(&self.dir).await.map_err(err)?;
        let tmp = self.dir.join(format!("{cid}.glb.part"));
        tokio::fs::write(&tmp, bytes).await.map_err(err)?;
        tokio::fs::rename(&tmp, &path).await.map_err(err)?;
        Ok(())
    }
}
