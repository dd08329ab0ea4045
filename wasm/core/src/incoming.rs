//! A model file arriving in pieces (a download, a cache read) assembled straight
//! into the one buffer the model will use in place: the browser never holds the
//! whole file twice. When asked, it is hashed on the way in, so a download is
//! checked against the registry's sha256 without a second pass over it.
//! A download comes in shards, and each shard is checked on its own as it ends
//! (`end_piece`): a good shard can be cached at once, and a bad one dropped and
//! fetched again without starting the whole file over.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The sha256 of `bytes`, in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn not_hashed() -> Error {
    Error::Invalid("these bytes were not hashed".into())
}

fn mismatch(actual: &str, expected: &str) -> Error {
    Error::Invalid(format!(
        "integrity check failed: sha256 {}… is not the registry's {}…; nothing was kept, try again",
        &actual[..12],
        &expected[..expected.len().min(12)]
    ))
}

pub struct Incoming {
    bytes: Vec<u8>,
    expected: usize,
    hasher: Option<Sha256>,
    /// The piece pushed since the last one ended, hashed on its own.
    piece: Option<Sha256>,
    /// Where the last good piece ended, and the whole file's hash there: what dropping a bad piece
    /// returns to (a hasher's state is ~100 bytes; the bytes are only truncated).
    kept: usize,
    kept_hasher: Option<Sha256>,
}

impl Incoming {
    /// Room for exactly `expected` bytes; `hash` when the pieces are to be checked.
    pub fn new(expected: usize, hash: bool) -> Self {
        let mut bytes = Vec::new();
        bytes.reserve_exact(expected);
        Self {
            bytes,
            expected,
            hasher: hash.then(Sha256::new),
            piece: hash.then(Sha256::new),
            kept: 0,
            kept_hasher: hash.then(Sha256::new),
        }
    }

    pub fn push(&mut self, piece: &[u8]) -> Result<()> {
        if self.bytes.len() + piece.len() > self.expected {
            return Err(Error::Invalid(format!(
                "the file is longer than the {} bytes the registry gives; download it again",
                self.expected
            )));
        }
        self.bytes.extend_from_slice(piece);
        if let (Some(hasher), Some(piece_hasher)) = (self.hasher.as_mut(), self.piece.as_mut()) {
            hasher.update(piece);
            piece_hasher.update(piece);
        }
        Ok(())
    }

    /// End the piece pushed since the previous one ended (a shard of the file): kept when its sha256
    /// is `sha256` (hex), else dropped, its bytes and their share of the whole file's hash undone, so
    /// that it can be pushed again. Either way the next push starts a new piece.
    pub fn end_piece(&mut self, sha256: &str) -> Result<()> {
        let piece = self.piece.replace(Sha256::new()).ok_or_else(not_hashed)?;
        let actual = hex(&piece.finalize());
        if actual.eq_ignore_ascii_case(sha256) {
            self.kept = self.bytes.len();
            self.kept_hasher.clone_from(&self.hasher);
            return Ok(());
        }
        self.bytes.truncate(self.kept);
        self.hasher.clone_from(&self.kept_hasher);
        Err(mismatch(&actual, sha256))
    }

    pub fn received(&self) -> usize {
        self.bytes.len()
    }

    /// Check the whole file arrived and, when hashed, that its sha256 is `sha256` (hex).
    pub fn verify(&self, sha256: &str) -> Result<()> {
        self.check_complete()?;
        let hasher = self.hasher.as_ref().ok_or_else(not_hashed)?;
        let actual = hex(&hasher.clone().finalize());
        if !actual.eq_ignore_ascii_case(sha256) {
            return Err(mismatch(&actual, sha256));
        }
        Ok(())
    }

    fn check_complete(&self) -> Result<()> {
        if self.bytes.len() != self.expected {
            return Err(Error::Invalid(format!(
                "the file is cut short: {} of {} bytes arrived; download it again",
                self.bytes.len(),
                self.expected
            )));
        }
        Ok(())
    }

    /// The assembled file, once complete.
    pub fn into_bytes(self) -> Result<Vec<u8>> {
        self.check_complete()?;
        Ok(self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_assemble_and_hash_as_one_file() {
        let mut incoming = Incoming::new(6, true);
        incoming.push(b"abc").unwrap();
        assert!(incoming.verify("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad").is_err());
        incoming.push(b"def").unwrap();
        incoming.verify("bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721").unwrap();
        let err = incoming.verify("00").unwrap_err().to_string();
        assert!(err.contains("integrity check failed"), "{err}");
        assert_eq!(incoming.into_bytes().unwrap(), b"abcdef");
    }

    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const DEF: &str = "cb8379ac2098aa165029e3938a51da0bcecfc008fd6795f401178647f96c5b34";
    const ABCDEF: &str = "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721";

    #[test]
    fn each_piece_is_checked_on_its_own_and_the_whole_file_too() {
        let mut incoming = Incoming::new(6, true);
        incoming.push(b"ab").unwrap();
        incoming.push(b"c").unwrap();
        incoming.end_piece(ABC).unwrap();
        incoming.push(b"def").unwrap();
        incoming.end_piece(DEF).unwrap();
        incoming.verify(ABCDEF).unwrap();
        assert_eq!(incoming.into_bytes().unwrap(), b"abcdef");
    }

    #[test]
    fn a_bad_piece_is_dropped_and_can_be_pushed_again() {
        let mut incoming = Incoming::new(6, true);
        incoming.push(b"abc").unwrap();
        incoming.end_piece(ABC).unwrap();
        incoming.push(b"xyz").unwrap();
        let err = incoming.end_piece(DEF).unwrap_err().to_string();
        assert!(err.contains("integrity check failed") && err.contains("cb8379ac2098"), "{err}");
        assert_eq!(incoming.received(), 3, "only the bad piece's bytes are dropped");
        incoming.push(b"def").unwrap();
        incoming.end_piece(DEF).unwrap();
        incoming.verify(ABCDEF).unwrap();
    }

    #[test]
    fn pieces_of_unhashed_bytes_cannot_be_checked() {
        let mut incoming = Incoming::new(3, false);
        incoming.push(b"abc").unwrap();
        assert!(incoming.end_piece(ABC).unwrap_err().to_string().contains("not hashed"));
    }

    #[test]
    fn too_many_or_too_few_bytes_are_named() {
        let mut incoming = Incoming::new(2, false);
        assert!(incoming.push(b"abc").unwrap_err().to_string().contains("longer than the 2 bytes"));
        incoming.push(b"a").unwrap();
        assert!(incoming.into_bytes().unwrap_err().to_string().contains("1 of 2 bytes"));
    }
}
