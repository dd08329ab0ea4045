//! Hostile GGUF headers: each is refused with a sentence naming the field, and a mutation fuzzer
//! over a valid file finds no input that panics (a panic in the browser is a trap that kills the
//! worker without a word).

use super::GgufFile;
use crate::test_rng::{fuzz_iterations, Rng};

const F32: u32 = 0;
const U32: u32 = 4;
const STRING: u32 = 8;
const ARRAY: u32 = 9;

/// A GGUF v3 file: metadata entries (key, type, encoded value), tensors (name, dims, ggml type,
/// offset), then `data` at the 32-byte-aligned start of the tensor data.
fn file(kvs: &[(&str, u32, Vec<u8>)], tensors: &[(&str, &[u64], u32, u64)], data: &[u8]) -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    out.extend(3u32.to_le_bytes());
    out.extend((tensors.len() as u64).to_le_bytes());
    out.extend((kvs.len() as u64).to_le_bytes());
    for (key, kind, value) in kvs {
        out.extend(string(key));
        out.extend(kind.to_le_bytes());
        out.extend(value);
    }
    for (name, dims, dtype, offset) in tensors {
        out.extend(string(name));
        out.extend((dims.len() as u32).to_le_bytes());
        for d in *dims {
            out.extend(d.to_le_bytes());
        }
        out.extend(dtype.to_le_bytes());
        out.extend(offset.to_le_bytes());
    }
    out.resize(out.len().div_ceil(32) * 32, 0);
    out.extend(data);
    out
}

fn string(s: &str) -> Vec<u8> {
    let mut out = (s.len() as u64).to_le_bytes().to_vec();
    out.extend(s.as_bytes());
    out
}

fn valid() -> Vec<u8> {
    let tokens = {
        let mut v = STRING.to_le_bytes().to_vec();
        v.extend(2u64.to_le_bytes());
        v.extend(string("a"));
        v.extend(string("b"));
        v
    };
    file(
        &[
            ("general.architecture", STRING, string("llama")),
            ("llama.context_length", U32, 64u32.to_le_bytes().to_vec()),
            ("tokenizer.ggml.tokens", ARRAY, tokens),
        ],
        &[("a.weight", &[4, 2], F32, 0), ("b.weight", &[8], F32, 32)],
        &[0u8; 64],
    )
}

fn refused(bytes: Vec<u8>) -> String {
    match GgufFile::parse(bytes) {
        Ok(_) => panic!("a hostile file was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_valid_file_parses() {
    let file = GgufFile::parse(valid()).unwrap();
    assert_eq!(file.content.tensor_infos.len(), 2);
}

#[test]
fn hostile_headers_are_refused_with_the_field_named() {
    let alignment = |v: u32| file(&[("general.alignment", U32, v.to_le_bytes().to_vec())], &[], &[]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"GGUF\x09\0\0\0".to_vec(), "version 9 is not supported"),
        (alignment(0), "'general.alignment': 0 is not a power of two"),
        (alignment(24), "'general.alignment': 24 is not a power of two"),
        (file(&[], &[("huge", &[1 << 33, 1 << 33], F32, 0)], &[]), "'huge': its dimensions multiply past"),
        (file(&[], &[("flat", &[1, 1, 1, 1, 1], F32, 0)], &[]), "'flat' has 5 dimensions"),
        (file(&[], &[("none", &[], F32, 0)], &[]), "'none' has 0 dimensions"),
        (file(&[], &[("x", &[8], F32, 0), ("x", &[8], F32, 32)], &[0; 64]), "tensor 'x' appears twice"),
        (file(&[], &[("x", &[8], F32, 0), ("y", &[8], F32, 16)], &[0; 64]), "'x' and 'y' overlap"),
        (file(&[], &[("x", &[8], F32, 64)], &[0; 32]), "truncated: the tensors need"),
        (file(&[("k", 99, vec![0])], &[], &[]), "'k': unknown value type 99"),
        (file(&[("k", U32, vec![1, 0, 0, 0]), ("k", U32, vec![1, 0, 0, 0])], &[], &[]), "'k' appears twice"),
    ];
    for (bytes, expected) in cases {
        let message = refused(bytes);
        assert!(message.contains(expected), "{message:?} does not say {expected:?}");
    }
}

#[test]
fn absurd_counts_and_lengths_are_refused_before_anything_is_allocated() {
    let mut counts = valid();
    counts[8..16].copy_from_slice(&(1u64 << 60).to_le_bytes()); // tensor count
    assert!(refused(counts).contains("declares 1152921504606846976 tensors"));

    let mut key = valid();
    key[24..32].copy_from_slice(&(u64::MAX - 3).to_le_bytes()); // the first key's length
    assert!(refused(key).contains("truncated: a metadata key needs"));

    let array = |count: u64| {
        let mut v = U32.to_le_bytes().to_vec();
        v.extend(count.to_le_bytes());
        file(&[("tokenizer.ggml.scores", ARRAY, v)], &[], &[])
    };
    assert!(refused(array(1 << 62)).contains("items in 'tokenizer.ggml.scores'"));
}

#[test]
fn mutated_files_never_panic() {
    let original = valid();
    let mut rng = Rng(0x7ab7_313e);
    let interesting: [u64; 7] = [0, 1, 0xff, 1 << 31, 1 << 32, 1 << 63, u64::MAX];
    for iteration in fuzz_iterations(2_000_000) {
        let mut bytes = original.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len());
            match rng.below(4) {
                0 => bytes[at] = rng.next() as u8,
                1 => {
                    let value = interesting[rng.below(interesting.len())].to_le_bytes();
                    let n = value.len().min(bytes.len() - at);
                    bytes[at..at + n].copy_from_slice(&value[..n]);
                }
                2 => bytes.truncate(at),
                _ => bytes.insert(at, rng.next() as u8),
            }
            if bytes.is_empty() {
                break;
            }
        }
        let result = std::panic::catch_unwind(|| GgufFile::parse(bytes.clone()).map(drop));
        assert!(result.is_ok(), "iteration {iteration} panicked on {} bytes: {:02x?}", bytes.len(), bytes);
    }
}
