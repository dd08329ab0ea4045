//! A model file arriving in pieces (a download, a cache read) assembled straight
//! into the one buffer the model will use in place: the browser never holds the
//! whole file twice. When asked, it is hashed on the way in, so a download is
//! checked against the registry's sha256 without a second pass over it.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The sha256 of `bytes`, in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub struct Incoming {
    bytes: Vec<u8>,
    expected: usize,
    hasher: Option<Sha256>,
}

impl Incoming {
    /// Room for exactly `expected` bytes; `hash` when the pieces are to be checked.
    pub fn new(expected: usize, hash: bool) -> Self {
        let mut bytes = Vec::new();
        bytes.reserve_exact(expected);
        Self { bytes, expected, hasher: hash.then(Sha256::new) }
    }

    pub fn push(&mut self, piece: &[u8]) -> Result<()> {
        if self.bytes.len() + piece.len() > self.expected {
            return Err(Error::Invalid(format!(
                "the file is longer than the {} bytes the registry gives; download it again",
                self.expected
            )));
        }
        self.bytes.extend_from_slice(piece);
        if let Some(hasher) = self.hasher.as_mut() {
            hasher.update(piece);
        }
        Ok(())
    }

    pub fn received(&self) -> usize {
        self.bytes.len()
    }

    /// Check the whole file arrived and, when hashed, that its sha256 is `sha256` (hex).
    pub fn verify(&self, sha256: &str) -> Result<()> {
        self.check_complete()?;
        let hasher = self.hasher.as_ref().ok_or_else(|| Error::Invalid("these bytes were not hashed".into()))?;
        let actual = hex(&hasher.clone().finalize());
        if !actual.eq_ignore_ascii_case(sha256) {
            return Err(Error::Invalid(format!(
                "integrity check failed: sha256 {}… is not the registry's {}…; nothing was kept, try again",
                &actual[..12],
                &sha256[..sha256.len().min(12)]
            )));
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

    #[test]
    fn too_many_or_too_few_bytes_are_named() {
        let mut incoming = Incoming::new(2, false);
        assert!(incoming.push(b"abc").unwrap_err().to_string().contains("longer than the 2 bytes"));
        incoming.push(b"a").unwrap();
        assert!(incoming.into_bytes().unwrap_err().to_string().contains("1 of 2 bytes"));
    }
}
