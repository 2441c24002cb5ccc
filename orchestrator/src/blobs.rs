//! Content-addressed blob storage on disk: scenes, frames and videos, each
//! under its blake3 content id (`blobs/ab/cdef…`), plus staged uploads that
//! workers stream in chunk by chunk.
//!
//! Blobs are written to a temporary file and renamed into place, so a blob
//! that exists is complete. An upload is hashed by the orchestrator itself
//! once its last chunk arrives: a hash a worker reports is never trusted.
//! This module never decides whether a lease may upload; the farm does.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use protocol::wire::BLOB_CHUNK;
use protocol::{ContentId, LeaseId};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {0} is not stored here")]
    NotFound(ContentId),
    #[error("offset {offset} is past the end of blob {cid} ({total} bytes)")]
    OffsetPastEnd { cid: ContentId, offset: u64, total: u64 },
    #[error("upload of frame {frame} is out of order: expected offset {expected}, got {got}")]
    OutOfOrder { frame: u32, expected: u64, got: u64 },
    #[error("upload of frame {frame} exceeds {cap} bytes, more than such a frame can need")]
    UploadTooLarge { frame: u32, cap: u64 },
    #[error("upload chunk of {len} bytes exceeds the chunk size {BLOB_CHUNK}")]
    ChunkTooLarge { len: usize },
    #[error("blob store I/O on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> BlobError + '_ {
    move |source| BlobError::Io { path: path.to_owned(), source }
}

/// Blobs and staged uploads under one data directory.
#[derive(Debug)]
pub struct BlobStore {
    blobs: PathBuf,
    staging: PathBuf,
}

impl BlobStore {
    /// Opens (creating if needed) `dir/blobs` and `dir/staging`.
    pub fn open(dir: &Path) -> Result<Self, BlobError> {
        let blobs = dir.join("blobs");
        let staging = dir.join("staging");
        fs::create_dir_all(&blobs).map_err(io_at(&blobs))?;
        fs::create_dir_all(&staging).map_err(io_at(&staging))?;
        Ok(Self { blobs, staging })
    }

    /// Where blob `cid` lives (whether or not it exists).
    pub fn path(&self, cid: &ContentId) -> PathBuf {
        let hex = cid.to_hex();
        self.blobs.join(&hex[..2]).join(&hex[2..])
    }

    pub fn contains(&self, cid: &ContentId) -> bool {
        self.path(cid).is_file()
    }

    /// Stores `bytes` under their hash; storing the same bytes twice is a no-op.
    pub fn put(&self, bytes: &[u8]) -> Result<ContentId, BlobError> {
        let cid = ContentId::of(bytes);
        if self.contains(&cid) {
            return Ok(cid);
        }
        let tmp = self.temp_path("put", "tmp");
        let write = || -> io::Result<()> {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()
        };
        write().map_err(io_at(&tmp))?;
        self.install(&tmp, &cid)?;
        Ok(cid)
    }

    /// Hashes the file at `path` and moves it into the store. The file must be
    /// on the same file system (the staging directory is).
    pub fn put_file(&self, path: &Path) -> Result<ContentId, BlobError> {
        let cid = hash_file(path)?;
        if self.contains(&cid) {
            fs::remove_file(path).map_err(io_at(path))?;
            return Ok(cid);
        }
        self.install(path, &cid)?;
        Ok(cid)
    }

    /// A fresh path in the staging directory, for a file to `put_file` later.
    /// `extension` matters to writers that pick a container by it (ffmpeg).
    pub fn temp_path(&self, what: &str, extension: &str) -> PathBuf {
        self.staging.join(format!("{what}-{:016x}.{extension}", rand::random::<u64>()))
    }

    fn install(&self, tmp: &Path, cid: &ContentId) -> Result<(), BlobError> {
        let dest = self.path(cid);
        let dir = dest.parent().expect("blob paths have a parent");
        fs::create_dir_all(dir).map_err(io_at(dir))?;
        fs::rename(tmp, &dest).map_err(io_at(&dest))
    }

    /// The whole blob.
    pub fn read(&self, cid: &ContentId) -> Result<Vec<u8>, BlobError> {
        let path = self.path(cid);
        match fs::read(&path) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(BlobError::NotFound(*cid)),
            Err(e) => Err(BlobError::Io { path, source: e }),
        }
    }

    /// Up to [`BLOB_CHUNK`] bytes of a blob from `offset`, and its total size.
    /// An offset equal to the size gives an empty chunk.
    pub fn read_chunk(&self, cid: &ContentId, offset: u64) -> Result<(u64, Vec<u8>), BlobError> {
        let path = self.path(cid);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(BlobError::NotFound(*cid)),
            Err(e) => return Err(BlobError::Io { path, source: e }),
        };
        let total = file.metadata().map_err(io_at(&path))?.len();
        if offset > total {
            return Err(BlobError::OffsetPastEnd { cid: *cid, offset, total });
        }
        let len = (total - offset).min(BLOB_CHUNK as u64) as usize;
        let mut data = vec![0; len];
        file.seek(SeekFrom::Start(offset)).map_err(io_at(&path))?;
        file.read_exact(&mut data).map_err(io_at(&path))?;
        Ok((total, data))
    }

    fn lease_dir(&self, lease: LeaseId) -> PathBuf {
        self.staging.join(format!("lease-{}", lease.0))
    }

    /// Appends one chunk of a frame's upload under `lease`. Chunks come in
    /// order: `offset` must equal what is staged so far (offset 0 restarts the
    /// upload; a repeat of the chunk just stored is accepted as a retry). The
    /// upload may not grow past `cap` bytes. On the `last` chunk the staged
    /// file is hashed and moved into the store, and its content id returned.
    pub fn stage_chunk(
        &self,
        lease: LeaseId,
        frame: u32,
        offset: u64,
        data: &[u8],
        last: bool,
        cap: u64,
    ) -> Result<Option<ContentId>, BlobError> {
        if data.len() > BLOB_CHUNK {
            return Err(BlobError::ChunkTooLarge { len: data.len() });
        }
        let dir = self.lease_dir(lease);
        fs::create_dir_all(&dir).map_err(io_at(&dir))?;
        let path = dir.join(format!("frame-{frame}"));
        let staged = match fs::metadata(&path) {
            Ok(meta) => meta.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(BlobError::Io { path, source: e }),
        };
        let end = offset.saturating_add(data.len() as u64);
        if end > cap {
            return Err(BlobError::UploadTooLarge { frame, cap });
        }
        if offset == staged || offset == 0 {
            let mut file = OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(offset == 0)
                .open(&path)
                .map_err(io_at(&path))?;
            file.seek(SeekFrom::Start(offset)).map_err(io_at(&path))?;
            file.write_all(data).map_err(io_at(&path))?;
            if last {
                file.sync_all().map_err(io_at(&path))?;
            }
        } else if !(end == staged && staged_bytes_equal(&path, offset, data)?) {
            // Anything but a retry of the chunk just stored is out of order.
            return Err(BlobError::OutOfOrder { frame, expected: staged, got: offset });
        }
        if !last {
            return Ok(None);
        }
        self.put_file(&path).map(Some)
    }

    /// Drops whatever a lease left staged (its task ended one way or another).
    pub fn discard_staged(&self, lease: LeaseId) {
        let dir = self.lease_dir(lease);
        if let Err(e) = fs::remove_dir_all(&dir) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!(path = %dir.display(), error = %e, "cannot remove staged uploads");
            }
        }
    }
}

/// Whether the staged file holds `data` at `offset` (a retried chunk).
fn staged_bytes_equal(path: &Path, offset: u64, data: &[u8]) -> Result<bool, BlobError> {
    let mut file = File::open(path).map_err(io_at(path))?;
    file.seek(SeekFrom::Start(offset)).map_err(io_at(path))?;
    let mut staged = vec![0; data.len()];
    file.read_exact(&mut staged).map_err(io_at(path))?;
    Ok(staged == data)
}

fn hash_file(path: &Path) -> Result<ContentId, BlobError> {
    let mut file = File::open(path).map_err(io_at(path))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io_at(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(ContentId::from_hash(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_is_content_addressed_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let cid = store.put(b"hello").unwrap();
        assert_eq!(cid, ContentId::of(b"hello"));
        assert_eq!(store.put(b"hello").unwrap(), cid);
        assert_eq!(store.read(&cid).unwrap(), b"hello");
        let hex = cid.to_hex();
        assert!(dir.path().join("blobs").join(&hex[..2]).join(&hex[2..]).is_file());
    }

    #[test]
    fn chunks_are_bounded_and_cover_the_blob() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let bytes: Vec<u8> = (0..BLOB_CHUNK * 2 + 10).map(|i| i as u8).collect();
        let cid = store.put(&bytes).unwrap();
        let mut got = Vec::new();
        loop {
            let (total, chunk) = store.read_chunk(&cid, got.len() as u64).unwrap();
            assert_eq!(total, bytes.len() as u64);
            assert!(chunk.len() <= BLOB_CHUNK);
            if chunk.is_empty() {
                break;
            }
            got.extend(chunk);
        }
        assert_eq!(got, bytes);
        assert!(matches!(
            store.read_chunk(&cid, bytes.len() as u64 + 1),
            Err(BlobError::OffsetPastEnd { .. })
        ));
        assert!(matches!(
            store.read_chunk(&ContentId::of(b"other"), 0),
            Err(BlobError::NotFound(_))
        ));
    }

    #[test]
    fn staged_upload_is_hashed_by_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let lease = LeaseId(7);
        assert_eq!(store.stage_chunk(lease, 1, 0, b"abc", false, 100).unwrap(), None);
        assert_eq!(store.stage_chunk(lease, 1, 3, b"def", false, 100).unwrap(), None);
        // A retry of the chunk just stored is harmless; a different one is not.
        assert_eq!(store.stage_chunk(lease, 1, 3, b"def", false, 100).unwrap(), None);
        assert!(store.stage_chunk(lease, 1, 3, b"xyz", false, 100).is_err());
        let err = store.stage_chunk(lease, 1, 5, b"x", false, 100).unwrap_err();
        assert!(matches!(err, BlobError::OutOfOrder { expected: 6, got: 5, .. }), "{err}");
        let cid = store.stage_chunk(lease, 1, 6, b"g", true, 100).unwrap().unwrap();
        assert_eq!(cid, ContentId::of(b"abcdefg"));
        assert_eq!(store.read(&cid).unwrap(), b"abcdefg");
    }

    #[test]
    fn staged_upload_over_its_cap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        store.stage_chunk(LeaseId(1), 2, 0, &[0; 8], false, 10).unwrap();
        let err = store.stage_chunk(LeaseId(1), 2, 8, &[0; 8], true, 10).unwrap_err();
        assert!(matches!(err, BlobError::UploadTooLarge { cap: 10, .. }));
        store.discard_staged(LeaseId(1));
        assert!(!dir.path().join("staging/lease-1").exists());
    }
}
