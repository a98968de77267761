//! Entropy coding of a compact model's sparse rows: an adaptive range coder with contexts.
//!
//! A [`super::compact::Compact`] stores, per feature bucket with weights, a row of
//! `(label, code)` entries. Written as varints and left to gzip, those streams cost about 20 %
//! more than their information: gzip's Huffman codes spend whole bits per byte and know
//! nothing of how one entry predicts the next. Here they are range-coded (Martin, "Range
//! encoding: an algorithm for removing redundancy from a digitised message", 1979; the
//! carry handling of LZMA's range encoder, Pavlov) under adaptive frequency tables, each in a
//! context that the decoder knows before the symbol:
//!
//! - the bucket gap from the row before: its bit length (an adaptive table over 0..=32), then
//!   the bits below its leading one as they are (uniform: 16 at a time);
//! - the row's labels, ascending: each as its distance from the previous one (the first from
//!   −1), 0 ending the row, in the context of the previous label and of how many came before
//!   it (capped at [`POSITION_CONTEXTS`]);
//! - then the row's weight codes, in the context of the row's length (capped at
//!   [`LENGTH_CONTEXTS`] − 1) and of the sign of the code before;
//! - last, for a model trained with idf weighting, the row's idf code (one of
//!   [`IDF_LEVELS`]), in the context of the row's length.
//!
//! On the demo store bot's English part (16,045 rows, 101,090 entries) these streams took
//! 121.8 KB as gzip -9 varints (buckets 22.3, row lengths 8.8, label gaps 45.2, codes 45.5)
//! and take about 98.5 KB coded (an estimate from the tables' code lengths: buckets 19.1,
//! labels 41.4, codes 38.4); the contexts and the adaptation (step 32, counts halved past
//! 2^16) were chosen on that part's streams by their coded size alone, which no accuracy
//! depends on. Coding is lossless: a decoded model scores exactly as the one encoded.
//!
//! The coder is the hundred lines below rather than a crate. The `arithmetic-coding` crate (0.5, with
//! `bitstream-io`) was tried first: it coded as small, but its decoder works a bit at a time,
//! and loading the demo's whole model in Chromium went from 23.4 to 94.8 ms (p50,
//! `make bench-browser`), the demo's first answer from 413 to 457 ms, and it added 2.3 KB of
//! gzip to the runtime wasm.
//!
//! What sets the decoder's speed (CLINC150's model: 17.7 ms natively, best of 15): the two
//! divisions each symbol makes on its serial path, not the search of the tables. Two faster
//! searches were measured and left out: block sums over each table (17.4 → 18.6 ms) and
//! walking each table from where its likely symbols sit (codes from zero, a row's first label
//! from the middle; 17.7 → 17.2 ms), though the walks average 18 steps per label and code.
//! Only a coder without divisions (binary decisions, as LZMA's) would decode much faster.

use std::ops::Range;

use super::NluError;

/// Inverse document frequencies are stored as one of this many codes per row, evenly spaced
/// from 1 (code 0) to the model's largest idf (the last code; `nlu::compact`).
pub(crate) const IDF_LEVELS: u8 = 32;

/// Weight-code contexts: the row's length, capped at this minus one, times the sign of the
/// row's previous code (none, negative, positive).
const LENGTH_CONTEXTS: usize = 12;

/// Label contexts: the previous label, times how many labels came before in the row (1 to
/// this many; more count as this many).
const POSITION_CONTEXTS: usize = 4;

/// Added to a symbol's count each time it is coded.
const STEP: u32 = 32;

/// When a context's total count passes this, its counts are halved (older rows weigh less).
const LIMIT: u32 = 1 << 16;

/// Raw bits are coded in chunks of at most this many (one uniform symbol each).
const CHUNK_BITS: u32 = 16;

/// The rows of a compact model as the coder sees them: `buckets` ascending, row `i`'s
/// entries at `row_start[i]..row_start[i + 1]` of `labels` (ascending within a row, each
/// below the label count) and `codes` (each in `-levels..=levels`, not zero).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Rows {
    pub(crate) buckets: Vec<u32>,
    pub(crate) row_start: Vec<u32>,
    pub(crate) labels: Vec<u16>,
    pub(crate) codes: Vec<i8>,
    /// One idf code per row (`0..IDF_LEVELS`), or none at all for a model without idf.
    pub(crate) idf: Vec<u8>,
}

/// One adaptive frequency table over `0..counts.len()`.
#[derive(Debug, Clone)]
struct Table {
    counts: Vec<u32>,
    total: u32,
}

impl Table {
    fn new(symbols: usize) -> Table {
        Table { counts: vec![1; symbols], total: symbols as u32 }
    }

    fn range(&self, symbol: usize) -> Range<u32> {
        let low: u32 = self.counts[..symbol].iter().sum();
        low..low + self.counts[symbol]
    }

    /// The symbol whose interval holds `value` (below the total), and its interval's start.
    fn find(&self, value: u32) -> (usize, u32) {
        let mut low = 0u32;
        for (s, &c) in self.counts.iter().enumerate() {
            if value < low + c {
                return (s, low);
            }
            low += c;
        }
        let last = self.counts.len() - 1;
        (last, low - self.counts[last])
    }

    fn update(&mut self, symbol: usize) {
        self.counts[symbol] += STEP;
        self.total += STEP;
        if self.total > LIMIT {
            self.total = 0;
            for c in &mut self.counts {
                *c = c.div_ceil(2);
                self.total += *c;
            }
        }
    }
}

/// The range coder keeps its interval's width at or above this between symbols, so a table's
/// total (at most [`LIMIT`], or 2^[`CHUNK_BITS`] for raw bits) leaves at least 2^8 steps per
/// count.
const TOP: u32 = 1 << 24;

/// Range encoder (carry propagated through `cache`, as LZMA's does).
struct RangeEncoder {
    low: u64,
    range: u32,
    cache: u8,
    pending: u64,
    out: Vec<u8>,
}

impl RangeEncoder {
    fn new() -> RangeEncoder {
        RangeEncoder { low: 0, range: u32::MAX, cache: 0, pending: 1, out: Vec::new() }
    }

    /// Codes the interval `low..low + size` of `total` (`total` ≤ 2^16, `size` ≥ 1).
    fn put(&mut self, low: u32, size: u32, total: u32) {
        let r = self.range / total;
        self.low += u64::from(r) * u64::from(low);
        self.range = r * size;
        while self.range < TOP {
            self.range <<= 8;
            self.shift_low();
        }
    }

    fn shift_low(&mut self) {
        if self.low < 0xFF00_0000 || self.low >= 1 << 32 {
            let carry = (self.low >> 32) as u8;
            let mut byte = self.cache;
            loop {
                self.out.push(byte.wrapping_add(carry));
                byte = 0xFF;
                self.pending -= 1;
                if self.pending == 0 {
                    break;
                }
            }
            self.cache = (self.low >> 24) as u8;
        }
        self.pending += 1;
        self.low = (self.low & 0x00FF_FFFF) << 8;
    }

    fn finish(mut self) -> Vec<u8> {
        for _ in 0..5 {
            self.shift_low();
        }
        // The first byte is always the initial cache, zero.
        self.out.remove(0);
        self.out
    }
}

/// Range decoder over `bytes` (past their end it reads zeros).
struct RangeDecoder<'a> {
    code: u32,
    range: u32,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> RangeDecoder<'a> {
    fn new(bytes: &'a [u8]) -> RangeDecoder<'a> {
        let mut d = RangeDecoder { code: 0, range: u32::MAX, bytes, at: 0 };
        for _ in 0..4 {
            d.code = (d.code << 8) | u32::from(d.next_byte());
        }
        d
    }

    fn next_byte(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    /// Where the next symbol falls in `0..total`, then (through [`RangeDecoder::take`]) which
    /// interval it is.
    fn peek(&mut self, total: u32) -> (u32, u32) {
        let r = self.range / total;
        (r, (self.code / r).min(total - 1))
    }

    fn take(&mut self, r: u32, low: u32, size: u32) {
        self.code = self.code.wrapping_sub(r * low);
        self.range = r * size;
        while self.range < TOP {
            self.range <<= 8;
            self.code = (self.code << 8) | u32::from(self.next_byte());
        }
    }
}

/// What the next symbol is: which table codes it, or raw bits.
#[derive(Debug, Clone, Copy)]
enum Next {
    Table(usize),
    Bits(u32),
}

/// Every context's table.
struct Contexts {
    tables: Vec<Table>,
}

impl Contexts {
    fn put(&mut self, encoder: &mut RangeEncoder, next: Next, symbol: u32) {
        match next {
            Next::Table(t) => {
                let range = self.tables[t].range(symbol as usize);
                encoder.put(range.start, range.end - range.start, self.tables[t].total);
                self.tables[t].update(symbol as usize);
            }
            Next::Bits(n) => encoder.put(symbol, 1, 1 << n),
        }
    }

    fn get(&mut self, decoder: &mut RangeDecoder<'_>, next: Next) -> u32 {
        match next {
            Next::Table(t) => {
                let table = &mut self.tables[t];
                let (r, value) = decoder.peek(table.total);
                let (symbol, low) = table.find(value);
                decoder.take(r, low, table.counts[symbol]);
                table.update(symbol);
                symbol as u32
            }
            Next::Bits(n) => {
                let (r, value) = decoder.peek(1 << n);
                decoder.take(r, value, 1);
                value
            }
        }
    }
}

/// Where each context's table sits in [`Contexts::tables`] for a model of `n_labels` labels
/// and codes in `-levels..=levels`.
struct Layout {
    n_labels: usize,
    levels: usize,
}

impl Layout {
    const GAP_BITS: usize = 0;

    /// Label contexts: one for a row's start, then [`POSITION_CONTEXTS`] per previous label;
    /// past 255 labels only the first two, so the tables stay small for very large intent sets.
    fn label_contexts(&self) -> usize {
        if self.n_labels <= 255 {
            1 + self.n_labels * POSITION_CONTEXTS
        } else {
            2
        }
    }

    /// The table of the label after `previous`, which is the row's `before`-th (0 for the
    /// first).
    fn label(&self, previous: Option<u16>, before: usize) -> usize {
        1 + match previous {
            None => 0,
            Some(_) if self.n_labels > 255 => 1,
            Some(p) => 1 + usize::from(p) * POSITION_CONTEXTS + before.clamp(1, POSITION_CONTEXTS) - 1,
        }
    }

    /// The table of a code in a row of `row_len` entries after a code `previous` (0: none).
    fn code(&self, row_len: usize, previous: i8) -> usize {
        let sign = match previous {
            0 => 0,
            p if p < 0 => 1,
            _ => 2,
        };
        1 + self.label_contexts() + row_len.min(LENGTH_CONTEXTS - 1) * 3 + sign
    }

    /// The table of a row's idf code, in the context of the row's length (capped at
    /// [`LENGTH_CONTEXTS`] − 1): a feature on many labels' rows is a common one.
    fn idf(&self, row_len: usize) -> usize {
        1 + self.label_contexts() + LENGTH_CONTEXTS * 3 + row_len.min(LENGTH_CONTEXTS - 1)
    }

    fn tables(&self) -> Vec<Table> {
        let mut t = vec![Table::new(33)];
        t.extend((0..self.label_contexts()).map(|_| Table::new(self.n_labels + 1)));
        t.extend((0..LENGTH_CONTEXTS * 3).map(|_| Table::new(2 * self.levels + 1)));
        t.extend((0..LENGTH_CONTEXTS).map(|_| Table::new(usize::from(IDF_LEVELS))));
        t
    }
}

/// Codes `rows` (see [`Rows`]) of a model with `n_labels` labels and codes in
/// `-levels..=levels`; returns the bytes [`decode`] reads back.
pub(crate) fn encode(rows: &Rows, n_labels: usize, levels: i8) -> Vec<u8> {
    let layout = Layout { n_labels, levels: levels.unsigned_abs() as usize };
    let mut contexts = Contexts { tables: layout.tables() };
    let mut encoder = RangeEncoder::new();
    let mut put = |what: Next, symbol: u32| contexts.put(&mut encoder, what, symbol);
    let mut previous_bucket = 0u32;
    for (i, &bucket) in rows.buckets.iter().enumerate() {
        let gap = bucket - previous_bucket;
        previous_bucket = bucket;
        let bits = 32 - gap.leading_zeros();
        put(Next::Table(Layout::GAP_BITS), bits);
        put_raw(&mut put, gap, bits.saturating_sub(1));
        let entries = rows.row_start[i] as usize..rows.row_start[i + 1] as usize;
        let mut previous = None;
        for (before, &label) in rows.labels[entries.clone()].iter().enumerate() {
            let from = previous.map_or(-1, i32::from);
            put(Next::Table(layout.label(previous, before)), (i32::from(label) - from) as u32);
            previous = Some(label);
        }
        put(Next::Table(layout.label(previous, entries.len())), 0);
        let mut previous = 0;
        for &code in &rows.codes[entries.clone()] {
            put(Next::Table(layout.code(entries.len(), previous)), (i32::from(code) + i32::from(levels)) as u32);
            previous = code;
        }
        if let Some(&code) = rows.idf.get(i) {
            put(Next::Table(layout.idf(entries.len())), u32::from(code.min(IDF_LEVELS - 1)));
        }
    }
    encoder.finish()
}

/// The low `n` bits of `value`, `CHUNK_BITS` at a time from the top.
fn put_raw(put: &mut impl FnMut(Next, u32), value: u32, mut n: u32) {
    while n > 0 {
        let take = n.min(CHUNK_BITS);
        n -= take;
        put(Next::Bits(take), (value >> n) & ((1 << take) - 1));
    }
}

/// Decodes `n_rows` rows coded by [`encode`] for a model of `n_labels` labels and codes in
/// `-levels..=levels`; with `has_idf`, each row's idf code too.
///
/// # Errors
/// [`NluError::Corrupt`] when the bytes do not decode to valid rows (a label past the label
/// count, buckets that overflow or do not increase). Garbage decodes to some symbols; these
/// checks keep them from becoming a model.
pub(crate) fn decode(bytes: &[u8], n_rows: usize, n_labels: usize, levels: i8, has_idf: bool) -> Result<Rows, NluError> {
    let corrupt = |what: &str| NluError::Corrupt(what.to_string());
    let layout = Layout { n_labels, levels: levels.unsigned_abs() as usize };
    let mut contexts = Contexts { tables: layout.tables() };
    let mut decoder = RangeDecoder::new(bytes);
    let mut get = |what: Next| -> Result<u32, NluError> {
        let symbol = contexts.get(&mut decoder, what);
        // Past the end the decoder reads zeros; a few bytes of slack cover its lookahead.
        if decoder.at > bytes.len() + 8 {
            return Err(corrupt("coded rows end early"));
        }
        Ok(symbol)
    };
    // Reserved up to what the bytes could hold, so a damaged count reserves no more.
    let mut rows = Rows { row_start: vec![0], ..Rows::default() };
    rows.buckets.reserve(n_rows.min(bytes.len() * 8));
    let mut bucket = 0u32;
    for i in 0..n_rows {
        let bits = get(Next::Table(Layout::GAP_BITS))?;
        let mut gap = u32::from(bits > 0);
        let mut n = bits.saturating_sub(1);
        while n > 0 {
            let take = n.min(CHUNK_BITS);
            n -= take;
            gap = (gap << take) | get(Next::Bits(take))?;
        }
        if i > 0 && gap == 0 {
            return Err(corrupt("feature buckets are not increasing"));
        }
        bucket = bucket.checked_add(gap).ok_or_else(|| corrupt("feature bucket overflows"))?;
        rows.buckets.push(bucket);
        let start = rows.labels.len();
        let mut previous: Option<u16> = None;
        loop {
            let step = get(Next::Table(layout.label(previous, rows.labels.len() - start)))?;
            if step == 0 {
                break;
            }
            let label = previous.map_or(-1, i64::from) + i64::from(step);
            if label >= n_labels as i64 {
                return Err(corrupt("label out of range"));
            }
            previous = Some(label as u16);
            rows.labels.push(label as u16);
        }
        let len = rows.labels.len() - start;
        let mut previous = 0;
        for _ in 0..len {
            let code = get(Next::Table(layout.code(len, previous)))? as i32 - i32::from(levels);
            if code == 0 {
                return Err(corrupt("a stored weight code is zero"));
            }
            previous = code as i8;
            rows.codes.push(previous);
        }
        if has_idf {
            rows.idf.push(get(Next::Table(layout.idf(len)))? as u8);
        }
        rows.row_start.push(rows.labels.len() as u32);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Rows {
        Rows {
            buckets: vec![0, 7, 900, 1 << 21, (1 << 31) + 5, u32::MAX],
            row_start: vec![0, 2, 3, 6, 6, 7, 9],
            labels: vec![0, 5, 3, 0, 1, 7, 2, 6, 7],
            codes: vec![1, -15, 15, -3, 4, 9, -1, 2, -7],
            idf: Vec::new(),
        }
    }

    #[test]
    fn decodes_what_it_encoded() {
        let rows = sample();
        let bytes = encode(&rows, 8, 15);
        assert_eq!(decode(&bytes, 6, 8, 15, false).unwrap(), rows);
        let none = encode(&Rows { row_start: vec![0], ..Rows::default() }, 8, 15);
        assert_eq!(decode(&none, 0, 8, 15, false).unwrap(), Rows { row_start: vec![0], ..Rows::default() });
        // With an idf code per row.
        let rows = Rows { idf: vec![0, 31, 5, 5, 30, 12], ..sample() };
        let bytes = encode(&rows, 8, 15);
        assert_eq!(decode(&bytes, 6, 8, 15, true).unwrap(), rows);
    }

    #[test]
    fn repeated_structure_codes_small() {
        // 2,000 rows whose gaps, labels and codes repeat: adaptation learns them, so the coded
        // size falls far below the 3 bytes per entry of the raw streams.
        let mut rows = Rows { row_start: vec![0], ..Rows::default() };
        for i in 0..2000u32 {
            rows.buckets.push(i * 300 + 1);
            rows.labels.extend([1, 4]);
            rows.codes.extend([3, -2]);
            rows.row_start.push(rows.labels.len() as u32);
        }
        let bytes = encode(&rows, 48, 15);
        assert!(bytes.len() < 2000 * 2, "{} bytes", bytes.len());
        assert_eq!(decode(&bytes, 2000, 48, 15, false).unwrap(), rows);
    }

    #[test]
    fn damaged_bytes_are_an_error_or_other_rows_never_a_panic() {
        let rows = sample();
        let bytes = encode(&rows, 8, 15);
        for i in 0..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[i] ^= flip;
                if let Ok(back) = decode(&bad, 6, 8, 15, false) {
                    assert!(back.labels.iter().all(|&l| l < 8));
                }
            }
        }
        // Too few bytes for six rows: the padding decodes as zero-gap rows, which are refused.
        assert!(matches!(decode(&[], 6, 8, 15, false), Err(NluError::Corrupt(_))));
        assert!(matches!(decode(&bytes, 7, 8, 15, false), Err(NluError::Corrupt(_))), "a row more than was coded");
    }
}
