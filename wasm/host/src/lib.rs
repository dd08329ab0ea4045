//! The core for a wasm host (the site build runs it with wasmtime, `python/tabtwin/host`): a C ABI
//! of plain numbers, no wasm-bindgen and no WASI. Translation only; every rule is in tabtwin-core.
//!
//! The host copies its input into memory from `alloc`, calls a function, which answers 0 with a
//! reply (JSON or bytes) or 1 with an error sentence, and reads the reply at `reply_ptr` for
//! `reply_len` bytes. A GGUF handed over this way is owned by the core from then on (no copy);
//! other inputs stay the host's to `dealloc`.

use std::cell::RefCell;

use tabtwin_core::facts::{Facts, RUNS};
use tabtwin_core::gguf::GgufFile;
use tabtwin_core::grounding::embedder::Embedder;
use tabtwin_core::{arch, Error};

thread_local! {
    static REPLY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn answer(result: Result<Vec<u8>, Error>) -> u32 {
    let (status, bytes) = match result {
        Ok(bytes) => (0, bytes),
        Err(err) => (1, err.to_string().into_bytes()),
    };
    REPLY.with(|r| *r.borrow_mut() = bytes);
    status
}

/// `len` bytes the host may fill.
#[no_mangle]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut buffer = Vec::<u8>::with_capacity(len);
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr
}

/// # Safety
/// `ptr` and `len` come from one `alloc` not yet handed to the core or freed.
#[no_mangle]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: usize) {
    drop(Vec::from_raw_parts(ptr, 0, len));
}

/// # Safety
/// As `dealloc`; the buffer is the core's afterwards.
unsafe fn owned(ptr: *mut u8, len: usize) -> Vec<u8> {
    Vec::from_raw_parts(ptr, len, len)
}

/// # Safety
/// `ptr` points at `len` initialized bytes from `alloc`.
unsafe fn borrowed<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    std::slice::from_raw_parts(ptr, len)
}

#[no_mangle]
pub extern "C" fn reply_ptr() -> *const u8 {
    REPLY.with(|r| r.borrow().as_ptr())
}

#[no_mangle]
pub extern "C" fn reply_len() -> usize {
    REPLY.with(|r| r.borrow().len())
}

/// The facts of a GGUF file (its whole bytes, taken over) as JSON (`tabtwin_core::facts`).
///
/// # Safety
/// As `owned`.
#[no_mangle]
pub unsafe extern "C" fn inspect(ptr: *mut u8, len: usize) -> u32 {
    let bytes = owned(ptr, len);
    answer(GgufFile::parse(bytes).and_then(|file| Facts::read(&file)).map(|facts| json(&facts)))
}

/// The architectures the core runs: `{"chat": [...], "runs": [...]}`.
#[no_mangle]
pub extern "C" fn architectures() -> u32 {
    answer(Ok(json(&serde_json::json!({ "chat": arch::SUPPORTED, "runs": RUNS }))))
}

/// Each text of a JSON list embedded by the sentence embedder in the GGUF at `model` (taken
/// over): the unit vectors one after another, little-endian f32.
///
/// # Safety
/// As `owned` for the model, `borrowed` for the texts.
#[no_mangle]
pub unsafe extern "C" fn embed(model: *mut u8, model_len: usize, texts: *const u8, texts_len: usize) -> u32 {
    let bytes = owned(model, model_len);
    let texts = borrowed(texts, texts_len);
    answer((|| {
        let texts: Vec<String> =
            serde_json::from_slice(texts).map_err(|e| Error::Invalid(format!("texts: not a JSON list ({e})")))?;
        let embedder = Embedder::from_bytes(bytes)?;
        let mut out = Vec::with_capacity(texts.len() * embedder.dim() * 4);
        for text in &texts {
            out.extend(embedder.embed(text)?.iter().flat_map(|v| v.to_le_bytes()));
        }
        Ok(out)
    })())
}

fn json(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("core types always serialize")
}
