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

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut b = (header.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn reads_f32_and_types_each_mismatch() {
        let data: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let bytes = file(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, &data);
        let t = Tensors::parse(&bytes).expect("parse");
        assert_eq!(t.f32("a", &[2]).expect("a"), vec![1.5, -2.0]);
        assert!(matches!(t.f32("a", &[3]), Err(EncoderError::Shape { .. })));
        assert!(matches!(t.f32("i", &[1]), Err(EncoderError::Shape { .. })));
        assert!(matches!(t.f32("b", &[2]), Err(EncoderError::Missing(_))));
        assert!(matches!(Tensors::parse(&bytes[..4]), Err(EncoderError::Header(_))));
        assert!(matches!(Tensors::parse(&file("[1]", &[])), Err(EncoderError::Header(_))));
    }
}
