//! A reader for the safetensors format (an 8-byte little-endian header length, a JSON header of
//! `name -> {dtype, shape, data_offsets}`, then the raw little-endian data), F32 tensors only.

use crate::EncoderError;
use serde_json::Value;

/// The parsed header and the data it points into.
pub(crate) struct Tensors<'a> {
    header: serde_json::Map<String, Value>,
    data: &'a [u8],
}

impl<'a> Tensors<'a> {
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, EncoderError> {
        let bad = |m: &str| EncoderError::Header(m.to_string());
        let len = bytes.get(..8).ok_or_else(|| bad("shorter than 8 bytes"))?;
        let len = u64::from_le_bytes(len.try_into().map_err(|_| bad("length"))?) as usize;
        let head = bytes.get(8..8usize.saturating_add(len)).ok_or_else(|| bad("header past the end"))?;
        let header: Value = serde_json::from_slice(head).map_err(|e| EncoderError::Header(e.to_string()))?;
        let Value::Object(header) = header else { return Err(bad("not a JSON object")) };
        Ok(Self { header, data: &bytes[8 + len..] })
    }

    /// The tensor `name` as f32, checked to be F32 of shape `expected`.
    pub(crate) fn f32(&self, name: &str, expected: &[usize]) -> Result<Vec<f32>, EncoderError> {
        let entry = self.header.get(name).ok_or_else(|| EncoderError::Missing(name.to_string()))?;
        let dtype = entry["dtype"].as_str().unwrap_or("?").to_string();
        let shape: Vec<usize> = entry["shape"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_u64().map(|v| v as usize)).collect())
            .unwrap_or_default();
        let offsets: Vec<usize> = entry["data_offsets"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_u64().map(|v| v as usize)).collect())
            .unwrap_or_default();
        let mismatch = || EncoderError::Shape {
            name: name.to_string(),
            dtype: dtype.clone(),
            shape: shape.clone(),
            expected: expected.to_vec(),
        };
        if dtype != "F32" || shape != expected || offsets.len() != 2 {
            return Err(mismatch());
        }
        let raw = self.data.get(offsets[0]..offsets[1]).ok_or_else(mismatch)?;
        if raw.len() != expected.iter().product::<usize>() * 4 {
            return Err(mismatch());
        }
        Ok(raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }
}
