//! The tensors of a GGUF file, looked up by name and checked for shape. Matrices in
//! a format the kernels read are views into the file's bytes (no copy); any other
//! format is converted to Q8_0 once, at load.

use std::io::Cursor;
use std::rc::Rc;

use candle_core::quantized::gguf_file::{Content, TensorInfo};
use candle_core::quantized::GgmlDType;
use candle_core::Device;

use super::formats::{quantize_q8_0, Format, BLOCK};
use super::matrix::Matrix;
use crate::error::{Error, Result};
use crate::gguf::GgufFile;

pub struct Tensors {
    content: Content,
    bytes: Rc<Vec<u8>>,
}

impl Tensors {
    pub fn new(file: GgufFile) -> Self {
        let GgufFile { mut content, bytes } = file;
        // The header's metadata (vocabulary, merges...) has been read by now; only the
        // tensor directory is needed from here on.
        content.metadata = Default::default();
        Self { content, bytes: Rc::new(bytes) }
    }

    pub fn has(&self, name: &str) -> bool {
        self.content.tensor_infos.contains_key(name)
    }

    /// The first dimension of a matrix (a vocabulary's size, say).
    pub fn rows(&self, name: &str) -> Result<usize> {
        let info = self.info(name)?;
        match info.shape.dims() {
            [rows, _] => Ok(*rows),
            dims => Err(Error::BadGguf(format!("tensor '{name}' has shape {dims:?}, expected a matrix"))),
        }
    }

    fn info(&self, name: &str) -> Result<&TensorInfo> {
        self.content
            .tensor_infos
            .get(name)
            .ok_or_else(|| Error::BadGguf(format!("the file has no tensor '{name}' this architecture needs")))
    }

    fn check_shape(name: &str, info: &TensorInfo, want: &[usize]) -> Result<()> {
        if info.shape.dims() != want {
            return Err(Error::BadGguf(format!(
                "tensor '{name}' has shape {:?}, expected {want:?} from the header",
                info.shape.dims()
            )));
        }
        Ok(())
    }

    /// A `rows` x `cols` matrix.
    pub fn matrix(&self, name: &str, rows: usize, cols: usize) -> Result<Matrix> {
        let info = self.info(name)?;
        Self::check_shape(name, info, &[rows, cols])?;
        if !cols.is_multiple_of(BLOCK) {
            return Err(Error::BadGguf(format!("tensor '{name}' has {cols} columns, not a multiple of {BLOCK}")));
        }
        let format = match info.ggml_dtype {
            GgmlDType::F32 => Some(Format::F32),
            GgmlDType::F16 => Some(Format::F16),
            GgmlDType::Q8_0 => Some(Format::Q8_0),
            GgmlDType::Q4_0 => Some(Format::Q4_0),
            _ => None,
        };
        match format {
            Some(format) => {
                let start = (self.content.tensor_data_offset + info.offset) as usize;
                Ok(Matrix::new(Rc::clone(&self.bytes), start, format, rows, cols))
            }
            None => {
                let values = self.dequantize(name, info)?;
                Ok(Matrix::new(Rc::new(quantize_q8_0(&values)), 0, Format::Q8_0, rows, cols))
            }
        }
    }

    /// A vector of `len` values (norm weights, biases), as f32.
    pub fn vector(&self, name: &str, len: usize) -> Result<Vec<f32>> {
        let info = self.info(name)?;
        Self::check_shape(name, info, &[len])?;
        self.dequantize(name, info)
    }

    /// Any tensor of `shape` (row-major, outermost first) as f32: a convolution's kernels, a
    /// table of learned positions.
    pub fn values(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let info = self.info(name)?;
        Self::check_shape(name, info, shape)?;
        self.dequantize(name, info)
    }

    pub fn opt_vector(&self, name: &str, len: usize) -> Result<Option<Vec<f32>>> {
        if self.has(name) {
            self.vector(name, len).map(Some)
        } else {
            Ok(None)
        }
    }

    fn dequantize(&self, name: &str, info: &TensorInfo) -> Result<Vec<f32>> {
        let read = || -> candle_core::Result<Vec<f32>> {
            let tensor =
                info.read(&mut Cursor::new(self.bytes.as_slice()), self.content.tensor_data_offset, &Device::Cpu)?;
            tensor.dequantize(&Device::Cpu)?.flatten_all()?.to_vec1::<f32>()
        };
        read().map_err(|e| Error::BadGguf(format!("tensor '{name}' ({:?}) unreadable: {e}", info.ggml_dtype)))
    }
}
