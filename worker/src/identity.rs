//! The worker's ed25519 identity. Its peer id is the name the farm knows the
//! worker by (leases, blocklists, the ledger), so the key lives on disk and
//! survives restarts. The secret key is never logged.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use libp2p::identity::{DecodingError, Keypair};

/// The key's file name inside the data directory.
pub const IDENTITY_FILE: &str = "identity.key";

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("cannot read the worker identity {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "{path} is not a libp2p keypair ({source}); move it away to create a new identity \
         (the worker then gets a new peer id)"
    )]
    Decode { path: PathBuf, source: DecodingError },
    #[error("cannot write the worker identity {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Loads the keypair from `dir/identity.key`, or creates one there (mode
/// 0600, protobuf encoding) the first time. Creates `dir` if needed.
pub fn load_or_create(dir: &Path) -> Result<Keypair, IdentityError> {
    let path = dir.join(IDENTITY_FILE);
    match fs::read(&path) {
        Ok(bytes) => {
            return Keypair::from_protobuf_encoding(&bytes)
                .map_err(|source| IdentityError::Decode { path, source })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(IdentityError::Read { path, source }),
    }

    let write_err = |source| IdentityError::Write { path: path.clone(), source };
    fs::create_dir_all(dir).map_err(write_err)?;
    let keypair = Keypair::generate_ed25519();
    let encoded = keypair.to_protobuf_encoding().expect("ed25519 keys always encode");

    // Written whole to a private temporary file, then renamed, so a crash
    // never leaves a half-written key that would change the peer id.
    let tmp = dir.join(format!("{IDENTITY_FILE}.tmp"));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(write_err)?;
    // `mode` only applies to a new file; a stale temporary keeps its own.
    file.set_permissions(fs::Permissions::from_mode(0o600)).map_err(write_err)?;
    file.write_all(&encoded).map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    fs::rename(&tmp, &path).map_err(write_err)?;
    Ok(keypair)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_id_survives_a_restart_and_the_key_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let first = load_or_create(&data).unwrap();
        let second = load_or_create(&data).unwrap();
        assert_eq!(first.public().to_peer_id(), second.public().to_peer_id());

        let meta = fs::metadata(data.join(IDENTITY_FILE)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert!(!data.join(format!("{IDENTITY_FILE}.tmp")).exists());
    }

    #[test]
    fn a_garbled_key_is_an_error_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(IDENTITY_FILE);
        fs::write(&path, b"not a key").unwrap();
        let err = load_or_create(dir.path()).unwrap_err();
        assert!(matches!(err, IdentityError::Decode { .. }), "{err}");
        assert!(err.to_string().contains("identity.key"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"not a key");
    }

    #[test]
    fn different_data_dirs_are_different_workers() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let ka = load_or_create(a.path()).unwrap();
        let kb = load_or_create(b.path()).unwrap();
        assert_ne!(ka.public().to_peer_id(), kb.public().to_peer_id());
    }
}
